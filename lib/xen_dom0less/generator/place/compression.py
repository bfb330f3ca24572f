"""Which files U-Boot reads compressed (boot.compression), and where it stages them.

On a board U-Boot reads every file from its boot storage before Xen starts, so
fewer bytes start Xen sooner where the storage is slow: with boot.compression
the files Xen wants uncompressed (Xen itself, an arm64 Image, a cpio ramdisk) are
stored compressed, and the script loads each one into one staging area and
decompresses it to the address placed for it (render.uboot_script); in a FIT, bootm
decompresses each out of boot.itb to its address (place.fit_room). A file is
stored compressed only when that gains time on an SD card: the bytes it saves
take longer to read at SD's rate than U-Boot takes to decompress the whole file
(facts.storage), by at least MIN_SAVING. Files already compressed (a gzip kernel
Xen decompresses, a compressed ramdisk, a uImage) and device trees are left as
they are. The same inputs give byte-identical files.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from typing import Optional

from ... import files, hosttools
from ...errors import InputFileError
from ...units import KiB
from ..facts import images
from ..facts.storage import STORAGE, UBOOT_DECOMPRESS_RATE
from ..model import System
from ..plan import Blob
from ..read.blobs import claim

#: The input formats stored compressed, by role: what Xen takes uncompressed.
COMPRESSIBLE = {
    "xen": frozenset({images.ARM64_IMAGE}),
    "kernel": frozenset({images.ARM64_IMAGE}),
    "ramdisk": frozenset({images.CPIO}),
}
#: The compressed file's name is the input's with this added.
SUFFIX = {"gzip": ".gz", "lz4": ".lz4"}
#: boot.compression's values, in the order plan --storage compares them.
METHODS = ("none", *SUFFIX)
#: Less saved than this (3.6 ms of reading at SD's rate) is not worth a file and a command.
MIN_SAVING = 64 * KiB
#: zlib's level: 9 takes 5x as long for 0.1 % fewer bytes (Debian's 6.1 arm64 Image:
#: 11237279 bytes in 1.5 s at 6, 11222277 in 7.4 s at 9).
GZIP_LEVEL = 6
#: lz4's frame format as U-Boot's ulz4fn reads it: independent blocks (-BI, lz4's default;
#: ulz4fn refuses linked ones); -9, the Image 13643465 bytes where -1 gives 16702164.
LZ4_ARGS = ("-9", "-BI", "-q", "-c")
#: bootm decompresses a FIT's loadable into at most 20 times its stored bytes
#: (boot/image-fit.c fit_image_load: ``max_decomp_len = len * 20``, from v2019.10 through
#: 2026.10-rc2); Xen, the FIT's kernel, has CONFIG_SYS_BOOTM_LEN (64 MiB on arm64) instead.
FIT_LOADABLE_RATIO = 20
#: Bytes of a file read at once to compress it: the largest input a role takes.
MAX_INPUT = 1 << 32


def apply(system: System, blobs: Iterable[Blob], taken: set[str]) -> None:
    """Store each worthwhile blob compressed under a new name (not one of ``taken``).

    InputFileError if an input can no longer be read, ToolError if lz4 is missing or fails.
    """
    method = system.boot.compression
    if method == "none":
        return
    for blob in blobs:
        if blob.source is None or blob.kind not in COMPRESSIBLE.get(blob.role, ()):
            continue
        data = compressed(blob, method)
        if worthwhile(blob.size, len(data), method) and decompressible(system, blob, len(data)):
            blob.file = claim(blob.file + SUFFIX[method], blob.users[0], taken)
            blob.data, blob.compression, blob.sha256 = data, method, ""


def worthwhile(size: int, stored: int, method: str) -> bool:
    """Whether storing ``size`` bytes as ``stored`` compressed ones gains time on SD."""
    saved = size - stored
    reading = saved / STORAGE["sd"].rate
    return saved >= MIN_SAVING and reading > size / UBOOT_DECOMPRESS_RATE[method]


def decompressible(system: System, blob: Blob, stored: int) -> bool:
    """Whether U-Boot can decompress ``blob`` from ``stored`` bytes: in a FIT, a module
    that shrank more than FIT_LOADABLE_RATIO times would overrun bootm's buffer (unlz4 and
    unzip in a script are given the size)."""
    if system.boot.format != "fit" or blob.role == "xen":
        return True
    return blob.size < FIT_LOADABLE_RATIO * stored


def compressed(blob: Blob, method: str) -> bytes:
    """``blob``'s input compressed with ``method``, the same bytes for the same input."""
    assert blob.source is not None
    try:
        data = files.read(blob.source, MAX_INPUT, f"a {blob.role}")
    except files.UnusableFile as error:
        raise InputFileError(str(error)) from None
    if method == "gzip":
        return gzip.compress(data, GZIP_LEVEL, mtime=0)
    lz4 = hosttools.require(
        "lz4", "install lz4 (apt-get install lz4) or set boot.compression: gzip or none"
    )
    return hosttools.filtered([lz4, *LZ4_ARGS], data, f"compressing {blob.source} with lz4")


def staging(blobs: Iterable[Blob]) -> Optional[Blob]:
    """Room for the largest compressed file, which U-Boot loads each one into in turn
    before decompressing it into place; None if none is compressed."""
    largest = max((b.stored_size for b in blobs if b.compression), default=0)
    if not largest:
        return None
    return Blob("staging", "", None, 0, largest, users=["u-boot"])
