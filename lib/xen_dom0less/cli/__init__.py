"""The ``dom0less`` command: one module per subcommand, each with register() and run().

Only the chosen subcommand's module is imported, so ``dom0less build`` does
not pay for Xen-build code. Other distributions add subcommands through the
``xen_dom0less.commands`` entry points (the QEMU harness adds ``run-qemu`` and
``setup``); they are looked up only when the command is not one of ours. User
mistakes (UserError) print one line per problem (errors.report, which the Yocto
layer's tasks use too) and exit 1; anything else is a bug: traceback and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import NoReturn, Optional

from ..errors import UserError, report

#: Subcommand -> one-line summary, in --help order; the module is cli/<name with _>.py.
COMMANDS = {
    "check": "validate a system description",
    "plan": "print the memory map and CPU assignment",
    "build": "write boot.scr, xen.dtb, the manifest and the binaries",
    "build-xen": "build only the Xen hypervisor, configured for a description",
    "image": "write an SD-card image (MBR, FAT boot partition) of what build wrote",
    "import": "write a description from an ImageBuilder config",
    "timeline": "read a boot's serial capture: when U-Boot, Xen and each domain spoke",
}
#: Entry-point group of subcommands from other distributions: name -> module with SUMMARY,
#: register() and run().
PLUGIN_GROUP = "xen_dom0less.commands"
EPILOG = (
    "run-qemu and setup come with the QEMU harness, a distribution of its own: "
    "pip install ./lib/harness from the source tree (scripts/demo installs it)."
)

EXIT_OK, EXIT_BUG = 0, 2
#: Status of a command whose reader went away (``dom0less plan | head``), as if SIGPIPE ended it.
EXIT_PIPE = 128 + 13


def add_command(
    subparsers, name: str, description: str, summary: Optional[str] = None
) -> argparse.ArgumentParser:
    """A subcommand's parser, its one-line help ``summary`` or taken from COMMANDS."""
    return subparsers.add_parser(name, help=summary or COMMANDS[name], description=description)


def add_svg_option(parser: argparse.ArgumentParser, what: str, detail: str) -> None:
    """``--svg PICTURE``: the commands that can also draw what they print."""
    help_text = f"also draw {what} as an SVG: {detail}"
    parser.add_argument("--svg", type=Path, metavar="PICTURE", help=help_text)


def parser(argv: list[str]) -> argparse.ArgumentParser:
    """The full parser for the command named in ``argv``, stubs for the others."""
    top = argparse.ArgumentParser(
        prog="dom0less",
        description="Plan, validate and generate Xen dom0less boot artefacts.",
        epilog=EPILOG,
    )
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    modules = {name: f"{__name__}.{name.replace('-', '_')}" for name in COMMANDS}
    if chosen not in COMMANDS:
        modules.update(plugins())
    for name, module in modules.items():
        if name == chosen:
            importlib.import_module(module).register(sub)
        else:
            summary = COMMANDS.get(name) or importlib.import_module(module).SUMMARY
            sub.add_parser(name, help=summary)
    return top


def plugins() -> dict[str, str]:
    """Subcommands other installed distributions add: name -> module."""
    from importlib.metadata import entry_points

    found = entry_points()
    if hasattr(found, "select"):  # Python 3.10 and later
        group = found.select(group=PLUGIN_GROUP)
    else:  # 3.9: a dict of groups
        group = found.get(PLUGIN_GROUP, ())
    return {entry.name: entry.value for entry in group}


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser(argv).parse_args(argv)
    try:
        return args.run(args) or EXIT_OK
    except UserError as error:
        return report(error)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_PIPE if _stdout_reader_left() else _internal_error()
    except Exception:
        return _internal_error()


def _stdout_reader_left() -> bool:
    """Whether stdout's reader went away (``dom0less plan | head``), not some other pipe.

    The kernel reports a pipe or socket whose other end is closed as an error
    condition on our end; a terminal, file or live pipe does not have one.
    """
    import select

    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # None, or not a real file (tests)
        return False
    poller = select.poll()
    poller.register(descriptor, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def _internal_error() -> int:
    import traceback

    traceback.print_exc()
    print(
        "dom0less: internal error (a bug): please report it with the traceback above",
        file=sys.stderr,
    )
    return EXIT_BUG


def run() -> NoReturn:
    """Console entry point: :func:`main`, then exit without the interpreter's teardown.

    Freeing every module and object at exit costs about 5 ms, a tenth of a whole
    ``dom0less build``. Every file is closed by the time main() returns (with
    blocks), so only the standard streams and logging's handlers need flushing.
    """
    code = main()
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    for stream in (sys.stdout, sys.stderr):  # None when the process started with it closed
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:  # its reader left: what is still buffered has nowhere to go
            code = EXIT_PIPE
    os._exit(code)
