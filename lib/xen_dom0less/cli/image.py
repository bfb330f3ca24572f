"""``dom0less image OUTDIR -o IMAGE``: an SD-card image of a build, made without root."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import diskimage, outputs
from ..errors import UserError
from . import add_command


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "image",
        "Write a partitioned disk image (MBR; a FAT boot partition holding every file of "
        "OUTDIR, then one partition per --partition image) for an SD card or a virtual "
        "disk. No root needed; the same OUTDIR gives the same bytes.",
    )
    parser.add_argument("outdir", type=Path, metavar="OUTDIR", help="what `dom0less build` wrote")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="IMAGE", help="disk image to write"
    )
    parser.add_argument(
        "--partition",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a further partition's content (e.g. a root file system image; repeatable, 3 at most)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    outdir: Path = args.outdir
    if not (outdir / outputs.MANIFEST).is_file():
        raise UserError(
            f"{outdir} is not a `dom0less build` output (no {outputs.MANIFEST}): "
            f"run `dom0less build DESCRIPTION.yaml -o {outdir}` first"
        )
    files = sorted(p for p in outdir.iterdir() if p.is_file())
    image = diskimage.build(files, args.output, args.partition)
    print(f"{image}: {image.stat().st_size // (1 << 20)} MiB, {len(files)} boot files")
    return 0
