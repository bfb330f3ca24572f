"""boot.scr: boot.cmd wrapped as a legacy U-Boot script image.

Byte-identical to ``mkimage -A arm64 -O linux -T script -C none -d boot.cmd``
with the same SOURCE_DATE_EPOCH, so we need no u-boot-tools at build time.
"""

from __future__ import annotations

import struct
import zlib

from ... import outputs
from ..facts.images import UIMAGE_MAGIC
from . import uboot_script
from .context import Context

OS_LINUX = 5
ARCH_ARM64 = 22
TYPE_SCRIPT = 6
COMPRESSION_NONE = 0


#: The file this renderer writes.
FILE = outputs.BOOT_SCR


def render(context: Context) -> dict[str, bytes]:
    return {FILE: script_image(context.outputs[uboot_script.FILE], context.source_date_epoch)}


def script_image(text: bytes, timestamp: int) -> bytes:
    """A type-script image: a length table (one entry, then 0) and the text.

    mkimage pads only between files of a multi-file image, so one file is not padded.
    """
    payload = struct.pack(">II", len(text), 0) + text
    header = _header(payload, timestamp, header_crc=0)
    header = _header(payload, timestamp, header_crc=zlib.crc32(header))
    return header + payload


def _header(payload: bytes, timestamp: int, header_crc: int) -> bytes:
    """The 64-byte legacy image header, with an empty name as mkimage writes without -n."""
    return struct.pack(
        ">7I4B32s",
        UIMAGE_MAGIC,
        header_crc,
        timestamp,
        len(payload),
        0,
        0,
        zlib.crc32(payload),
        OS_LINUX,
        ARCH_ARM64,
        TYPE_SCRIPT,
        COMPRESSION_NONE,
        b"",
    )
