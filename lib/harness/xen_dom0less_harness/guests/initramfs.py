"""A Linux initramfs whose /init prints a marker and idles, from Debian's static busybox.

Written as a newc cpio by our own code with fixed owners and times, so the
same marker always gives the same bytes, and no root is needed for the
/dev/console node the kernel opens for init's output.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

NEWC_MAGIC = b"070701"
TRAILER = "TRAILER!!!"
CONSOLE_DEVICE = (5, 1)

INIT = """#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo '{marker}'
while :; do /bin/busybox sleep 3600; done
"""


@dataclass(frozen=True)
class Entry:
    """One cpio member."""

    name: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def entries(marker: str, busybox: Path) -> list[Entry]:
    """The files of the initramfs: busybox, /init, and the directories and device it needs."""
    if "'" in marker or "\n" in marker:
        raise ValueError("the marker must be one line without single quotes")
    dirs = ("bin", "dev", "proc", "sys")
    return [
        *(Entry(name, stat.S_IFDIR | 0o755) for name in dirs),
        Entry("dev/console", stat.S_IFCHR | 0o600, rdev=CONSOLE_DEVICE),
        Entry("bin/busybox", stat.S_IFREG | 0o755, busybox.read_bytes()),
        Entry("bin/sh", stat.S_IFLNK | 0o777, b"busybox"),
        Entry("init", stat.S_IFREG | 0o755, INIT.format(marker=marker).encode()),
    ]


def newc(members: list[Entry]) -> bytes:
    """The members as a newc ("070701") cpio archive, all owned by root with mtime 0."""
    out = bytearray()
    for inode, member in enumerate([*members, Entry(TRAILER, 0)], start=1):
        name = member.name.encode() + b"\0"
        nlink = 2 if stat.S_ISDIR(member.mode) else 1
        fields = (
            inode,
            member.mode,
            0,
            0,
            nlink,
            0,
            len(member.data),
            0,
            0,
            *member.rdev,
            len(name),
            0,
        )
        out += NEWC_MAGIC + b"".join(b"%08X" % value for value in fields) + name
        out += bytes(-len(out) % 4)
        out += member.data
        out += bytes(-len(out) % 4)
    return bytes(out)


def write(marker: str, busybox: Path, dest: Path) -> Path:
    """Write an initramfs printing ``marker`` to ``dest``."""
    dest.write_bytes(newc(entries(marker, busybox)))
    return dest
