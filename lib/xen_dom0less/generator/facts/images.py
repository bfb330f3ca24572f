"""Recognise the binaries users hand us by their magic numbers.

Xen fails late and cryptically on a wrong module ("Could not set up domain"),
so every file is identified here and checked against the role it plays.
"""

from __future__ import annotations

import struct

ARM64_IMAGE = "arm64 Image"
ARM32_ZIMAGE = "arm32 zImage"
GZIP = "gzip"
UIMAGE = "uImage"
CPIO = "cpio"
DTB = "device tree blob"
XZ = "xz"
ZSTD = "zstd"
LZ4 = "lz4"
FLASK = "FLASK policy"
UNKNOWN = "unknown"

#: Magic numbers (big-endian) of the two formats we also write: U-Boot's legacy image and the FDT.
UIMAGE_MAGIC = 0x27051956
DTB_MAGIC = 0xD00DFEED

#: Formats Xen accepts for each kind of module (kernels are decompressed by Xen).
KERNEL_FORMATS = frozenset({ARM64_IMAGE, ARM32_ZIMAGE, GZIP, UIMAGE})
RAMDISK_FORMATS = frozenset({CPIO, GZIP, XZ, ZSTD, LZ4, UIMAGE})
XEN_FORMATS = frozenset({ARM64_IMAGE, ARM32_ZIMAGE, UIMAGE})


def memory_size(head: bytes, size: int, kind: str) -> int:
    """Bytes an image of ``kind`` and ``size`` occupies once running, from its first bytes
    ``head``: an arm64 Image counts its BSS."""
    if kind == ARM64_IMAGE:
        return max(size, struct.unpack_from("<Q", head, 0x10)[0])
    return size


def decompressed_by_xen(head: bytes, kind: str) -> bool:
    """Whether Xen decompresses a kernel of ``kind`` starting with ``head`` (a gzip file, or
    a uImage whose header's ih_comp, byte 31, names a compression) into new pages.

    kernel_decompress (Xen 4.17 to 4.22) then points the boot module at those pages and
    frees the file's, so another domain whose module names the same address no longer
    finds it: "Missing kernel boot module?", "Could not set up domain". Such a kernel is
    loaded once per domain; any other is shared (Xen only copies from it).
    """
    return kind == GZIP or (kind == UIMAGE and len(head) > 31 and head[31] != 0)


def gzip_output_size(trailer: bytes) -> int:
    """The uncompressed size a gzip file's last 4 bytes give (ISIZE, RFC 1952: modulo 2^32,
    of its last member)."""
    return int.from_bytes(trailer[-4:], "little")


def classify(head: bytes) -> str:
    """The format of a file from its first 64 bytes."""
    if len(head) >= 0x3C and head[0x38:0x3C] == b"ARM\x64":
        return ARM64_IMAGE
    if len(head) >= 0x28 and struct.unpack_from("<I", head, 0x24)[0] == 0x016F2818:
        return ARM32_ZIMAGE
    if head[:2] == b"\x1f\x8b":
        return GZIP
    magic = int.from_bytes(head[:4], "big")
    if magic == UIMAGE_MAGIC:
        return UIMAGE
    if magic == DTB_MAGIC:
        return DTB
    if head[:6] in (b"070701", b"070702", b"070707"):
        return CPIO
    if head[:6] == b"\xfd7zXZ\x00":
        return XZ
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return ZSTD
    if head[:4] in (b"\x02\x21\x4c\x18", b"\x04\x22\x4d\x18"):
        return LZ4
    if head[:4] == b"\x8c\xff\x7c\xf9":
        return FLASK
    return UNKNOWN
