"""The UEFI boot format: Xen's EFI binary loads its configuration, the DTB and every module.

Xen started as an EFI application reads BOOTAA64.cfg (its name with .cfg) from its own
directory: the options and ``dtb=xen.dtb``. Finding domains in that DTB whose modules
carry ``xen,uefi-binary`` instead of ``reg``, it loads each file from the same directory
into memory the firmware gives it, so no load address of ours is used at boot.
"""

from __future__ import annotations

from pathlib import Path

from ... import files, outputs
from ...errors import Problems
from ..model import System

#: The first bytes of a PE/COFF (EFI) image.
PE_MAGIC = b"MZ"
#: Xen's configuration parser (common/efi/boot.c, pre_parse) ends a line's value at '#'.
COMMENT = "#"


def efi_binary(system: System) -> Path:
    """Xen's EFI binary: xen.efi, or the image's path with .efi (Debian's layout)."""
    xen = system.xen
    return xen.efi or xen.image.with_name(xen.image.name + ".efi")


def check(system: System, problems: Problems) -> None:
    """Problems with boot.format uefi, each naming its key."""
    if system.boot.format != "uefi":
        return
    if system.boot.device_tree != "patched":
        problems.add(
            "boot.device_tree",
            "format uefi hands Xen the finished xen.dtb through its xen.cfg: "
            "use device_tree: patched",
        )
    if system.boot.compression != "none":
        problems.add(
            "boot.compression",
            "format uefi: Xen's EFI loader reads each file itself and decompresses none: "
            "use compression: none",
        )
    for name, value in (
        ("bootargs", system.xen.bootargs),
        ("extra_bootargs", system.xen.extra_bootargs),
    ):
        if value and COMMENT in value:
            problems.add(
                f"xen.{name}",
                f"Xen's EFI loader reads its options from {outputs.EFI_CONFIG}, where "
                f"'{COMMENT}' starts a comment and would cut them there: leave it out",
            )
    path = efi_binary(system)
    key = "xen.efi" if system.xen.efi else "xen.image"
    try:
        with files.open_regular(path) as handle:
            magic = handle.read(2)
    except (files.UnusableFile, OSError) as error:
        why = error if isinstance(error, files.UnusableFile) else files.reason(path, error)
        problems.add(
            key,
            f"format uefi needs Xen's EFI binary and {why}: give xen.efi "
            "(Debian ships /boot/xen-VERSION-arm64.efi beside the image)",
        )
        return
    if magic != PE_MAGIC:
        problems.add(key, f"{path} is not an EFI binary (no PE 'MZ' header): give Xen's .efi")
