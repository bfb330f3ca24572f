"""Xen's .config for one build: defconfig, the settings asked for, resolved and checked.

Kconfig silently drops a setting whose dependencies are off; checking the
resolved file turns that into an error naming the dependency to add,
before any time is spent compiling.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .. import files
from ..errors import UserError
from ..generator.facts import kconfig
from . import kdeps, wishes
from .make import Make


def configure(make: Make, wanted: Mapping[str, wishes.Wish], srcarch: str, version: str) -> None:
    """Write and resolve ``.config`` in the build directory; refuse options Kconfig dropped."""
    make("defconfig")
    path = make.build_dir / ".config"
    path.write_text(wishes.merge(path.read_text(), wanted))
    make("olddefconfig")
    check(make.xen_dir, path, wanted, srcarch, version)
    sync(make)


def check(
    xen_dir: Path, config: Path, wanted: Mapping[str, wishes.Wish], srcarch: str, version: str
) -> None:
    """Refuse a resolved ``config`` without a setting asked for, naming what to add instead.

    Also for a .config written by someone else (Yocto's do_configure, menuconfig).
    """
    try:
        resolved = kconfig.read(config)
    except files.UnusableFile as error:
        raise UserError(f"{error}: configure the build directory first") from None
    lost = wishes.dropped(wanted, resolved)
    if lost:
        known = kdeps.definitions(xen_dir, srcarch)
        raise UserError(
            [kdeps.explain(option, wanted[option], resolved, known, version) for option in lost]
        )


def sync(make: Make) -> None:
    """Kconfig's generated headers from ``.config``, before compiling."""
    # Xen's own sync deletes include/config/auto.conf first, so Kconfig sees every
    # option as changed and everything is recompiled; syncing here compares with
    # the previous build's values and keeps a rebuild incremental.
    make("syncconfig")
