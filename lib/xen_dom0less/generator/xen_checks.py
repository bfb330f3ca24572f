"""Checks of the Xen the description names: its .config and its image format."""

from __future__ import annotations

from typing import Optional

from ..errors import Problems
from . import kconfig
from .images import UIMAGE
from .model import System
from .plan import Blob


def check_config(system: System, needed: dict[str, str], problems: Problems) -> None:
    """Every Kconfig option the description needs is enabled in ``xen.config``, if given."""
    path = system.xen.config
    if path is None:
        return
    if not path.is_file():
        problems.add("xen.config", f"file {path} does not exist")
        return
    for option, why in kconfig.missing(needed, kconfig.read(path)):
        problems.add(
            "xen.config",
            f"CONFIG_{option} is not enabled in {path.name} but "
            f"{why} needs it: rebuild Xen with CONFIG_{option}=y "
            "(dom0less build-xen adds it)",
        )


def check_boot_command(system: System, xen: Optional[Blob], problems: Problems) -> None:
    """``bootm`` boots a uImage and ``booti`` anything else."""
    if xen is None:
        return
    kind = xen.kind
    command = system.boot.command
    if system.boot.format == "fit":
        return  # bootm starts the FIT, whatever Xen's own format
    if command == "bootm" and kind != UIMAGE:
        problems.add(
            "boot.command", f"bootm needs Xen as a uImage but {xen.file} is {kind}: use booti"
        )
    if command == "booti" and kind == UIMAGE:
        problems.add("boot.command", f"{xen.file} is a uImage: use bootm")
