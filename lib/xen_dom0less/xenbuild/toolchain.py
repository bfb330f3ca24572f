"""Target architectures and the host tools a hypervisor build needs.

Missing tools are found before ``make`` starts, so the user gets the Debian
package to install instead of a compiler error deep in the build log.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from .. import hosttools
from ..errors import BuildError, UserError


@dataclass(frozen=True)
class Target:
    """One architecture: Xen's names for it and the usual Debian cross compiler."""

    arch: str  # XEN_TARGET_ARCH
    srcarch: str  # the directory under xen/arch/
    cross_compile: str

    @property
    def compiler_package(self) -> str:
        """The Debian package of the usual cross compiler."""
        return hosttools.PACKAGES[f"{self.cross_compile}gcc"]


TARGETS: dict[str, Target] = {
    "arm64": Target("arm64", "arm", "aarch64-linux-gnu-"),
    "arm32": Target("arm32", "arm", "arm-linux-gnueabihf-"),
}

#: Host programs Xen's build runs (Kconfig is built from flex and bison sources).
HOST_TOOLS = ("make", "gcc", "flex", "bison")


def target(arch: str) -> Target:
    if arch not in TARGETS:
        raise UserError(f"unknown architecture '{arch}': use one of {', '.join(TARGETS)}")
    return TARGETS[arch]


def check_tools(chosen: Target, cross_compile: str, environ: Mapping[str, str]) -> None:
    """Raise a BuildError naming every missing program and the package that provides it."""
    path: Optional[str] = environ.get("PATH")
    problems = [
        f"'{tool}' is not installed: install the Debian package {hosttools.PACKAGES[tool]}"
        for tool in HOST_TOOLS
        if shutil.which(tool, path=path) is None
    ]
    compiler = f"{cross_compile}gcc"
    if shutil.which(compiler, path=path) is None:
        hint = (
            f"install the Debian package {chosen.compiler_package}"
            if cross_compile == chosen.cross_compile
            else "install that toolchain or pass the prefix of one that is on PATH"
        )
        problems.append(f"cross compiler '{compiler}' is not on PATH: {hint}")
    if problems:
        raise BuildError(problems)
