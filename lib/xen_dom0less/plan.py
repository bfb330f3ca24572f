"""The validated plan: every binary with its load address, ready to render.

Produced by :mod:`planner` from a :class:`model.System`; renderers read only
this, never the raw description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from . import model
from .hostdt import HostTree
from .units import KiB

#: Room after the DTB: U-Boot grows it in place by CONFIG_SYS_FDT_PAD (12 KiB) at boot.
DTB_GROWTH = 64 * KiB
#: ``fdt resize`` amount in fdt-commands mode, for the nodes the script adds.
FDT_COMMANDS_RESIZE = 64 * KiB


@dataclass
class Blob:
    """One file U-Boot loads into RAM, shared by every module that uses it."""

    role: str  # xen, dtb, script, xsm-policy, kernel, ramdisk, device-tree
    file: str  # name in the output directory
    source: Optional[Path]  # input file; None for what we generate
    size: int  # bytes loaded
    span: int  # bytes kept free from ``address`` (image_size, room to grow)
    address: int = 0
    sha256: str = ""
    users: list[str] = field(default_factory=list)
    data: Optional[bytes] = None  # generated content (compiled .dts), written as is

    @property
    def region(self) -> model.Region:
        return model.Region(self.address, self.span)


@dataclass(frozen=True)
class Modules:
    """The blobs one domain boots from."""

    kernel: Blob
    ramdisk: Optional[Blob] = None
    device_tree: Optional[Blob] = None


@dataclass(frozen=True)
class Excluded:
    """RAM the loader must not touch, and why."""

    region: model.Region
    reason: str


@dataclass
class Plan:
    system: model.System
    host: HostTree
    blobs: list[Blob]
    xen: Blob
    dtb: Blob
    script: Blob
    xsm_policy: Optional[Blob]
    dom0: Optional[Modules]
    domains: dict[str, Modules]
    excluded: list[Excluded]
    xen_bootargs: str
    #: Kconfig option -> the description feature that needs it
    kconfig: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.system.xen.version
