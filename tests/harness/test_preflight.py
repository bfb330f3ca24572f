"""run-qemu refuses, before starting anything, an output QEMU cannot boot as built."""

from __future__ import annotations

import pytest
from xen_dom0less_harness import runner
from xen_dom0less_harness.machine import Machine

from xen_dom0less.errors import UserError
from xen_dom0less.generator.pipeline import build


def test_a_machine_other_than_the_dtb_is_refused(describe, tmp_path):
    build(describe(), tmp_path / "out")
    with pytest.raises(
        UserError,
        match=r"describes 4 CPUs, GICv3 and 2048 MiB but QEMU would "
        r"run --smp 2 --gic 3 --memory 2048",
    ):
        runner.boot(tmp_path / "out", ["never"], machine=Machine(smp=2))
    with pytest.raises(UserError, match=r"--smp 4 --gic 2 --memory 2048: give the same"):
        runner.boot(tmp_path / "out", ["never"], machine=Machine(gic=2))


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(gic=4), r"--gic 4: QEMU's virt machine has GIC version 2 or 3"),
        (dict(gic=2, smp=9), r"--smp 9 with --gic 2: a GICv2 serves at most 8 CPUs"),
    ],
)
def test_a_machine_qemu_cannot_make_is_refused(options, message):
    with pytest.raises(UserError, match=message):
        Machine(**options)


def test_a_boot_device_qemu_lacks_is_refused(describe, tmp_path):
    def from_mmc(document: dict) -> None:
        document["boot"]["load"] = "mmc 0:1"

    build(describe(from_mmc), tmp_path / "out")
    with pytest.raises(
        UserError,
        match=r"loads with 'mmc 0:1'; QEMU offers 'virtio 0:1' or "
        r"'tftp': set boot.load",
    ):
        runner.boot(tmp_path / "out", ["never"])
