"""``dom0less plan FILE``: show the memory map and CPU assignment as tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..generator import memory_map, pipeline
from . import add_command


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "plan",
        "Validate a system description and print where every binary is loaded, "
        "what RAM is kept free and why, and which CPUs each domain may use.",
    )
    parser.add_argument("description", type=Path, metavar="FILE", help="system description (YAML)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(memory_map.tables(pipeline.check(args.description)), end="")
    return 0
