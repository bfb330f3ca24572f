"""First guesses of the generated DTB's and script's sizes, before they exist.

They are placed before they are rendered, and their content depends on the
addresses placement gives; the pipeline measures them once rendered and
places again with the measured size if a guess was short.
"""

from __future__ import annotations

import struct

from ...units import KiB
from ..hostdt import HostTree
from ..model import System
from ..plan import DTB_GROWTH, FDT_COMMANDS_RESIZE


def dtb_estimate(system: System, host: HostTree) -> int:
    """Room for the generated DTB: the board's plus /chosen additions plus growth."""
    per_domain = 2 * KiB + sum(len(d.cmdline) for d in system.domains) // max(
        1, len(system.domains)
    )
    extra = per_domain * (len(system.domains) + 1) + 1 * KiB * len(system.cpupools)
    extra += 512 * sum(len(d.event_channels) + len(d.shared_memory) for d in system.domains)
    commands = system.boot.device_tree == "fdt-commands"
    growth = DTB_GROWTH + (FDT_COMMANDS_RESIZE if commands else 0)
    # U-Boot edits the board's DTB as it is with fdt commands; the patched one is rendered
    # packed, so the free space a board DTB carries (QEMU's are 1 MiB) takes no room.
    board = len(host.data) if commands else used_extent(host.data)
    return board + extra + growth


def used_extent(dtb: bytes) -> int:
    """Bytes of ``dtb`` up to the end of its structure or strings block, whichever is
    later: its size without the free space after them (checked a DTB when read)."""
    struct_at, strings_at = struct.unpack_from(">II", dtb, 8)
    strings_size, struct_size = struct.unpack_from(">II", dtb, 32)
    return max(struct_at + struct_size, strings_at + strings_size)


def script_estimate(system: System) -> int:
    """Room for boot.scr: a fixed part plus each domain's loads (and fdt commands)."""
    per_domain = 4 * KiB if system.boot.device_tree == "fdt-commands" else 1 * KiB
    return 16 * KiB + per_domain * len(system.domains)
