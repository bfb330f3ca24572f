"""QEMU's ZCU102 model as run-qemu runs it: its limits are refused before QEMU starts."""

from __future__ import annotations

import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.harness.machine import Machine


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
