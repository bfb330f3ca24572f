"""Check that a build was made for the machine about to run it.

Xen trusts the DTB: booted with fewer CPUs, less RAM or another interrupt
controller than the DTB the build started from describes, it hangs or faults
far from the cause. Comparing them first turns that into one clear sentence.
"""

from __future__ import annotations

from ..errors import UserError
from ..units import MiB
from .machine import Machine
from .manifest import BootManifest


def check(manifest: BootManifest, machine: Machine) -> None:
    """Raise a UserError if the build's board (from its manifest) is not ``machine``."""
    dtb = manifest.role("dtb").file
    board = manifest.board
    cpus, memory = board.cpus, board.memory
    if (cpus, board.gic, memory) != (machine.smp, machine.gic, machine.memory_mib * MiB):
        gic = f"GICv{board.gic}" if board.gic else "no GIC version 2 or 3"
        raise UserError(
            f"{dtb} describes {cpus} CPUs, {gic} and {memory // MiB} MiB but "
            f"QEMU would run --smp {machine.smp} --gic {machine.gic} --memory "
            f"{machine.memory_mib}: give the same options, or rebuild from the DTB of "
            "`dom0less run-qemu --dumpdtb FILE` with these options"
        )
