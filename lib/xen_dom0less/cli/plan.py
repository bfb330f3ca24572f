"""``dom0less plan FILE [--svg PICTURE]``: the memory map and CPU assignment as tables, and
optionally as a picture."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Union

from .. import atomic
from ..errors import UserError, warn
from ..generator import pipeline
from ..generator.facts import storage
from ..generator.place import compression
from ..generator.plan import Plan
from ..generator.render import load_time, memory_map, plan_picture
from . import add_command, add_svg_option


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "plan",
        "Validate a system description and print where every binary is loaded, "
        "what RAM is kept free and why, and which CPUs each domain may use.",
    )
    parser.add_argument("description", type=Path, metavar="FILE", help="system description (YAML)")
    add_svg_option(
        parser,
        "the plan",
        "CPUs and cpupools with their domains, each RAM bank to scale, passed-through devices",
    )
    parser.add_argument(
        "--storage",
        metavar="CLASS|RATE",
        help="also print the bytes U-Boot reads before Xen starts and when the domUs start "
        "(and with each boot.compression value, the soonest named), "
        "for boot storage sd, emmc, qspi or tftp, or a read rate such as 20MB/s",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.svg is not None:
        atomic.refuse_input(args.svg, args.description, "--svg")
    medium = _storage(args.storage) if args.storage is not None else None
    plan, files = pipeline.check_and_render(args.description)
    warn(plan.warnings)
    print(memory_map.tables(plan), end="")
    if medium is not None:
        print("\n" + load_time.table(plan, files, medium), end="")
        estimates = _by_compression(args.description, plan, files, medium)
        print("\n" + load_time.by_compression(plan, estimates, medium), end="")
    if args.svg is not None:
        atomic.write_text(args.svg, plan_picture.svg(plan))
    return 0


def _by_compression(
    description: Path, plan: Plan, files: dict[str, bytes], medium: storage.Storage
) -> dict[str, Union[float, str]]:
    """The estimate with each boot.compression value (the described one's is ``plan``'s),
    planned again with it: the compression decision runs on the real files. Nothing for a
    uefi boot, which cannot compress."""
    described = plan.system.boot.compression
    estimates: dict[str, Union[float, str]] = {
        described: load_time.domus_start(plan, files, medium)
    }
    if plan.system.boot.format == "uefi":
        return estimates
    for method in compression.METHODS:
        if method == described:
            continue
        try:
            other, other_files = pipeline.check_and_render(description, compression=method)
        except UserError as error:
            estimates[method] = error.lines[0]
        else:
            estimates[method] = load_time.domus_start(other, other_files, medium)
    return estimates


def _storage(value: str) -> storage.Storage:
    try:
        return storage.storage(value)
    except ValueError as error:
        raise UserError(str(error)) from None
