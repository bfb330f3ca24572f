"""The board's device tree the description names, read (or compiled from .dts) and parsed."""

from __future__ import annotations

from .. import files
from ..errors import UserError
from .blobs import compile_dts
from .hostdt import MAX_DTB, HostTree
from .model import System


def load_host(system: System) -> HostTree:
    """``host.dtb`` parsed; a missing or unreadable file is a UserError naming the key."""
    path = system.host.dtb
    try:
        data = compile_dts(path) if path.suffix == ".dts" else files.read(path, MAX_DTB, "a DTB")
    except files.UnusableFile as error:
        data = str(error)
    if isinstance(data, str):
        raise UserError(f"{system.source}: host.dtb: {data}")
    return HostTree(data, str(path), memory=system.host.memory)
