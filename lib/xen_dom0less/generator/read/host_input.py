"""The board's device tree the description names, read (or compiled from .dts) and parsed."""

from __future__ import annotations

from ... import files
from ...errors import InputFileError, Problems
from ..hostdt import HostTree
from ..model import System
from . import dtb_check
from .blobs import compile_dts


def load_host(system: System) -> HostTree:
    """``host.dtb`` checked whole and parsed; a missing, unreadable or malformed file is an
    InputFileError naming the key and its line."""
    path = system.host.dtb
    try:
        if path.suffix == ".dts":
            data = compile_dts(path)
        else:
            data = files.read(path, dtb_check.MAX_DTB, "a DTB")
    except files.UnusableFile as error:
        data = str(error)
    if isinstance(data, bytes):
        invalid = dtb_check.problem(data)
        data = f"{path} is not a valid device tree blob: {invalid}" if invalid else data
    if isinstance(data, str):
        problems = Problems(str(system.source), InputFileError, dict(system.lines))
        problems.add("host.dtb", data)
        problems.raise_if_any()
    return HostTree(data, str(path), memory=system.host.memory)
