"""Xen's command line (``xen,xen-bootargs`` in /chosen): the user's, or one for the board."""

from __future__ import annotations

from ...units import format_size
from ..check import consoles
from ..hostdt import HostTree
from ..model import System


def xen_bootargs(system: System, host: HostTree) -> str:
    """Xen's command line: the user's, or console and dom0 options; then colouring, the
    scheduler and the user's extra options (what the description asks for elsewhere is
    never lost to a command line of the user's)."""
    xen = system.xen
    if xen.bootargs is not None:
        parts = [xen.bootargs]
    else:
        # No bootscrub: Xen's default (idle) is the only one that scrubs domUs' RAM.
        parts = [consoles.bootargs(system, host)]
        if system.dom0 is not None:
            parts.append(
                f"dom0_mem={format_size(system.dom0.memory)} dom0_max_vcpus={system.dom0.vcpus}"
            )
    parts += colouring(system)
    if xen.scheduler:
        parts.append(f"sched={xen.scheduler}")
    if xen.extra_bootargs:
        parts.append(xen.extra_bootargs)
    return " ".join(parts)


def colouring(system: System) -> list[str]:
    """The LLC colouring options: dom0's colours, then colouring on with Xen's own."""
    parts = []
    if system.dom0 is not None and system.dom0.llc_colors:
        parts.append(f"dom0-llc-colors={system.dom0.llc_colors}")
    llc = system.xen.llc_coloring
    if llc is not None:
        parts.append("llc-coloring=on")
        if llc.size:
            parts.append(f"llc-size={format_size(llc.size)}")
        if llc.ways:
            parts.append(f"llc-nr-ways={llc.ways}")
        if llc.xen_colors:
            parts.append(f"xen-llc-colors={llc.xen_colors}")
    return parts
