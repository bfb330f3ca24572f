"""``dom0less import imagebuilder CONFIG -o FILE``: switch from ImageBuilder in one command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from .. import atomic
from ..errors import Checks, UserError
from ..generator.read.schema_check import load_schema
from ..importer import imagebuilder, shell_config
from . import add_command


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "import",
        "Read another tool's configuration and write an equivalent system description, "
        "naming every setting it could not carry over. The config is parsed, never run.",
    )
    parser.add_argument("format", choices=["imagebuilder"], help="the tool the config is for")
    parser.add_argument("config", type=Path, metavar="CONFIG", help="uboot-script-gen's -c file")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="FILE", help="description to write"
    )
    parser.add_argument(
        "-d",
        "--root",
        type=Path,
        help="uboot-script-gen's -d: the directory the config's paths are relative to "
        "(default: the config's directory)",
    )
    parser.add_argument(
        "--xen-version",
        choices=load_schema()["properties"]["xen"]["properties"]["version"]["enum"],
        default="4.20",
        help="the Xen release of the config's XEN binary (the config does not say; default 4.20)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    checks = Checks()  # the options and the config's every line, named together
    checks.run(atomic.refuse_input, args.output, args.config, "-o")
    config = checks.run(shell_config.read, args.config)
    root = args.root if args.root is not None else args.config.parent
    if not root.is_dir():
        checks.refuse(UserError(f"--root {root}: not a directory"))
    out_dir = args.output.parent
    if not out_dir.is_dir():
        checks.refuse(UserError(f"-o {args.output}: directory {out_dir} does not exist"))
    checks.raise_if_any()
    assert config is not None  # raised otherwise
    result = imagebuilder.convert(config, root, out_dir, args.xen_version)
    header = (
        f"# Imported from {args.config.name} (ImageBuilder) by `dom0less import`.\n"
        f"# xen.version {args.xen_version} is assumed: ImageBuilder's config does not say.\n"
        + "".join(f"# Not carried over: {line}\n" for line in result.dropped)
    )
    text = header + yaml.safe_dump(result.document, sort_keys=False)
    atomic.write_text(args.output, text)
    for line in result.dropped:
        print(f"not carried over: {line}", file=sys.stderr)
    print(f"{args.output}: written; check it with `dom0less check {args.output}`")
    return 0
