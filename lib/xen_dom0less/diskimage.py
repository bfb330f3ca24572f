"""A partitioned SD-card or disk image: a FAT boot partition with the boot files, built
without root, byte for byte the same from the same files.

U-Boot refuses ``virtio 0:1`` on an unpartitioned disk, and loop devices need root, so
the filesystem is made in a plain file (mkfs.vfat -C, mcopy) and an MBR we write
ourselves is put in front of it, followed by any further partitions from given images.
Reproducible: mkfs.vfat's --invariant and a fixed volume id replace its clock and random
values, mcopy -m keeps each file's time stamp (a build sets them to SOURCE_DATE_EPOCH),
directories get the newest of them.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import hosttools, outputs
from .errors import UserError
from .units import GiB, MiB, human_size

SECTOR = 512
#: First partition sector: 1 MiB, the usual alignment; every partition starts on a MiB.
START_SECTOR = 2048
ALIGN_SECTORS = MiB // SECTOR
#: MBR partition types by the FAT flavour mkfs.vfat chose (the LBA variants).
PARTITION_TYPES = {b"FAT12   ": 0x01, b"FAT16   ": 0x0E, b"FAT32   ": 0x0C}
#: Type of a further partition (Linux data: a root file system, a domU's disk).
LINUX = 0x83
#: An MBR holds four partitions.
MAX_PARTITIONS = 4
#: Fixed FAT volume id and MBR disk signature, in place of random ones.
VOLUME_ID = "d0e1e55b"
DISK_SIGNATURE = 0xD0E1E55B
#: Largest image written unless the caller says otherwise: SD cards and virtual disks
#: beyond it are rare, and a sparse --partition file must not silently fill a disk.
DEFAULT_MAX_SIZE = 64 * GiB
#: Characters FAT long file names cannot hold (besides control characters).
FAT_FORBIDDEN = frozenset('"*/:<>?\\|')


def layout(outdir: Path, format: str) -> dict[str, Path]:
    """Every file of a build output by its path on the boot partition (outputs.disk_path)."""
    return {outputs.disk_path(p.name, format): p for p in sorted(outdir.iterdir()) if p.is_file()}


def _tool(name: str) -> str:
    package = hosttools.PACKAGES[name]
    return hosttools.require(name, f"run `dom0less setup` (or apt-get install {package})")


def build(
    files: Mapping[str, Path],
    image: Path,
    partitions: Sequence[Path] = (),
    max_size: int = DEFAULT_MAX_SIZE,
) -> Path:
    """Write ``image``: an MBR, a FAT partition holding ``files`` (path in it -> file), then
    ``partitions``; refused before anything is written when it would be larger than
    ``max_size`` or than the free space beside it.

    Written next to ``image`` and renamed into place, so a failure leaves nothing.
    """
    if len(partitions) + 1 > MAX_PARTITIONS:
        raise UserError(
            f"{image}: an MBR holds {MAX_PARTITIONS} partitions, the boot one and "
            f"{MAX_PARTITIONS - 1} more: give at most {MAX_PARTITIONS - 1} --partition images"
        )
    for extra in partitions:
        if not extra.is_file():
            raise UserError(f"--partition {extra}: no such file: give a partition image")
    check_fat_names(files, image)
    check_size(files, image, partitions, max_size)
    partial = image.with_name(f".{image.name}.{os.getpid()}.new")
    fat = image.with_name(f".{image.name}.{os.getpid()}.fat")
    try:
        _fat(files, fat)
        contents = [fat, *partitions]
        spans, start = _spans([p.stat().st_size for p in contents])
        entries = [
            (first, sectors, _fat_type(fat) if index == 0 else LINUX)
            for index, (first, sectors) in enumerate(spans)
        ]
        with partial.open("wb") as out:
            out.write(mbr(entries))
            for (first, _sectors, _kind), part in zip(entries, contents):
                out.seek(first * SECTOR)
                with part.open("rb") as data:
                    shutil.copyfileobj(data, out, MiB)
            out.truncate(start * SECTOR)
        partial.replace(image)
    finally:
        partial.unlink(missing_ok=True)
        fat.unlink(missing_ok=True)
    return image


def _spans(sizes: Sequence[int]) -> tuple[list[tuple[int, int]], int]:
    """(first sector, sectors) of partitions of ``sizes`` bytes, each on a MiB; the sector
    count of the whole image."""
    spans, start = [], START_SECTOR
    for size in sizes:
        sectors = -(-size // SECTOR)
        spans.append((start, sectors))
        start += -(-sectors // ALIGN_SECTORS) * ALIGN_SECTORS
    return spans, start


def check_size(
    files: Mapping[str, Path], image: Path, partitions: Sequence[Path], max_size: int
) -> None:
    """UserError when the image would be larger than ``max_size``, or than the free space
    of its directory (the FAT partition is made in a file of its own there first)."""
    fat = _fat_mib(files) * MiB
    size = _spans([fat, *(p.stat().st_size for p in partitions)])[1] * SECTOR
    largest = max(partitions, key=lambda p: p.stat().st_size, default=None)
    why = f" (--partition {largest}: {human_size(largest.stat().st_size)})" if largest else ""
    if size > max_size:
        raise UserError(
            f"{image}: the image would be {human_size(size)}{why}, more than the limit of "
            f"{human_size(max_size)}: give a smaller partition image, or raise --max-size"
        )
    free = shutil.disk_usage(image.parent).free
    if size + fat > free:
        raise UserError(
            f"{image}: the image would take {human_size(size + fat)} while it is written"
            f"{why}, but {image.parent} has {human_size(free)} free: free space or write "
            "it elsewhere"
        )


def check_fat_names(files: Mapping[str, Path], image: Path) -> None:
    """UserError unless every path can be written to FAT as itself: FAT refuses some
    characters, and it ignores case, so mcopy -o would let one file replace another."""
    seen: dict[str, str] = {}
    for inside in sorted(files):
        for name in inside.split("/"):
            bad = sorted({c for c in name if c in FAT_FORBIDDEN or ord(c) < 0x20})
            if bad or name.endswith((".", " ")):
                why = f"{''.join(bad)!r} not allowed" if bad else "a trailing dot or space"
                raise UserError(
                    f"{image}: {inside!r} cannot be a FAT file name ({why}): rename that input"
                )
        other = seen.setdefault(inside.casefold(), inside)
        if other != inside:
            raise UserError(
                f"{image}: {other} and {inside} are one name on FAT, which ignores case: "
                "rename one of those inputs"
            )


def _fat_mib(files: Mapping[str, Path]) -> int:
    """The boot partition's size in MiB: the files, FAT tables, directories and slack."""
    payload = sum(f.stat().st_size for f in files.values())
    return 8 + (payload + payload // 8) // MiB


def _fat(files: Mapping[str, Path], partition: Path) -> None:
    size_mib = _fat_mib(files)
    hosttools.run(
        [
            _tool("mkfs.vfat"),
            "-C",
            "--invariant",
            "-i",
            VOLUME_ID,
            "-n",
            "DOM0LESS",
            str(partition),
            str(size_mib * 1024),
        ],
        f"creating a FAT filesystem in {partition}",
    )
    by_directory: dict[str, list[tuple[str, Path]]] = {}
    for inside, source in sorted(files.items()):
        directory, _, name = inside.rpartition("/")
        by_directory.setdefault(directory, []).append((name, source))
    directories = sorted(
        {
            "/".join(d.split("/")[: i + 1])
            for d in by_directory
            if d
            for i in range(d.count("/") + 1)
        }
    )
    if directories:
        # mmd stamps directories with the clock unless SOURCE_DATE_EPOCH is set: use the
        # newest file's time, so the image depends on the files alone.
        stamp = max((int(f.stat().st_mtime) for f in files.values()), default=0)
        hosttools.run(
            [_tool("mmd"), "-i", str(partition), *(f"::{d}" for d in directories)],
            f"making directories in {partition}",
            env={**os.environ, "SOURCE_DATE_EPOCH": str(stamp)},
        )
    for directory, entries in sorted(by_directory.items()):
        for name, source in entries:
            hosttools.run(
                [
                    _tool("mcopy"),
                    "-o",
                    "-m",
                    "-i",
                    str(partition),
                    str(source),
                    f"::{directory}/{name}" if directory else f"::{name}",
                ],
                f"copying {source} into {partition}",
            )


def mbr(entries: Sequence[tuple[int, int, int]]) -> bytes:
    """A master boot record with the (first sector, sectors, type) partitions, LBA only."""
    no_chs = b"\xfe\xff\xff"  # "use LBA": CHS cannot describe it
    table = b"".join(
        b"\x00" + no_chs + bytes([kind]) + no_chs + struct.pack("<II", start, sectors)
        for start, sectors, kind in entries
    )
    table += bytes(16 * (MAX_PARTITIONS - len(entries)))
    return bytes(440) + struct.pack("<IH", DISK_SIGNATURE, 0) + table + b"\x55\xaa"


def _fat_type(partition: Path) -> int:
    with partition.open("rb") as part:
        boot = part.read(SECTOR)
    label = boot[0x52:0x5A] if boot[0x52:0x57] == b"FAT32" else boot[0x36:0x3E]
    return PARTITION_TYPES.get(label, 0x0C)
