"""``dom0less timeline LOG [--svg PICTURE]``: when U-Boot, Xen and each domain first spoke,
read from a serial capture of a boot."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import atomic
from ..errors import UserError
from ..timeline import picture, read, text
from . import add_command, add_svg_option


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "timeline",
        "Read a serial capture of a boot (plain, or with each line's host time stamp as "
        "grabserial -t/-T or `picocom | ts` write it) and print U-Boot, Xen and each "
        "domain's first line as a timeline, with U-Boot's reads and decompressions before "
        "Xen and, where a guest says so, when Xen first ran it. Without host stamps, Xen's "
        "own (console_timestamps=boot) date what follows Xen's start.",
    )
    parser.add_argument("log", type=Path, metavar="LOG", help="serial capture of one boot")
    add_svg_option(parser, "the timeline", "a bar each for U-Boot, Xen and every domain")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.svg is not None:
        atomic.refuse_input(args.svg, args.log, "--svg")
    try:
        capture = args.log.read_bytes().decode(errors="replace")
    except OSError as error:
        raise UserError(f"{args.log}: cannot read it: {error.strerror}") from None
    timeline = read.read(capture)
    if not timeline.events:
        raise UserError(
            f"{args.log}: no U-Boot banner, Xen line or domain output found: give the serial "
            "capture of a U-Boot/Xen boot"
        )
    if args.svg is not None and all(event.time is None for event in timeline.events):
        raise UserError(
            f"{args.log}: no milestone carries a time stamp, so --svg has nothing to draw: "
            "capture with grabserial -t or `picocom | ts`, or boot Xen with "
            "console_timestamps=boot"
        )
    print(text.table(timeline, str(args.log)), end="")
    if args.svg is not None:
        atomic.write_text(args.svg, picture.svg(timeline, f"Boot timeline of {args.log.name}"))
    return 0
