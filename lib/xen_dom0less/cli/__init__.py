"""The ``dom0less`` command: one module per subcommand, each with register() and run().

User mistakes (UserError) print one line per problem and exit 1; anything
else is a bug: traceback and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional

from ..errors import UserError

#: Subcommand modules under xen_dom0less.cli, in --help order.
COMMANDS = ("check", "plan", "build")

EXIT_OK, EXIT_USER, EXIT_BUG = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="dom0less",
        description="Plan, validate and generate Xen dom0less boot artefacts.")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name.replace('-', '_')}").register(sub)
    return top


def main(argv: Optional[list[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args) or EXIT_OK
    except UserError as error:
        for line in error.problems:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        return 130
    except Exception:
        import traceback

        traceback.print_exc()
        print("dom0less: internal error (a bug): please report it with the traceback above",
              file=sys.stderr)
        return EXIT_BUG
