"""Check that a build was made for the machine about to run it.

Xen trusts the DTB: booted with fewer CPUs or less RAM than the DTB the
build started from, it hangs or faults far from the cause. Comparing CPU
count and RAM size first turns that into one clear sentence.
"""

from __future__ import annotations

from ..errors import UserError
from ..hostdt import HostTree
from ..units import MiB
from .machine import Machine
from .manifest import BootManifest


def check(manifest: BootManifest, machine: Machine) -> None:
    """Raise a UserError if the output's DTB describes other CPUs or RAM than ``machine``."""
    dtb = manifest.role("dtb").file
    host = HostTree(dtb.read_bytes(), str(dtb))
    cpus = len(host.cpus)
    memory = sum(bank.size for bank in host.memory_banks)
    if (cpus, memory) != (machine.smp, machine.memory_mib * MiB):
        raise UserError(
            f"{dtb} describes {cpus} CPUs and {memory // MiB} MiB but QEMU would run "
            f"--smp {machine.smp} --memory {machine.memory_mib}: give the same --smp and "
            "--memory, or rebuild from the DTB of `dom0less run-qemu --dumpdtb FILE` with "
            "these options")
