"""Whether the guests' RAM fits beside everything loaded, once placement is done."""

from __future__ import annotations

from ...errors import Problems
from ...units import MiB, format_size
from ..hostdt import HostTree
from ..model import System
from ..plan import Blob, Excluded
from . import free_ram


def check_capacity(
    system: System, host: HostTree, excluded: list[Excluded], blobs: list[Blob], problems: Problems
) -> None:
    """Guests' RAM plus everything loaded (Xen twice: it relocates) must fit in RAM."""
    banks = host.memory_banks
    total = sum(b.size for b in banks)
    free = sum(r.size for r in free_ram.free_regions(banks, excluded))
    loaded = sum(b.span for b in blobs)
    xen = next(b for b in blobs if b.role == "xen")
    demand = 0
    for domain in system.domains:
        if not domain.static_memory:
            demand += domain.ram
        demand += domain.ram // 256 + domain.vcpus * MiB  # default P2M pool
    if system.dom0 is not None:
        demand += system.dom0.memory
    available = free - loaded - xen.span
    if demand > available:
        problems.add(
            "domains",
            f"the guests need {format_size(demand)} of RAM (with Xen's "
            f"P2M pools) but only {format_size(max(available, 0))} is "
            f"left of {format_size(total)} once the loaded images, "
            "reservations and static regions are counted: shrink a "
            "domain's memory",
        )
