"""boot.scr: boot.cmd wrapped as a legacy U-Boot script image, or, when signing, as a
signed FIT script image.

The legacy image is byte-identical to ``mkimage -A arm64 -O linux -T script -C none -d
boot.cmd`` with the same SOURCE_DATE_EPOCH, so we need no u-boot-tools at build time. It
carries a CRC only: anyone who can write the boot partition can change it, and the chain
of trust would start after it. With boot.signing the script is a FIT instead (image
``script``, signed with the image key unless the description's U-Boot verifies
configurations in ``source``; configuration ``dom0less`` naming it, signed with the
configuration key), which U-Boot's ``source ADDRESS#dom0less`` verifies before it runs a
line; a U-Boot built without CONFIG_LEGACY_IMAGE_FORMAT then runs no unsigned script.
"""

from __future__ import annotations

import struct
import zlib

import fdt

from ... import outputs
from ..facts.images import UIMAGE_MAGIC
from ..facts.text import printable
from . import fit_image, signing, uboot_script
from .context import Context
from .fit_image import CONFIGURATION

OS_LINUX = 5
ARCH_ARM64 = 22
TYPE_SCRIPT = 6
COMPRESSION_NONE = 0


#: The file this renderer writes.
FILE = outputs.BOOT_SCR
#: The script's image name in the FIT form: ``source ADDRESS:script`` names it.
SCRIPT = "script"


def render(context: Context) -> dict[str, bytes]:
    text = context.outputs[uboot_script.FILE]
    sign = context.plan.system.boot.signing
    if sign is None:
        return {FILE: script_image(text, context.source_date_epoch)}
    tree = script_fit(context, text)
    return {FILE: signing.sign(tree.to_dtb(version=17), sign, context.source_date_epoch, False).fit}


def script_fit(context: Context, text: bytes) -> fdt.FDT:
    """The script as a FIT: one script image, one configuration naming it, the
    configuration signed and, for U-Boot before 2023.04, the image too."""
    plan = context.plan
    sign = plan.system.boot.signing
    assert sign is not None
    bits = fit_image.key_bits_of(sign)
    tree = fdt.FDT()
    root = tree.root
    root.append(
        fdt.PropStrings(
            "description", f"dom0less boot script: {printable(plan.system.source.name)}"
        )
    )
    root.append(fdt.PropWords("timestamp", context.source_date_epoch & 0xFFFFFFFF))
    root.append(fdt.PropWords("#address-cells", 1))
    images = fdt.Node("images")
    images.append(fdt.PropStrings("default", SCRIPT))
    node = fit_image.image(SCRIPT, plan.script, text, wide=False)
    if signing.signs_images(sign):
        node.append(signing.signature(bits, sign.image_key_name))
    images.append(node)
    root.append(images)
    configurations = fdt.Node("configurations")
    configurations.append(fdt.PropStrings("default", CONFIGURATION))
    configuration = fdt.Node(CONFIGURATION)
    configuration.append(fdt.PropStrings("description", "the boot script that loads boot.itb"))
    configuration.append(fdt.PropStrings("script", SCRIPT))
    configuration.append(signing.signature(bits, sign.key_name, "script"))
    configurations.append(configuration)
    root.append(configurations)
    return tree


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
