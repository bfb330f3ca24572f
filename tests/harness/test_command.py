"""The QEMU command line: a machine's disk rate becomes QEMU's block throttling; a U-Boot
given replaces Debian's.

That QEMU honours it is measured by bench/boot_time.py --only storage (U-Boot counts
about 2 s for the 35.8 MB the baseline reads at the SD class's 18.4 MB/s).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from xen_dom0less_harness import command
from xen_dom0less_harness.machine import Machine

from xen_dom0less.errors import UserError


def drive(machine: Machine, tmp_path: Path) -> str:
    manifest = SimpleNamespace(outdir=tmp_path, format="script")
    argv = command._disk(manifest, machine, tmp_path, tmp_path / "boot.img")
    return argv[argv.index("-drive") + 1]


def test_disk_rate_throttles_the_boot_disk(tmp_path: Path):
    throttled = drive(Machine(smp=1, disk_rate=18_400_000), tmp_path)
    assert (
        throttled
        == f"if=none,id=boot,format=raw,file={tmp_path}/boot.img,throttling.bps-total=18400000"
    )


def test_without_a_rate_the_disk_is_the_hosts(tmp_path: Path):
    assert "throttling" not in drive(Machine(smp=1), tmp_path)


def firmware(tmp_path: Path, uboot_bin: Path) -> str:
    manifest = SimpleNamespace(
        outdir=tmp_path,
        format="script",
        load="virtio 0:1",
        script=SimpleNamespace(address=0x40200000, file=Path("boot.scr")),
        tftp=False,
        uboot_dtb=None,
    )
    disk = tmp_path / "boot.img"
    argv = command.uboot(manifest, Machine(smp=1), tmp_path, disk=disk, uboot_bin=uboot_bin)
    return argv[argv.index("-bios") + 1]


def test_a_product_u_boot_replaces_debians(tmp_path: Path):
    """run-qemu --uboot: a U-Boot built with a product's options (docs/signed-boot.md)."""
    built = tmp_path / "u-boot.bin"
    built.write_bytes(b"\0" * 64)
    assert firmware(tmp_path, built) == str(built)
    with pytest.raises(UserError, match="no such file"):
        firmware(tmp_path, tmp_path / "missing.bin")
