"""A partitioned FAT disk image holding the boot files, built without root.

U-Boot refuses ``virtio 0:1`` on an unpartitioned disk, and loop devices need
root, so the filesystem is made in a plain file (mkfs.vfat -C, mcopy) and an
MBR we write ourselves is put in front of it.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from .. import hosttools
from ..units import MiB
from . import tools

SECTOR = 512
#: First partition sector: 1 MiB, the usual alignment.
START_SECTOR = 2048
#: MBR partition types by the FAT flavour mkfs.vfat chose (the LBA variants).
PARTITION_TYPES = {b"FAT12   ": 0x01, b"FAT16   ": 0x0E, b"FAT32   ": 0x0C}


def build(files: list[Path], image: Path) -> Path:
    """Write ``image``: an MBR and one FAT partition containing ``files`` at its root."""
    partition = image.with_name(image.name + ".part")
    payload = sum(f.stat().st_size for f in files)
    size_mib = 8 + (payload + payload // 8) // MiB  # FAT tables, directories, slack
    partition.unlink(missing_ok=True)
    hosttools.run(
        [tools.tool("mkfs.vfat"), "-C", "-n", "DOM0LESS", str(partition), str(size_mib * 1024)],
        f"creating a FAT filesystem in {partition}",
    )
    if files:
        hosttools.run(
            [tools.tool("mcopy"), "-o", "-i", str(partition), *map(str, files), "::"],
            f"copying the boot files into {partition}",
        )
    sectors = partition.stat().st_size // SECTOR
    with image.open("wb") as out, partition.open("rb") as part:
        kind = PARTITION_TYPES.get(_fat_label(part), 0x0C)
        part.seek(0)
        out.write(mbr(START_SECTOR, sectors, kind))
        out.seek(START_SECTOR * SECTOR)
        shutil.copyfileobj(part, out, MiB)
    partition.unlink()
    return image


def mbr(start: int, sectors: int, kind: int) -> bytes:
    """A master boot record with one non-bootable partition (LBA addressing only)."""
    no_chs = b"\xfe\xff\xff"  # "use LBA": CHS cannot describe it
    entry = b"\x00" + no_chs + bytes([kind]) + no_chs + struct.pack("<II", start, sectors)
    table = entry + bytes(16 * 3)
    return bytes(446) + table + b"\x55\xaa"


def _fat_label(part) -> bytes:
    boot = part.read(SECTOR)
    return boot[0x52:0x5A] if boot[0x52:0x57] == b"FAT32" else boot[0x36:0x3E]
