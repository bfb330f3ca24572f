"""An ImageBuilder config, imported with `dom0less import imagebuilder`, builds and boots."""

from __future__ import annotations

import pytest
from xen_dom0less_harness import runner
from xen_dom0less_harness.guests.baremetal import Program

from xen_dom0less.cli import main
from xen_dom0less.generator.pipeline import build

pytestmark = pytest.mark.e2e


def test_imagebuilder_config_imports_and_boots(workspace, capsys):
    ws = workspace
    markers = ["ib-rtos: up", "ib-linux: up"]
    rtos = ws.bare("rtos", Program(markers[0]))
    initrd = ws.initrd("linux", markers[1])
    config = ws.root / "config"
    config.write_text(
        f'MEMORY_START="0x40000000"\n'
        f'MEMORY_END="0xC0000000"\n'
        f'LOAD_CMD="load virtio 0:1"\n'
        f'DEVICE_TREE="{ws.dtb}"\n'
        f'XEN="{ws.inputs.xen_4_20}"\n'  # the import's default release
        f"NUM_DOMUS=2\n"
        f'DOMU_KERNEL[0]="{rtos.name}"\n'
        f"DOMU_MEM[0]=16\n"
        f'DOMU_KERNEL[1]="{ws.inputs.kernel}"\n'
        f'DOMU_RAMDISK[1]="{initrd.name}"\n'
        f'DOMU_CMD[1]="console=ttyAMA0 quiet"\n'
        f"DOMU_MEM[1]=256\n"
    )
    description = ws.root / "imported.yaml"
    assert main(["import", "imagebuilder", str(config), "-o", str(description)]) == 0
    assert "not carried over: XEN_CMD" in capsys.readouterr().err
    outdir = ws.root / "out"
    build(description, outdir)
    result = runner.boot(outdir, markers, timeout=60, machine=ws.machine, work=ws.root / "qemu")
    assert result.ok, f"{result.reason}\n--- console ---\n{result.console[-6000:]}"
    # DOM1 holds Xen 4.20's console input and prints unprefixed; DOM2 is the Linux domU
    assert "(XEN) DOM2: ib-linux: up" in result.console
