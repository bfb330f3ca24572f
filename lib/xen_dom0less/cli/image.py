"""``dom0less image OUTDIR -o IMAGE``: an SD-card image of a build, made without root."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import diskimage, manifest, outputs
from ..errors import UserError
from ..units import parse_size
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
    parser.add_argument(
        "--max-size",
        type=parse_size,
        default=diskimage.DEFAULT_MAX_SIZE,
        metavar="SIZE",
        help="refuse, before writing, an image larger than this (default 64G), e.g. 128G; "
        "an image larger than the free space is refused too",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    outdir: Path = args.outdir
    if not (outdir / outputs.MANIFEST).is_file():
        raise UserError(
            f"{outdir} is not a `dom0less build` output (no {outputs.MANIFEST}): "
            f"run `dom0less build DESCRIPTION.yaml -o {outdir}` first"
        )
    _check_output(args.output, outdir)
    files = diskimage.layout(outdir, manifest.read(outdir).boot.format)
    image = diskimage.build(files, args.output, args.partition, args.max_size)
    print(f"{image}: {image.stat().st_size // (1 << 20)} MiB, {len(files)} boot files")
    return 0


def _check_output(image: Path, outdir: Path) -> None:
    """UserError unless ``image`` names a file that can be written beside and renamed."""
    if image.is_dir():
        raise UserError(f"-o {image} is a directory: give a file name, e.g. -o {image}/sdcard.img")
    if not image.parent.is_dir():
        raise UserError(f"-o {image}: directory {image.parent} does not exist: create it first")
    if image.parent.resolve() == outdir.resolve():
        raise UserError(
            f"-o {image} is inside {outdir}, whose every file goes on the boot partition "
            "(the next image would hold this one): write it elsewhere"
        )
