"""The layer's ZCU102 description booted on QEMU's ZCU102 model, Linux's real board tree.

Debian has no U-Boot for the ZynqMP, so QEMU loads Xen, its DTB and every module at the
manifest's addresses (``run-qemu --board zcu102``). The bare-metal domU owns the second
Cadence UART: it enables it, reads its control register back and reads its reset values
(BAUDGEN 0x28b, BAUDDIV 0xf), which only the device model answers.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
import yaml
from xen_dom0less_harness import runner
from xen_dom0less_harness.guests import baremetal, initramfs
from xen_dom0less_harness.machine import Machine

from xen_dom0less.generator.pipeline import build

from ..boards.conftest import kernel_dtbs
from ..conftest import ROOT

pytestmark = pytest.mark.e2e

SYSTEM = ROOT / "meta-xen-dom0less" / "systems" / "zcu102-zynqmp.yml"
MACHINE = "zcu102-zynqmp"
UART1 = 0xFF010000
#: All four A53s: Xen needs run-qemu's GIC alias fix for them (harness/zynqmp_gic.py)
ZCU102 = Machine(board="zcu102", smp=4, gic=2, memory_mib=2048)


def read(offset: int, value: int) -> str:
    return f"read 0x{UART1 + offset:016x} = 0x{value:016x}"


def deploy(root: Path, inputs) -> dict[str, str]:
    """The directories the layer's recipes fill, filled with Debian's binaries and ours."""
    deploy_dir, bare, linux = (root / name for name in ("deploy", "baremetal", "linux"))
    for directory in (deploy_dir, bare, linux):
        directory.mkdir(parents=True)
    shutil.copyfile(
        kernel_dtbs() / "xilinx" / "zynqmp-zcu102-rev1.0.dtb", deploy_dir / "system.dtb"
    )
    xen = inputs.xen_release("4.20")
    shutil.copyfile(xen, deploy_dir / f"xen-dom0less-{MACHINE}")
    shutil.copyfile(f"{xen}.config", deploy_dir / f"xen-dom0less-{MACHINE}.config")
    program = baremetal.Program(
        "rtos: uart1 passed through",
        write=(UART1, 0x14),  # TX and RX enabled
        reads=(UART1, UART1 + 0x18, UART1 + 0x34),
    )
    baremetal.write(program, bare / "dom0less-hello-baremetal.bin")
    shutil.copyfile(inputs.kernel, linux / "Image")
    cpio = initramfs.write("linux: init ran on the ZCU102", inputs.busybox, root / "init.cpio")
    (linux / f"core-image-minimal-{MACHINE}.rootfs.cpio.gz").write_bytes(
        gzip.compress(cpio.read_bytes(), mtime=0)
    )
    return {
        "DEPLOY_DIR_IMAGE": str(deploy_dir),
        "MACHINE": MACHINE,
        "MC_DEPLOY_domu_baremetal": str(bare),
        "MC_DEPLOY_domu_linux": str(linux),
    }


def test_layer_description_boots_on_the_zcu102_model(tmp_path, guest_inputs):
    """The layer's description as it is: the rtos drives UART1, the two-vCPU Linux domU
    reaches init, and Xen runs on all four CPUs (without the GIC alias fix Xen hangs after
    bringing them up, and the Linux domU never reaches its console)."""
    out = tmp_path / "out"
    plan = build(SYSTEM, out, deploy(tmp_path, guest_inputs))
    assert plan.domains["rtos"].device_tree.file == "rtos-passthrough.dtb"
    (linux,) = (d for d in yaml.safe_load(SYSTEM.read_text())["domains"] if d["name"] == "linux")
    assert linux["vcpus"] == 2  # the layer's Linux domU, as shipped
    expect = [
        "(XEN) Brought up 4 CPUs",
        "rtos: uart1 passed through",
        read(0x00, 0x14),  # the control register holds what the domU wrote
        read(0x18, 0x28B),  # BAUDGEN and BAUDDIV reset values of a Cadence UART
        read(0x34, 0xF),
        "linux: init ran on the ZCU102",
    ]
    result = runner.boot(out, expect, timeout=120, machine=ZCU102, work=tmp_path / "qemu")
    assert result.ok, f"{result.reason}\n--- console ---\n{result.console[-6000:]}"
    assert "Failed to assign device" not in result.console
    assert "not aliased" not in result.console
