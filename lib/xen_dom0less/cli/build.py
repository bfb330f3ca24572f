"""``dom0less build FILE -o DIR``: write the boot artefacts."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import warn
from ..generator import pipeline
from . import add_command


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "build",
        "Validate and plan a system description, then write boot.cmd, boot.scr, "
        "xen.dtb, xen-kconfig.cfg, manifest.json and the binaries to load into "
        "DIR. DIR is replaced as a whole, only once everything is ready. "
        "SOURCE_DATE_EPOCH sets the script image's time stamp (default 0).",
    )
    parser.add_argument("description", type=Path, metavar="FILE", help="system description (YAML)")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="DIR", help="output directory"
    )
    parser.add_argument(
        "--sign-key",
        type=Path,
        metavar="KEY",
        help="sign the FIT with this RSA private key (overrides boot.signing.key; "
        "needs boot.format: fit)",
    )
    parser.add_argument(
        "--uboot-dtb",
        type=Path,
        metavar="DTB",
        help="U-Boot control DTB to receive the public key as u-boot.dtb "
        "(overrides boot.signing.uboot_dtb)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    signing = pipeline.SigningOverride(key=args.sign_key, uboot_dtb=args.uboot_dtb)
    plan = pipeline.build(args.description, args.output, signing=signing)
    warn(plan.warnings)
    print(
        f"{args.output}: {len(plan.blobs)} artefacts for Xen {plan.version}, "
        f"{len(plan.system.domains)} domU(s); boot with {plan.script.file} at "
        f"0x{plan.script.address:x}"
    )
    return 0
