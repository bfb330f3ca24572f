"""QEMU's ZCU102 model as run-qemu runs it: its limits are refused before QEMU starts."""

from __future__ import annotations

import pytest
from xen_dom0less_harness import zynqmp_gic
from xen_dom0less_harness.machine import Machine

from xen_dom0less.errors import UserError
from xen_dom0less.generator.hostdt import HostTree

from ..boards.conftest import kernel_dtbs


def test_zcu102_arguments():
    argv = Machine(board="zcu102", smp=1, gic=2, memory_mib=2048).args()
    assert argv[argv.index("-machine") + 1] == "xlnx-zcu102,virtualization=on"
    assert "-cpu" not in argv  # the model's own Cortex-A53s
    assert argv[argv.index("-smp") + 1] == "1"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"gic": 3}, "GIC-400: give --gic 2"),
        ({"gic": 2, "memory_mib": 4096}, "give --memory 2048 or less"),
        ({"gic": 2, "smp": 5}, "4 Cortex-A53"),
    ],
)
def test_zcu102_limits(options, expected):
    with pytest.raises(UserError) as caught:
        Machine(board="zcu102", **options)
    assert expected in str(caught.value)


def test_zcu102_has_no_tree_to_dump(tmp_path):
    with pytest.raises(UserError) as caught:
        Machine(board="zcu102", smp=1, gic=2).dumpdtb(tmp_path / "x.dtb")
    assert "zynqmp-zcu102-rev1.0.dtb" in str(caught.value)


def test_xen_gets_the_gic_cpu_interfaces_at_their_alias_pair(tmp_path):
    """Linux's ZCU102 tree gives GICC and GICV 128 KiB; the copy QEMU loads names the 8 KiB
    pair at +0xf000 (page 0's last alias, then page 1), GICD and GICH unchanged."""
    tree = kernel_dtbs() / "xilinx" / "zynqmp-zcu102-rev1.0.dtb"
    copy = zynqmp_gic.write(tree, tmp_path / "xen.dtb")
    reg = HostTree(copy.read_bytes(), "copy").words("/axi/interrupt-controller@f9010000", "reg")
    assert list(reg) == [
        *(0, 0xF9010000, 0, 0x10000),
        *(0, 0xF902F000, 0, 0x2000),
        *(0, 0xF9040000, 0, 0x20000),
        *(0, 0xF906F000, 0, 0x2000),
    ]
    assert (
        HostTree(tree.read_bytes(), "board").words("/axi/interrupt-controller@f9010000", "reg")[7]
        == 0x20000
    )  # the board's tree is untouched
