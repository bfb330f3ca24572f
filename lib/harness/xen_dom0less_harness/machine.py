"""QEMU's ``virt`` machine as the harness runs it, and the base DTB it describes.

The DTB given to ``dom0less build`` must come from QEMU run with exactly the
options used to boot, or Xen sees CPUs and memory that do not exist.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from xen_dom0less import hosttools
from xen_dom0less.errors import UserError

from . import tools

#: acpi=off: with ACPI on, QEMU puts an acpi-ged device where the PL061 GPIO is listed.
MACHINE = "virt,virtualization=on,acpi=off"
CPU = "cortex-a57"
#: GIC version -> most CPUs QEMU's virt machine wires to it (a GICv2 has 8 CPU interfaces).
GIC_MAX_CPUS = {2: 8, 3: 512}
#: The boards run-qemu boots: QEMU's virt, and its model of the AMD/Xilinx ZCU102.
BOARDS = ("virt", "zcu102")
#: The ZCU102 model: 4 Cortex-A53 (as many as -smp, up to 4) and a GIC-400, at EL2.
ZCU102_MACHINE = "xlnx-zcu102,virtualization=on"
#: QEMU's kernel loader replaces the DTB's memory nodes with one bank of -m at 0, and the
#: ZCU102's DDR below 4 GiB is 2 GiB: more would be RAM Xen cannot reach.
ZCU102_MAX_MEMORY_MIB = 2048


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
    board: str = "virt"
    #: Bytes per second the boot disk gives (QEMU's block throttling), as a board's SD card,
    #: eMMC or flash would; None: as fast as the host.
    disk_rate: Optional[int] = None

    def __post_init__(self) -> None:
        if self.board == "zcu102":
            self._check_zcu102()
            return
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

    def _check_zcu102(self) -> None:
        if self.gic != 2:
            raise UserError("--board zcu102 has a GIC-400: give --gic 2")
        if not 1 <= self.smp <= 4:
            raise UserError("--board zcu102 has 4 Cortex-A53: give --smp 1 to 4")
        if self.memory_mib > ZCU102_MAX_MEMORY_MIB:
            raise UserError(
                f"--board zcu102 with --memory {self.memory_mib}: QEMU loads Xen with one RAM "
                f"bank from 0, and the ZCU102 has {ZCU102_MAX_MEMORY_MIB} MiB there: give "
                f"--memory {ZCU102_MAX_MEMORY_MIB} or less"
            )

    def args(self, dumpdtb: Optional[Path] = None) -> list[str]:
        """qemu-system-aarch64 arguments for the machine itself (no firmware, media, network)."""
        if self.board == "zcu102":
            machine, cpu = ZCU102_MACHINE, []
        else:
            machine = f"{MACHINE},gic-version={self.gic}"
            machine += f",dumpdtb={dumpdtb}" if dumpdtb else ""
            cpu = ["-cpu", self.cpu]
        argv = [
            tools.tool("qemu-system-aarch64"),
            "-machine",
            machine,
            *cpu,
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
        if self.board == "zcu102":
            raise UserError(
                "QEMU's ZCU102 model has no device tree of its own: build with Linux's "
                "xilinx/zynqmp-zcu102-rev1.0.dtb (Debian's kernel package has it)"
            )
        with tempfile.TemporaryDirectory() as tmp:
            dumped = Path(tmp) / "virt.dtb"
            hosttools.run([*self.args(dumped), "-nic", "none"], "dumping QEMU's device tree")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(dumped.read_bytes())
        return dest
