"""The ``dom0less`` command: one module per subcommand, each with register() and run().

Only the chosen subcommand's module is imported, so ``dom0less build`` does
not pay for QEMU or Xen-build code. User mistakes (UserError) print one line
per problem and exit 1; anything else is a bug: traceback and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional

from ..errors import UserError

#: Subcommand -> one-line summary, in --help order; the module is cli/<name with _>.py.
COMMANDS = {
    "check": "validate a system description",
    "plan": "print the memory map and CPU assignment",
    "build": "write boot.scr, xen.dtb, the manifest and the binaries",
    "build-xen": "build only the Xen hypervisor, configured for a description",
    "setup": "install the host tools and fetch the arm64 guest inputs",
    "run-qemu": "boot what build wrote, in QEMU, through U-Boot",
}

EXIT_OK, EXIT_USER, EXIT_BUG = 0, 1, 2


def add_command(subparsers, name: str, description: str) -> argparse.ArgumentParser:
    """A subcommand's parser, its one-line help taken from COMMANDS."""
    return subparsers.add_parser(name, help=COMMANDS[name], description=description)


def parser(argv: list[str]) -> argparse.ArgumentParser:
    """The full parser for the command named in ``argv``, stubs for the others."""
    top = argparse.ArgumentParser(
        prog="dom0less",
        description="Plan, validate and generate Xen dom0less boot artefacts.")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, summary in COMMANDS.items():
        if name == chosen:
            importlib.import_module(f"{__name__}.{name.replace('-', '_')}").register(sub)
        else:
            sub.add_parser(name, help=summary)
    return top


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser(argv).parse_args(argv)
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
