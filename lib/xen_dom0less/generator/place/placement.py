"""Where every blob goes in RAM: what must be left alone, then each blob in turn."""

from __future__ import annotations

from ...errors import Problems
from ...units import format_size, hexaddr
from ..hostdt import HostTree
from ..model import Region, System
from ..plan import Blob, Excluded, static_regions
from . import free_ram


def excluded_regions(system: System, host: HostTree) -> list[Excluded]:
    """Everything in RAM the loader must leave alone, with the reason."""
    found = [Excluded(r.region, r.origin) for r in host.reservations]
    found += static_regions(system)
    uboot = free_ram.uboot_area(host.memory_banks, system.host.uboot_reserve)
    if uboot is not None:
        found.append(Excluded(uboot, "U-Boot (host.uboot_reserve)"))
    return found


def place_all(
    system: System, host: HostTree, excluded: list[Excluded], blobs: list[Blob], problems: Problems
) -> None:
    """Give every blob an address; the script first, at its fixed address if it has one."""
    script = blobs[0]
    space = host.memory_banks
    if system.boot.load_region is not None:
        narrowed = system.boot.load_region
        space = [
            Region(
                max(b.address, narrowed.address),
                min(b.end, narrowed.end) - max(b.address, narrowed.address),
            )
            for b in space
            if b.overlaps(narrowed)
        ]
    free = free_ram.free_regions(space, excluded)
    if system.boot.script_address is not None:
        script.address = system.boot.script_address
        if not free_ram.claim(script, free):
            problems.add(
                "boot.script_address",
                f"{hexaddr(script.address)} is not free "
                "RAM inside the load region: " + _where_taken(excluded, script.region),
            )
    for blob in blobs:
        if blob is script and system.boot.script_address is not None:
            continue
        if not free_ram.place(blob, free, system.boot.align):
            largest = max((r.size for r in free), default=0)
            staging = blob.role == "staging"  # place.compression's, no file of its own
            problems.add(
                "boot.compression" if staging else _blob_key(blob),
                f"no room to load {'the compressed files' if staging else blob.file} "
                f"({format_size(blob.span)}); the largest free "
                f"gap left is {format_size(largest)}: free RAM, "
                "widen boot.load_region or shrink the images"
                + (", or set boot.compression: none" if staging else ""),
            )
            return


def _where_taken(excluded: list[Excluded], region: Region) -> str:
    for item in excluded:
        if item.region.overlaps(region):
            return f"it overlaps {item.reason}"
    return "it lies outside RAM or the load region"


def _blob_key(blob: Blob) -> str:
    return f"{blob.role} of {', '.join(blob.users)}"
