"""``dom0less build-xen``: build only the Xen hypervisor, configured for a description."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..xenbuild import build_hypervisor, debian, toolchain
from . import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "build-xen",
        "Configure Xen from its defconfig plus what the description and fragments "
        "need, check that Kconfig kept every option, and build the hypervisor.",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--source", type=Path, metavar="DIR|TARBALL", help="Xen source tree or source tarball"
    )
    where.add_argument(
        "--debian-source",
        nargs="?",
        const="",
        choices=["", debian.TRIXIE.suite],
        metavar="SUITE",
        help="use Debian's xen source package (fetched once into the cache) of this "
        f"machine's suite, or of {debian.TRIXIE.suite} (Xen 4.20) if named",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUTDIR",
        help="where xen, xen-syms, xen.efi, .config and build.log go",
    )
    parser.add_argument("--arch", choices=sorted(toolchain.TARGETS), default="arm64")
    parser.add_argument(
        "--cross-compile",
        metavar="PREFIX",
        help="cross compiler prefix (default: Debian's for --arch)",
    )
    parser.add_argument(
        "--description",
        type=Path,
        metavar="FILE",
        help="system description whose features decide the Kconfig options",
    )
    parser.add_argument(
        "--config-fragment",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="Kconfig fragment merged after the description's options (repeatable; later ones win)",
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        metavar="DIR",
        help="object directory, reused by later builds (default: OUTDIR/build)",
    )
    parser.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="parallel jobs (default: one per CPU)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.debian_source is None:
        source = args.source
    else:
        source = debian.fetch(archive=debian.TRIXIE if args.debian_source else None)
    result = build_hypervisor(
        source,
        args.output,
        arch=args.arch,
        cross_compile=args.cross_compile,
        description=args.description,
        fragments=args.config_fragment,
        jobs=args.jobs,
        build_dir=args.build_dir,
        progress=lambda line: print(line, file=sys.stderr),
    )
    print(f"Xen {result.version} built in {result.seconds:.0f} s:")
    for path in (
        result.xen,
        result.xen_efi,
        result.xen_syms,
        result.config,
        result.fragment,
        result.log,
    ):
        if path is not None:
            print(f"  {path}")
    return 0
