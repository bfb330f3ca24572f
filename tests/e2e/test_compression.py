"""boot.compression booted: U-Boot decompresses each stored file into place before Xen starts,
and a damaged one stops the boot in U-Boot, before Xen."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from xen_dom0less_harness import runner
from xen_dom0less_harness.guests.baremetal import Program

from xen_dom0less import manifest

from .conftest import Workspace

pytestmark = pytest.mark.e2e
RTOS, LINUX, DOM0 = "rtos: up", "linux: init running", "dom0: up"
STARTING = "dom0less: starting Xen"


def critical_and_linux(ws: Workspace) -> list[dict]:
    """The critical bare-metal domU and a Linux domU (Debian's Image, a cpio initramfs)."""
    return [
        {"name": "rtos", "kernel": str(ws.bare("rtos", Program(RTOS))), "memory": "16M"},
        {
            "name": "linux",
            "kernel": str(ws.inputs.kernel),
            "ramdisk": str(ws.initrd("linux", LINUX)),
            "cmdline": "console=ttyAMA0 quiet",
            "memory": "256M",
        },
    ]


def decompressed(result: runner.BootResult, outdir: Path) -> list[str]:
    """The roles of the files stored compressed, each of which U-Boot decompressed to its
    size in RAM (its own ``Uncompressed size`` line, our script's line after it) before
    the script started Xen."""
    before_xen = result.console.split(STARTING)[0]
    stored = [a for a in manifest.read(outdir).artefacts if a.compression]
    for artefact in stored:
        assert (outdir / artefact.file).stat().st_size < artefact.size
        done = re.search(
            rf"^Uncompressed size: {artefact.size} = 0x{artefact.size:X}\r?\n"
            rf"dom0less: decompressed {re.escape(artefact.file)} ",
            before_xen,
            re.M,
        )
        assert done, f"U-Boot did not decompress {artefact.file}:\n{before_xen[-3000:]}"
    return sorted(a.role for a in stored)


def test_uboot_decompresses_lz4_files_into_place(each_xen):
    ws = each_xen
    document = ws.description(critical_and_linux(ws))
    document["boot"]["compression"] = "lz4"
    result = ws.boot(document, [RTOS, LINUX], timeout=180)
    # the cpio initramfs is left as it is: lz4 saves too little of it (place.compression)
    assert decompressed(result, ws.root / "out") == ["kernel", "xen"]


def test_uboot_decompresses_gzip_files_of_dom0_and_domus(workspace):
    """gzip: Xen, the one Image dom0 and the domU share, and both cpio ramdisks."""
    ws = workspace
    document, _ = ws.with_linux_dom0(critical_and_linux(ws), DOM0)
    document["boot"]["compression"] = "gzip"
    result = ws.boot(document, [RTOS, LINUX, DOM0], timeout=240)
    assert decompressed(result, ws.root / "out") == ["kernel", "ramdisk", "ramdisk", "xen"]


def cut_in_half(stored: Path) -> None:
    """A copy to the card that did not finish: unlz4 fails on the rest of the staging area."""
    stored.write_bytes(stored.read_bytes()[: stored.stat().st_size // 2])


def half_the_bytes(stored: Path) -> None:
    """A whole, valid lz4 file of another content (half the bytes): unlz4 succeeds, and
    only the script's check of U-Boot's filesize against the module's size stops it."""
    plain = subprocess.run(["lz4", "-d", "-c", str(stored)], capture_output=True, check=True)
    half = plain.stdout[: len(plain.stdout) // 2]
    stored.write_bytes(subprocess.run(["lz4", "-c"], input=half, capture_output=True).stdout)


@pytest.mark.parametrize("damage", [cut_in_half, half_the_bytes])
def test_a_damaged_compressed_file_stops_the_boot_in_uboot(workspace, damage):
    """U-Boot's unlz4 fails or writes another size, and the script stops before Xen."""
    ws = workspace
    domains = [{"name": "rtos", "kernel": str(ws.bare("rtos", Program(RTOS))), "memory": "16M"}]
    document = ws.description(domains)
    document["boot"]["compression"] = "lz4"
    outdir = ws.build(document)
    xen = next(a for a in manifest.read(outdir).artefacts if a.role == "xen")
    assert xen.compression == "lz4"
    damage(outdir / xen.file)
    error = f"dom0less: ERROR: cannot decompress {xen.file} to its {xen.size} bytes with unlz4"
    returned = "dom0less: ERROR the boot script returned to U-Boot"  # so Xen never starts
    result = runner.boot(outdir, [returned], timeout=60, work=ws.root / "qemu")
    assert not result.ok and result.reason.startswith(error), result.console[-3000:]
    assert returned in result.console.split(error, 1)[1]
    assert STARTING not in result.console and "Xen version" not in result.console


def test_the_floor_loads_each_compressed_file_as_uboot_leaves_it(workspace):
    """Without U-Boot (the bench's floor) QEMU loads each file itself: decompressed first
    (lz4, which QEMU's -kernel does not take, unlike gzip)."""
    ws = workspace
    document = ws.description(critical_and_linux(ws)[:1])
    document["boot"]["compression"] = "lz4"
    result = ws.boot(document, [RTOS], timeout=30, floor=True)
    assert "U-Boot" not in result.console
