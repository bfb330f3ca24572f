"""``dom0less setup``: install the QEMU harness's host tools and fetch the arm64 guests.

One command makes a fresh Debian or Ubuntu machine ready to boot generated
artefacts; running it again only checks.
"""

from __future__ import annotations

import argparse

from xen_dom0less.cli import add_command

from .. import debian_inputs
from ..provision import provision

#: The one-line help ``dom0less --help`` shows.
SUMMARY = "install the host tools and fetch the arm64 guest inputs"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "setup",
        "Install the host packages the QEMU boot harness needs (as root, with "
        "apt-get) and download Debian's arm64 Xen, Linux and busybox into the "
        "cache without installing them. Safe to run again.",
        SUMMARY,
    )
    p.add_argument(
        "--xen-build",
        action="store_true",
        help="also install what `dom0less build-xen` needs for arm64 (cross "
        "compiler, make, flex, bison, dpkg-dev for Debian's Xen source)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    directory = provision(xen_build=args.xen_build)
    dtbs = debian_inputs.kernel_dtbs(debian_inputs.installed())
    print(
        f"inputs ready in {directory}; the examples' variables:\n"
        f"  export DOM0LESS_INPUTS={directory}\n  export KERNEL_DTBS={dtbs}"
    )
    return 0
