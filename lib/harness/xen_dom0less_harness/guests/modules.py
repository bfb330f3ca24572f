"""The kernel's modules a guest's initramfs loads, with those they need, in load order.

Debian's kernel package is unpacked, never installed, so no ``depmod`` wrote a
``modules.dep``: the order comes from each module's own ``depends=`` (its .modinfo), the
same field depmod reads.
"""

from __future__ import annotations

import re
from pathlib import Path

DEPENDS = re.compile(rb"\0depends=([^\0]*)\0")


def ordered(kernel: Path, names: tuple[str, ...]) -> list[Path]:
    """The .ko files of ``names`` and of every module they depend on, each after those it
    needs; ``kernel`` is the package's /boot/vmlinuz-*."""
    files = {
        path.stem.replace("_", "-"): path
        for path in kernel.parent.parent.glob("lib/modules/*/kernel/**/*.ko")
    }
    loaded: list[Path] = []

    def load(name: str) -> None:
        path = files[name.replace("_", "-")]
        if path in loaded:
            return
        found = DEPENDS.search(path.read_bytes())
        for needed in found.group(1).decode().split(",") if found else ():
            if needed:
                load(needed)
        loaded.append(path)

    for name in names:
        load(name)
    return loaded
