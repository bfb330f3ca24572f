"""``dom0less run-qemu OUTDIR``: boot what ``dom0less build`` wrote under QEMU.

Exits 0 only when every ``--expect`` text appeared on the console, so it can
gate CI as well as let a user watch their system boot.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xen_dom0less.cli import add_command
from xen_dom0less.errors import UserError

from ..machine import BOARDS, GIC_MAX_CPUS, Machine
from ..runner import boot

#: The one-line help ``dom0less --help`` shows.
SUMMARY = "boot what build wrote, in QEMU, through U-Boot"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "run-qemu",
        "Boot OUTDIR (written by `dom0less build`) in QEMU's virt machine through "
        "U-Boot, streaming the console. With --expect, exit 0 once every text "
        "appeared and 1 on a panic, a U-Boot script error or the timeout. Build "
        "with the host DTB from `dom0less run-qemu --dumpdtb FILE` and the same "
        "--smp, --gic and --memory.",
        SUMMARY,
    )
    p.add_argument("outdir", type=Path, nargs="?", metavar="OUTDIR")
    p.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="TEXT",
        help="text that must appear on the console (repeatable); ^TEXT must start a line",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="stop after S seconds (default: 120 with --expect, else run until "
        "QEMU exits or Ctrl-C)",
    )
    p.add_argument(
        "--smp",
        type=int,
        default=Machine.smp,
        metavar="N",
        help=f"virtual CPUs (default {Machine.smp})",
    )
    p.add_argument(
        "--gic",
        type=int,
        choices=sorted(GIC_MAX_CPUS),
        default=Machine.gic,
        help=f"interrupt controller version (default {Machine.gic}; the ZCU102's "
        "GIC-400 is a GICv2)",
    )
    p.add_argument(
        "--board",
        choices=BOARDS,
        default="virt",
        help="QEMU machine (default virt); zcu102 is QEMU's ZCU102 model, booted by loading "
        "Xen and every module directly (Debian has no U-Boot for it): build from Linux's "
        "zynqmp-zcu102 tree and give --gic 2 --memory 2048 (--smp up to 4)",
    )
    p.add_argument(
        "--memory",
        type=int,
        default=Machine.memory_mib,
        metavar="MIB",
        help=f"RAM in MiB (default {Machine.memory_mib})",
    )
    p.add_argument(
        "--icount",
        action="store_true",
        help="deterministic guest time (-icount shift=0,sleep=off); needs --smp 1",
    )
    p.add_argument(
        "--floor",
        action="store_true",
        help="skip U-Boot: QEMU preloads every artefact and enters Xen directly",
    )
    p.add_argument(
        "--uboot-dtb",
        type=Path,
        metavar="FILE",
        help="hand U-Boot this control DTB (e.g. one whose /signature key is required) "
        "instead of the build's u-boot.dtb or QEMU's own",
    )
    p.add_argument(
        "--uboot",
        type=Path,
        metavar="U_BOOT_BIN",
        help="boot with this u-boot.bin (qemu_arm64, e.g. built with a product's options) "
        "instead of Debian's",
    )
    p.add_argument(
        "--firmware",
        choices=("u-boot", "edk2"),
        default="u-boot",
        help="u-boot (default), or edk2 (UEFI firmware; for boot.format: uefi outputs)",
    )
    p.add_argument(
        "--disk",
        type=Path,
        metavar="IMAGE",
        help="boot from this disk image (`dom0less image OUTDIR -o IMAGE`) instead of one "
        "made from OUTDIR's files",
    )
    p.add_argument(
        "--dumpdtb",
        type=Path,
        metavar="FILE",
        help="write this machine's device tree to FILE (the host DTB to build with) and exit",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    machine = Machine(
        smp=args.smp, memory_mib=args.memory, icount=args.icount, gic=args.gic, board=args.board
    )
    if args.dumpdtb is not None:
        machine.dumpdtb(args.dumpdtb)
        print(f"wrote {args.dumpdtb}")
        return 0
    if args.outdir is None:
        raise UserError("give OUTDIR (a `dom0less build` output) or --dumpdtb FILE")
    timeout = args.timeout if args.timeout is not None or not args.expect else 120.0
    result = boot(
        args.outdir,
        args.expect,
        timeout=timeout,
        machine=machine,
        floor=args.floor,
        echo=lambda line: print(line, flush=True),
        uboot_dtb=args.uboot_dtb,
        disk=args.disk,
        firmware=args.firmware,
        uboot_bin=args.uboot,
    )
    for text, hit in result.hits.items():
        xen = f", Xen {hit.xen:.6f} s" if hit.xen is not None else ""
        print(f"dom0less: {text!r} after {hit.wall:.2f} s{xen}", file=sys.stderr)
    verdict = "ok" if result.ok else "FAILED"
    print(f"dom0less: {verdict}: {result.reason} ({result.elapsed:.1f} s)", file=sys.stderr)
    return 0 if result.ok else 1
