"""Xen's command line (``xen,xen-bootargs`` in /chosen): the user's, or one for the board."""

from __future__ import annotations

from ...units import format_size
from ..check import consoles
from ..hostdt import HostTree
from ..model import System


def xen_bootargs(system: System, host: HostTree) -> str:
    """Xen's command line: the user's, or console, dom0 and colouring options; then the
    scheduler and the user's extra options."""
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
            if system.dom0.llc_colors:
                parts.append(f"dom0-llc-colors={system.dom0.llc_colors}")
        llc = xen.llc_coloring
        if llc is not None:
            parts.append("llc-coloring=on")
            if llc.size:
                parts.append(f"llc-size={format_size(llc.size)}")
            if llc.ways:
                parts.append(f"llc-nr-ways={llc.ways}")
            if llc.xen_colors:
                parts.append(f"xen-llc-colors={llc.xen_colors}")
    if xen.scheduler:
        parts.append(f"sched={xen.scheduler}")
    if xen.extra_bootargs:
        parts.append(xen.extra_bootargs)
    return " ".join(parts)
