"""The QEMU command line: a machine's disk rate becomes QEMU's block throttling; a U-Boot
given replaces Debian's.

That QEMU honours it is measured by bench/boot_time.py --only storage (U-Boot counts
each file's read, boot.itb's 35.9 MB in one request included, at about the SD class's
18.4 MB/s).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from xen_dom0less_harness import command, manifest, preflight
from xen_dom0less_harness.machine import Machine

from xen_dom0less.errors import UserError
from xen_dom0less.units import MiB


def disk(machine: Machine, tmp_path: Path) -> list[str]:
    manifest = SimpleNamespace(outdir=tmp_path, format="script")
    return command._disk(manifest, machine, tmp_path, tmp_path / "boot.img")


def test_disk_rate_throttles_every_piece_of_a_read(tmp_path: Path):
    """The throttle sits below a node splitting each request into 64 KiB, so a FIT read
    in one request waits its turn piece by piece."""
    argv = disk(Machine(smp=1, disk_rate=18_400_000), tmp_path)
    assert "-drive" not in argv
    group = json.loads(argv[argv.index("-object") + 1])
    assert group == {"qom-type": "throttle-group", "id": "rate", "limits": {"bps-total": 18400000}}
    node = json.loads(argv[argv.index("-blockdev") + 1])
    assert node == {
        "driver": "blkdebug",
        "node-name": "boot",
        "max-transfer": 65536,
        "image": {
            "driver": "throttle",
            "throttle-group": "rate",
            "file": {"driver": "file", "filename": f"{tmp_path}/boot.img"},
        },
    }
    assert argv[argv.index("-device") + 1] == "virtio-blk-device,drive=boot"


def test_without_a_rate_the_disk_is_the_hosts(tmp_path: Path):
    argv = disk(Machine(smp=1), tmp_path)
    assert argv[argv.index("-drive") + 1] == f"if=none,id=boot,format=raw,file={tmp_path}/boot.img"
    assert "-blockdev" not in argv


def firmware(tmp_path: Path, uboot_bin: Path) -> str:
    manifest = SimpleNamespace(
        outdir=tmp_path,
        format="script",
        load="virtio 0:1",
        script=SimpleNamespace(address=0x40200000, file=Path("boot.scr")),
        tftp=False,
        uboot_dtb=None,
        script_configuration=None,
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


def test_a_directory_without_a_manifest_boots_its_own_script(tmp_path: Path):
    """Another tool's output (ImageBuilder's boot.scr, its files, the DTB it edits): U-Boot
    loads the named script at its address, and the preflight sees the board named."""
    for name in ("boot.scr", "virt.dtb", "Image"):
        (tmp_path / name).write_bytes(b"\0" * 64)
    board = manifest.Board(cpus=1, gic=3, memory=2048 * MiB)
    found = manifest.foreign(tmp_path, "boot.scr", 0x40200000, "virt.dtb", board)
    assert command.bootenv(found)["bootcmd"].startswith(
        "virtio scan; load virtio 0:1 0x40200000 boot.scr; source 0x40200000;"
    )
    preflight.check(found, Machine(smp=1))
    with pytest.raises(UserError, match="describes 1 CPUs"):
        preflight.check(found, Machine(smp=2))
    with pytest.raises(UserError, match="no such file"):
        manifest.foreign(tmp_path, "boot.scr", 0x40200000, "other.dtb", board)


@pytest.mark.parametrize("configuration", [None, "dom0less"])
def test_a_signed_script_is_run_by_its_configuration(configuration):
    """U-Boot 2023.04+ verifies a FIT script's configuration only when `source` names it:
    unnamed, a FIT with no configuration runs on its hash alone (tests/e2e/test_release.py)."""
    script = SimpleNamespace(address=0x40200000, file=Path("boot.scr"))
    found = SimpleNamespace(script=script, tftp=False, script_configuration=configuration)
    run = "source 0x40200000" + (f"#{configuration}" if configuration else "")
    assert f"{run};" in command.bootenv(found)["bootcmd"]
