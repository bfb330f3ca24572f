"""The FIT boot format: what a description must say to use it (its room: place.fit_room).

In this format U-Boot loads one file, boot.itb, and ``bootm`` checks each image's sha256
(and, when signed, the configuration's signature) and uses Xen, the DTB and every module
where they lie in it: each image is planned at its data's address (place.fit_room), but
one stored compressed (boot.compression), which bootm decompresses to its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ... import files
from ...errors import Problems
from ..model import System
from ..read import dtb_check
from . import signing_key


def check(system: System, problems: Problems) -> None:
    """Problems with boot.format and boot.signing, each naming its key."""
    boot = system.boot
    if boot.format == "fit" and boot.device_tree != "patched":
        problems.add(
            "boot.device_tree",
            "format fit carries the finished DTB inside the FIT: use device_tree: patched",
        )
    sign = boot.signing
    if sign is None:
        return
    if boot.format != "fit":
        problems.add("boot.signing", "only a FIT is signed: set boot.format: fit")
    bits = signing_key.key_bits(sign.key)
    if isinstance(bits, str):
        problems.add("boot.signing.key", bits)
    name_problem = signing_key.key_name_problem(sign)
    if name_problem:
        problems.add("boot.signing.key", name_problem)
    if sign.uboot_dtb is not None:
        why = _not_a_dtb(sign.uboot_dtb)
        if why:
            problems.add("boot.signing.uboot_dtb", f"{why}: give U-Boot's control DTB (u-boot.dtb)")


def _not_a_dtb(path: Path) -> Optional[str]:
    """Why ``path`` is no DTB mkimage can add a key to, read as every input DTB is (a FIFO
    or a directory named, never opened blocking; the blob checked whole), or None."""
    try:
        data = files.read(path, dtb_check.MAX_DTB, "a DTB")
    except files.UnusableFile as error:
        return str(error)
    invalid = dtb_check.problem(data)
    return f"{path} is not a DTB file: {invalid}" if invalid else None
