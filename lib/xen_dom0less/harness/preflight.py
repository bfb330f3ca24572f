"""Check that a build was made for the machine about to run it.

Xen trusts the DTB: booted with fewer CPUs, less RAM or another interrupt
controller than the DTB the build started from describes, it hangs or faults
far from the cause. Comparing them first turns that into one clear sentence.
"""

from __future__ import annotations

from ..errors import UserError
from ..generator.hostdt import HostTree
from ..units import MiB
from .machine import Machine
from .manifest import BootManifest


def check(manifest: BootManifest, machine: Machine) -> None:
    """Raise a UserError if the output's DTB describes other CPUs, GIC or RAM than ``machine``."""
    dtb = manifest.role("dtb").file
    host = HostTree(dtb.read_bytes(), str(dtb))
    cpus = len(host.cpus)
    memory = sum(bank.size for bank in host.memory_banks)
    if (cpus, host.gic_version, memory) != (machine.smp, machine.gic, machine.memory_mib * MiB):
        gic = f"GICv{host.gic_version}" if host.gic_version else "no GIC version 2 or 3"
        raise UserError(
            f"{dtb} describes {cpus} CPUs, {gic} and {memory // MiB} MiB but "
            f"QEMU would run --smp {machine.smp} --gic {machine.gic} --memory "
            f"{machine.memory_mib}: give the same options, or rebuild from the DTB of "
            "`dom0less run-qemu --dumpdtb FILE` with these options"
        )
