"""``dom0less check FILE``: run the whole pipeline short of writing, and say OK."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import warn
from ..generator import pipeline
from . import add_command


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "check",
        "Validate a system description against the schema, the board's device "
        "tree, the target Xen version and its .config; plan every load address. "
        "Writes nothing. Exit 0 if it would build, 1 with one line per problem.",
    )
    parser.add_argument("description", type=Path, metavar="FILE", help="system description (YAML)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    plan = pipeline.check(args.description)
    warn(plan.warnings)
    print(
        f"{args.description}: OK: Xen {plan.version}, {len(plan.system.domains)} domU(s)"
        f"{', dom0' if plan.system.dom0 else ''}"
    )
    return 0
