"""Check that a build was made for the machine about to run it.

Xen trusts the DTB: booted with fewer CPUs or less RAM than the DTB the
build started from, it hangs or faults far from the cause. Comparing CPU
count and RAM size first turns that into one clear sentence.
"""

from __future__ import annotations

import fdt

from ..errors import UserError
from .machine import Machine
from .manifest import BootManifest

MIB = 1 << 20


def check(manifest: BootManifest, machine: Machine) -> None:
    """Raise a UserError if the output's DTB describes other CPUs or RAM than ``machine``."""
    dtb = manifest.role("dtb").file
    tree = fdt.parse_dtb(dtb.read_bytes())
    cpus = sum(1 for node in tree.get_node("/cpus").nodes if node.name.startswith("cpu@"))
    memory = sum(_bank_sizes(tree))
    if (cpus, memory) != (machine.smp, machine.memory_mib * MIB):
        raise UserError(
            f"{dtb} describes {cpus} CPUs and {memory // MIB} MiB but QEMU would run "
            f"--smp {machine.smp} --memory {machine.memory_mib}: give the same --smp and "
            "--memory, or rebuild from the DTB of `dom0less run-qemu --dumpdtb FILE` with "
            "these options")


def _bank_sizes(tree: fdt.FDT) -> list[int]:
    """Sizes of every /memory bank (two cells address, two cells size, as QEMU writes)."""
    sizes = []
    for node in tree.root.nodes:
        if node.name.split("@")[0] == "memory":
            cells = list(node.get_property("reg").data)
            sizes += [(cells[i + 2] << 32) | cells[i + 3] for i in range(0, len(cells), 4)]
    return sizes
