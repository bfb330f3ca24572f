"""run-qemu refuses, before starting anything, an output QEMU cannot boot as built."""

from __future__ import annotations

import pytest

from xen_dom0less.build import build
from xen_dom0less.errors import UserError
from xen_dom0less.qemu import runner
from xen_dom0less.qemu.machine import Machine


def test_a_machine_other_than_the_dtb_is_refused(describe, tmp_path):
    build(describe(), tmp_path / "out")
    with pytest.raises(UserError, match=r"describes 4 CPUs and 2048 MiB but QEMU would run "
                                        r"--smp 2 --memory 2048"):
        runner.boot(tmp_path / "out", ["never"], machine=Machine(smp=2))


def test_a_boot_device_qemu_lacks_is_refused(describe, tmp_path):
    def from_mmc(document: dict) -> None:
        document["boot"]["load"] = "mmc 0:1"

    build(describe(from_mmc), tmp_path / "out")
    with pytest.raises(UserError, match=r"loads with 'mmc 0:1'; QEMU offers 'virtio 0:1' or "
                                        r"'tftp': set boot.load"):
        runner.boot(tmp_path / "out", ["never"])
