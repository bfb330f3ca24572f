"""The disk image: an MBR-partitioned FAT image mtools can read back, the same every time."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import time

import pytest

from xen_dom0less.cli import main
from xen_dom0less.diskimage import LINUX, PARTITION_TYPES, SECTOR, START_SECTOR, build
from xen_dom0less.errors import UserError

from ..conftest import ROOT

pytestmark = pytest.mark.skipif(
    shutil.which("mcopy") is None, reason="needs mtools and dosfstools: run `dom0less setup`"
)


def partitions(image) -> list[tuple[int, int, int]]:
    head = image.read_bytes()[:512]
    assert head[510:] == b"\x55\xaa"
    found = []
    for index in range(4):
        entry = head[446 + 16 * index : 446 + 16 * (index + 1)]
        start, sectors = struct.unpack_from("<II", entry, 8)
        if entry[4]:
            found.append((start, sectors, entry[4]))
    return found


def test_files_readable_in_first_partition(tmp_path):
    (tmp_path / "boot.scr").write_bytes(b"script")
    (tmp_path / "Image").write_bytes(bytes(range(256)) * 4096)
    image = build(
        {"boot.scr": tmp_path / "boot.scr", "EFI/BOOT/Image": tmp_path / "Image"},
        tmp_path / "disk.img",
    )
    offset = START_SECTOR * SECTOR
    listing = subprocess.run(
        ["mdir", "-b", "-/", "-i", f"{image}@@{offset}", "::"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sorted(line.strip("/:") for line in listing.split() if not line.endswith("/")) == [
        "EFI/BOOT/Image",
        "boot.scr",
    ]
    copy = tmp_path / "back"
    subprocess.run(["mcopy", "-i", f"{image}@@{offset}", "::EFI/BOOT/Image", str(copy)], check=True)
    assert copy.read_bytes() == (tmp_path / "Image").read_bytes()


def test_partition_table_describes_the_filesystem(tmp_path):
    image = build({}, tmp_path / "disk.img")
    [(start, sectors, kind)] = partitions(image)
    assert kind in PARTITION_TYPES.values()
    assert start == START_SECTOR
    assert (start + sectors) * SECTOR <= image.stat().st_size


def test_further_partitions_follow_on_mib_boundaries(tmp_path):
    rootfs = tmp_path / "rootfs.ext4"
    rootfs.write_bytes(b"\x5a" * 3000)
    image = build({}, tmp_path / "disk.img", [rootfs])
    (_, fat_sectors, _), (start, sectors, kind) = partitions(image)
    assert kind == LINUX and start % 2048 == 0 and start >= START_SECTOR + fat_sectors
    data = image.read_bytes()
    assert data[start * SECTOR : start * SECTOR + 3000] == rootfs.read_bytes()
    assert sectors == 6


def test_same_files_give_the_same_bytes(tmp_path):
    boot = tmp_path / "boot.scr"
    boot.write_bytes(b"script")
    os.utime(boot, (0, 0))  # as a build leaves its outputs (SOURCE_DATE_EPOCH)
    first = build({"boot.scr": boot}, tmp_path / "a.img").read_bytes()
    time.sleep(1.1)  # a clock read anywhere would now differ
    assert build({"boot.scr": boot}, tmp_path / "b.img").read_bytes() == first


def test_image_command_refuses_a_directory_that_is_no_build(tmp_path, capsys):
    assert main(["image", str(tmp_path), "-o", str(tmp_path / "card.img")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a `dom0less build` output" in err[0]
    assert not (tmp_path / "card.img").exists()


def test_image_command_refuses_a_missing_partition_image(tmp_path, capsys):
    out = tmp_path / "out"  # -o inside OUTDIR is refused before the partitions are read
    out.mkdir()
    shutil.copy(ROOT / "tests" / "golden" / "qemu-dom0" / "manifest.json", out)
    code = main(["image", str(out), "-o", str(tmp_path / "card.img"), "--partition", "/nope"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--partition /nope: no such file" in err[0]
    assert not list(tmp_path.glob("*.img")) and not list(tmp_path.glob(".card*"))


#: One entry of mdir's listing: short name, extension, <DIR> or size, date, time.
MDIR_ENTRY = re.compile(
    r"^(?P<name>\S+)(?: +\S+)? +(?:<DIR>|\d+) +(?P<date>\d{4}-\d\d-\d\d) +(?P<time>\d+:\d\d)"
)


def _listing(image, directory: str) -> dict[str, str]:
    """Name -> 'date time' as mdir shows each entry of ``directory`` in the FAT partition."""
    offset = START_SECTOR * SECTOR
    out = subprocess.run(
        ["mdir", "-i", f"{image}@@{offset}", f"::{directory}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entries = {}
    for line in out.splitlines():
        found = MDIR_ENTRY.match(line)
        if found and found["name"] not in (".", ".."):
            entries[found["name"]] = f"{found['date']} {found['time']}"
    return entries


def test_directories_take_the_files_time_not_the_clock(tmp_path):
    """A UEFI build's files sit in EFI/BOOT: mmd stamped that with the clock, so two images
    of one build differed when made seconds apart."""
    kernel = tmp_path / "Image"
    kernel.write_bytes(b"kernel")
    os.utime(kernel, (1_700_000_000, 1_700_000_000))
    image = build({"EFI/BOOT/Image": kernel}, tmp_path / "disk.img")
    [file_time] = _listing(image, "EFI/BOOT").values()
    assert _listing(image, "") == {"EFI": file_time}
    assert _listing(image, "EFI") == {"BOOT": file_time}


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["EFI/BOOT/Rtos.bin", "EFI/BOOT/rtos.bin"], "are one name on FAT, which ignores case"),
        (["EFI/BOOT/a:b.bin"], "cannot be a FAT file name (':' not allowed)"),
        (["kernel."], "cannot be a FAT file name (a trailing dot or space)"),
    ],
)
def test_names_fat_cannot_hold_as_given_are_refused(tmp_path, names, expected):
    """mcopy -o let rtos.bin replace Rtos.bin (one domain booted the other's kernel), and
    failed on ':' with only its exit status."""
    files = {}
    for index, name in enumerate(names):
        source = tmp_path / f"input{index}"
        source.write_bytes(bytes([index]) * 64)
        files[name] = source
    with pytest.raises(UserError) as caught:
        build(files, tmp_path / "disk.img")
    [line] = caught.value.lines
    assert expected in line and line.endswith("rename that input" if len(names) == 1 else "inputs")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"input{i}" for i in range(len(names))]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("elsewhere", "is a directory: give a file name"),
        ("absent/card.img", "does not exist: create it first"),
        ("out/card.img", "whose every file goes on the boot partition"),
    ],
)
def test_image_command_refuses_an_output_it_cannot_write_as_one_line(
    tmp_path, capsys, output, expected
):
    """-o DIR crashed renaming onto the directory; -o inside OUTDIR put the previous image
    into the next one."""
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(ROOT / "tests" / "golden" / "qemu-dom0" / "manifest.json", out)
    (tmp_path / "elsewhere").mkdir()
    assert main(["image", str(out), "-o", str(tmp_path / output)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0] and str(tmp_path / output) in err[0]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "out"]
    assert not list((tmp_path / "elsewhere").iterdir())


def image_of_partition(tmp_path, size: int, *more: str) -> int:
    """``dom0less image`` of the qemu-dom0 manifest and a sparse ``size``-byte partition."""
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(ROOT / "tests" / "golden" / "qemu-dom0" / "manifest.json", out)
    rootfs = tmp_path / "rootfs.img"
    with rootfs.open("wb") as sparse:
        sparse.truncate(size)
    card = str(tmp_path / "card.img")
    return main(["image", str(out), "-o", card, "--partition", str(rootfs), *more])


@pytest.mark.parametrize(
    ("size", "more", "expected"),
    [
        (20 << 20, ["--max-size", "16M"], "more than the limit of 16M"),
        (100 << 30, [], "more than the limit of 64G"),
        (None, ["--max-size", "1T"], "free: free space or write it elsewhere"),
    ],
    ids=["stated-limit", "default-limit", "free-space"],
)
def test_an_image_too_large_is_refused_before_writing(tmp_path, capsys, size, more, expected):
    """A sparse 100 GB root file system was copied into the image byte by byte."""
    if size is None:  # more than this file system has free
        size = shutil.disk_usage(tmp_path).free + (1 << 30)
    code = image_of_partition(tmp_path, size, *more)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and expected in err[0], err
    assert f"--partition {tmp_path / 'rootfs.img'}" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "rootfs.img"]
