"""The boot disk must be an MBR-partitioned FAT image that mtools can read back."""

from __future__ import annotations

import struct
import subprocess

from xen_dom0less.harness import disk, tools


def test_files_readable_in_first_partition(tmp_path):
    (tmp_path / "boot.scr").write_bytes(b"script")
    (tmp_path / "Image").write_bytes(bytes(range(256)) * 4096)
    image = disk.build([tmp_path / "boot.scr", tmp_path / "Image"], tmp_path / "disk.img")
    offset = disk.START_SECTOR * disk.SECTOR
    listing = subprocess.run(
        [tools.tool("mdir"), "-b", "-i", f"{image}@@{offset}", "::"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sorted(line.strip("/:").split("/")[-1] for line in listing.split()) == [
        "Image",
        "boot.scr",
    ]
    copy = tmp_path / "back"
    subprocess.run(
        [tools.tool("mcopy"), "-i", f"{image}@@{offset}", "::Image", str(copy)], check=True
    )
    assert copy.read_bytes() == (tmp_path / "Image").read_bytes()


def test_partition_table_describes_the_filesystem(tmp_path):
    image = disk.build([], tmp_path / "disk.img")
    head = image.read_bytes()[:512]
    assert head[510:] == b"\x55\xaa"
    kind = head[446 + 4]
    start, sectors = struct.unpack_from("<II", head, 446 + 8)
    assert kind in disk.PARTITION_TYPES.values()
    assert start == disk.START_SECTOR
    assert (start + sectors) * disk.SECTOR == image.stat().st_size
