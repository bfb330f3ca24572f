"""``dom0less setup``: install the QEMU harness's host tools and fetch the arm64 guests.

One command makes a fresh Debian or Ubuntu machine ready to boot generated
artefacts; running it again only checks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess

from .. import hosttools
from ..errors import UserError
from ..harness import debian_inputs, example_inputs, tools
from ..xenbuild import debian, toolchain
from . import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "setup",
        "Install the host packages the QEMU boot harness needs (as root, with "
        "apt-get) and download Debian's arm64 Xen, Linux and busybox into the "
        "cache without installing them. Safe to run again.",
    )
    p.add_argument(
        "--xen-build",
        action="store_true",
        help="also install what `dom0less build-xen` needs for arm64 (cross "
        "compiler, make, flex, bison, dpkg-dev for Debian's Xen source)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if shutil.which("dpkg") is None or shutil.which("apt-get") is None:
        raise UserError(
            "dom0less setup needs a Debian or Ubuntu host (dpkg and apt-get): "
            "elsewhere install QEMU, U-Boot and the tools by hand"
        )
    missing = tools.missing_packages()
    if args.xen_build:
        missing = sorted({*missing, *xen_build_packages()})
    arm64_ready = _has_arm64()
    if missing or not arm64_ready:
        _require_root(missing, arm64_ready)
    if not arm64_ready:
        _apt(["dpkg", "--add-architecture", "arm64"])
    if missing or not arm64_ready:
        _apt(["apt-get", "update", "-q"])
    if missing:
        print(f"installing {' '.join(missing)}", flush=True)
        _apt(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing])
    directory = example_inputs.write_inputs(debian_inputs.fetch())
    print(f"inputs ready in {directory}; for the examples:\n  export DOM0LESS_INPUTS={directory}")
    return 0


def xen_build_packages() -> list[str]:
    """What building the arm64 hypervisor from Debian's source needs, and is absent."""
    programs = {
        **toolchain.HOST_TOOLS,
        **debian.FETCH_TOOLS,
        f"{toolchain.TARGETS['arm64'].cross_compile}gcc": toolchain.TARGETS[
            "arm64"
        ].compiler_package,
    }
    return hosttools.missing_packages(programs)


def _has_arm64() -> bool:
    """Whether apt can fetch arm64 packages: the native or an added architecture."""
    architectures = [
        hosttools.run(["dpkg", option], "asking dpkg for its architectures")
        for option in ("--print-architecture", "--print-foreign-architectures")
    ]
    return "arm64" in " ".join(architectures).split()


def _require_root(missing: list[str], arm64_ready: bool) -> None:
    if os.geteuid() == 0:
        return
    needs = [f"packages {' '.join(missing)}"] if missing else []
    if not arm64_ready:
        needs.append("the arm64 apt architecture")
    raise UserError(f"setup must install {' and '.join(needs)}: run `sudo dom0less setup`")


def _apt(argv: list[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    result = subprocess.run(argv, env=env, check=False)
    if result.returncode != 0:
        raise UserError(
            f"`{' '.join(argv)}` failed (exit {result.returncode}): "
            "fix the apt error above and run `dom0less setup` again"
        )
