"""Check that a build was made for the machine about to run it.

Xen trusts the DTB: booted with fewer CPUs, less RAM or another interrupt
controller than the DTB the build started from describes, it hangs or faults
far from the cause. Comparing them first turns that into one clear sentence.
"""

from __future__ import annotations

from xen_dom0less.errors import UserError
from xen_dom0less.units import MiB

from .machine import Machine
from .manifest import BootManifest


def check(manifest: BootManifest, machine: Machine) -> None:
    """Raise a UserError if the build's board (from its manifest) is not ``machine``."""
    dtb = manifest.role("dtb").file
    board = manifest.board
    cpus, memory = board.cpus, board.memory
    if machine.board == "zcu102":
        _zcu102(manifest, machine)
        return
    if (cpus, board.gic, memory) != (machine.smp, machine.gic, machine.memory_mib * MiB):
        raise UserError(
            f"{dtb} describes {cpus} CPUs, GICv{board.gic} and {memory // MiB} MiB but "
            f"QEMU would run --smp {machine.smp} --gic {machine.gic} --memory "
            f"{machine.memory_mib}: give the same options, or rebuild from the DTB of "
            "`dom0less run-qemu --dumpdtb FILE` with these options"
        )


def _zcu102(manifest: BootManifest, machine: Machine) -> None:
    """The ZCU102 tree lists 4 CPUs and 4 GiB in two banks; QEMU starts ``--smp`` of the CPUs
    (Xen reports the others as failing to come up) and hands Xen the low bank."""
    board = manifest.board
    if board.gic != 2 or board.cpus < machine.smp:
        raise UserError(
            f"{manifest.role('dtb').file} describes {board.cpus} CPUs and GICv{board.gic}, "
            "not a ZCU102 (4 CPUs, GIC-400): build from Linux's zynqmp-zcu102 tree"
        )
