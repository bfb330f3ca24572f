"""Make a fresh Debian or Ubuntu machine ready to boot generated artefacts (``dom0less setup``).

Installs the harness's host packages (and, if asked, what building Xen needs)
with apt-get, as root or through sudo for a user (nothing else runs as root), then
fetches Debian's arm64 guests and Xen 4.17 and 4.20; run again, it only checks. The
Xen release sources the feature boots build are the tests' business
(tests/conftest.py), not setup's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from xen_dom0less import hosttools
from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import debian, toolchain

from . import debian_inputs, example_inputs, progress, tools, toolstack

#: Seconds one apt-get or dpkg run may take (an install of QEMU and a cross toolchain).
APT_TIMEOUT_S = 3600.0


def provision(xen_build: bool = False) -> Path:
    """Install what is missing, fetch the guests' inputs; the inputs' directory."""
    if shutil.which("dpkg") is None or shutil.which("apt-get") is None:
        raise UserError(
            "dom0less setup needs a Debian or Ubuntu host (dpkg and apt-get): "
            "elsewhere install QEMU, U-Boot and the tools by hand"
        )
    missing = tools.missing_packages()
    if xen_build:
        missing = sorted({*missing, *xen_build_packages()})
    if missing:
        apt = as_root(["apt-get", "-q"], f"packages {' '.join(missing)}")
        sudo = " through sudo" if apt[0] == "sudo" else ""
        progress.step(f"installing {' '.join(missing)} with apt-get{sudo}")
        _apt([*apt, "update"])
        _apt([*apt, "install", "-y", "--no-install-recommends", *missing])
    found = debian_inputs.fetch()
    progress.step("writing the examples' inputs (Xen, Linux, a busybox initramfs, our guests)")
    return example_inputs.write_inputs(found)


def as_root(argv: list[str], what: str) -> list[str]:
    """``argv`` as root: itself for root, through sudo for a user (apt's environment kept)."""
    if os.geteuid() == 0:
        return argv
    if shutil.which("sudo") is None:
        raise UserError(f"setup must install {what} as root: run it as root, or install sudo")
    return ["sudo", "env", "DEBIAN_FRONTEND=noninteractive", *argv]


def xen_build_packages() -> list[str]:
    """What building the arm64 hypervisor (from Debian's source) and Xen's tools needs, and
    is absent."""
    programs = (*toolchain.HOST_TOOLS, *debian.FETCH_TOOLS, *toolstack.HOST_TOOLS)
    compiler = f"{toolchain.TARGETS['arm64'].cross_compile}gcc"
    return hosttools.missing_packages((*programs, compiler))


def _apt(argv: list[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    limit = APT_TIMEOUT_S * hosttools.timeout_scale()
    try:
        result = subprocess.run(argv, env=env, check=False, timeout=limit)
    except subprocess.TimeoutExpired:
        raise UserError(
            f"`{' '.join(argv)}` did not finish within {limit:g} s: check the mirror and "
            f"run `dom0less setup` again (a slow machine may set {hosttools.TIMEOUT_SCALE})"
        ) from None
    if result.returncode != 0:
        raise UserError(
            f"`{' '.join(argv)}` failed (exit {result.returncode}): "
            "fix the apt error above and run `dom0less setup` again"
        )
