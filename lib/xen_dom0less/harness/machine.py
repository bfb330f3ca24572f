"""QEMU's ``virt`` machine as the harness runs it, and the base DTB it describes.

The DTB given to ``dom0less build`` must come from QEMU run with exactly the
options used to boot, or Xen sees CPUs and memory that do not exist.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .. import hosttools
from ..errors import UserError
from . import tools

#: acpi=off: with ACPI on, QEMU puts an acpi-ged device where the PL061 GPIO is listed.
MACHINE = "virt,virtualization=on,acpi=off"
CPU = "cortex-a57"
#: GIC version -> most CPUs QEMU's virt machine wires to it (a GICv2 has 8 CPU interfaces).
GIC_MAX_CPUS = {2: 8, 3: 512}


@dataclass(frozen=True)
class Machine:
    """The options that shape what the guest sees: CPUs, GIC, RAM, deterministic time.

    GICv3 is the default; GICv2 is what boards such as the ZCU102 (GIC-400) have.
    """

    smp: int = 4
    memory_mib: int = 2048
    icount: bool = False
    gic: int = 3
    #: QEMU's CPU model; "max" adds SVE (and the rest QEMU implements) for SVE guests.
    cpu: str = CPU

    def __post_init__(self) -> None:
        if self.smp < 1 or self.memory_mib < 256:
            raise UserError("give --smp 1 or more and --memory 256 (MiB) or more")
        if self.gic not in GIC_MAX_CPUS:
            raise UserError(
                f"--gic {self.gic}: QEMU's virt machine has GIC version "
                f"{' or '.join(map(str, GIC_MAX_CPUS))}"
            )
        if self.smp > GIC_MAX_CPUS[self.gic]:
            raise UserError(
                f"--smp {self.smp} with --gic {self.gic}: a GICv{self.gic} serves "
                f"at most {GIC_MAX_CPUS[self.gic]} CPUs"
            )
        if self.icount and self.smp != 1:
            raise UserError(
                "--icount needs --smp 1: Xen hangs after CPU bring-up with icount and several CPUs"
            )

    def args(self, dumpdtb: Optional[Path] = None) -> list[str]:
        """qemu-system-aarch64 arguments for the machine itself (no firmware, media, network)."""
        machine = f"{MACHINE},gic-version={self.gic}" + (f",dumpdtb={dumpdtb}" if dumpdtb else "")
        argv = [
            tools.tool("qemu-system-aarch64"),
            "-machine",
            machine,
            "-cpu",
            self.cpu,
            "-smp",
            str(self.smp),
            "-m",
            str(self.memory_mib),
            "-display",
            "none",
            "-monitor",
            "none",
            "-serial",
            "stdio",
            "-no-reboot",
        ]
        if self.icount:
            argv += ["-icount", "shift=0,sleep=off"]
        return argv

    def dumpdtb(self, dest: Path) -> Path:
        """Write the machine's device tree, as U-Boot and Xen will see it, to ``dest``."""
        with tempfile.TemporaryDirectory() as tmp:
            dumped = Path(tmp) / "virt.dtb"
            hosttools.run([*self.args(dumped), "-nic", "none"], "dumping QEMU's device tree")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(dumped.read_bytes())
        return dest
