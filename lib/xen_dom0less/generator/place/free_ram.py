"""Place blobs in RAM: first fit, aligned, around everything that is taken.

Free space is RAM (or the narrowed load region) minus reservations, static
memory, static heap, shared-memory host ranges and U-Boot's area at the top of
its RAM. Blobs are placed in order, each at the lowest aligned address where
its whole span fits, so nothing overlaps and nothing lies beyond RAM.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from ...units import align_up
from ..model import Region
from ..plan import Blob, Excluded

FOUR_GIB = 1 << 32


def uboot_area(banks: Sequence[Region], reserve: int) -> Optional[Region]:
    """Where U-Boot relocates itself: the top of its first RAM bank, below 4 GiB.

    U-Boot's RAM size is that of the first bank (fdtdec_setup_mem_size_base, or the
    firmware's ARM memory on the Raspberry Pi), and board_get_usable_ram_top keeps
    the top below 4 GiB (i.MX 8M clamps there, others wrap). On a board with RAM in
    several banks this is not the top of its RAM: 0x3b400000 on a Raspberry Pi 4.
    """
    if not banks or not reserve:
        return None
    first = min(banks, key=lambda b: b.address)
    if first.address >= FOUR_GIB:
        return None
    top = min(first.end, FOUR_GIB)
    start = max(first.address, top - reserve)
    return Region(start, top - start)


def free_regions(space: Sequence[Region], excluded: list[Excluded]) -> list[Region]:
    """``space`` with every excluded region cut out, sorted by address."""
    free = sorted(space, key=lambda r: r.address)
    for item in excluded:
        cut = item.region
        pieces: list[Region] = []
        for region in free:
            if not region.overlaps(cut):
                pieces.append(region)
                continue
            if region.address < cut.address:
                pieces.append(Region(region.address, cut.address - region.address))
            if cut.end < region.end:
                pieces.append(Region(cut.end, region.end - cut.end))
        free = pieces
    return free


def place(blob: Blob, free: list[Region], align: int) -> bool:
    """Give ``blob`` the lowest address with room where its byte ``blob.aligned_at`` is
    aligned; shrink ``free``. False if none."""
    for index, region in enumerate(free):
        start = align_up(region.address + blob.aligned_at, align) - blob.aligned_at
        if start + blob.span <= region.end:
            blob.address = start
            rest = [
                Region(region.address, start - region.address),
                Region(start + blob.span, region.end - start - blob.span),
            ]
            free[index : index + 1] = [r for r in rest if r.size > 0]
            return True
    return False


def claim(blob: Blob, free: list[Region]) -> bool:
    """Reserve ``blob`` at its fixed address; False if that space is not free."""
    wanted = blob.region
    for index, region in enumerate(free):
        if region.address <= wanted.address and wanted.end <= region.end:
            rest = [
                Region(region.address, wanted.address - region.address),
                Region(wanted.end, region.end - wanted.end),
            ]
            free[index : index + 1] = [r for r in rest if r.size > 0]
            return True
    return False
