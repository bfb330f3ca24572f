"""boot.itb: Xen, the DTB and every module in one FIT image that U-Boot boots with bootm.

Written here with the fdt package, not by ``mkimage -f``: the same plan gives the same
bytes on any host, and an unsigned FIT needs no u-boot-tools. Each binary is one image
node with a sha256 hash; the configuration names Xen as the kernel, the DTB as fdt and the
modules as loadables. The data lies outside the structure where place.fit_room planned it
(mkimage's ``-E -p -B`` layout), and each image's ``load`` is where that data lies once
U-Boot loaded boot.itb, so bootm checks each hash and copies nothing; an image stored
compressed (boot.compression) says so in its ``compression`` (U-Boot's names, gzip and lz4)
and bootm decompresses it to its own ``load``, its hash and any signature covering the
compressed bytes, as boot.itb holds them. When signing,
mkimage adds the configuration's signature, and each image's unless the description's
U-Boot needs none (render.signing.signs_images), and lays the data out the same way.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Optional

import fdt

from ... import outputs
from ...units import align_up
from ..check.signing_key import key_bits
from ..facts.text import printable
from ..place import fit_room
from ..plan import Blob
from . import signing
from .context import Context

#: The configuration bootm starts.
CONFIGURATION = "dom0less"

#: FIT image types by blob role; bootm ignores a loadable's type but `iminfo` shows it.
TYPES = {
    "xen": "kernel",
    "dtb": "flat_dt",
    "kernel": "kernel",
    "ramdisk": "ramdisk",
    "device-tree": "flat_dt",
    "xsm-policy": "firmware",
}


#: What mkimage adds to the structure when it signs: per signature node its value and
#: properties, per image the configuration's hashed-nodes entries (an upper bound).
SIGNATURE_GROWTH = 1024
HASHED_NODES_GROWTH = 128


def render(context: Context) -> dict[str, bytes]:
    plan = context.plan
    if plan.fit is None:
        return {}
    contents = fit_room.run(plan.packed_blobs())
    header = fit_room.header_of(plan.fit, contents)
    data = [_data(context, blob) for blob in contents]
    sign = plan.system.boot.signing
    structure = fit_tree(context, data, external=True).to_dtb(version=17)
    need = len(structure)
    if sign is not None:
        signatures = 1 + (len(contents) if signing.signs_images(sign) else 0)
        need += signatures * (SIGNATURE_GROWTH + key_bits_of(sign) // 8)
        need += len(contents) * HASHED_NODES_GROWTH
    if need > header:  # measured: pipeline.plan_and_render places it again with more room
        return {outputs.BOOT_ITB: _with_size(structure, need)}
    if sign is None:
        return {outputs.BOOT_ITB: external(structure, data, header)}
    embedded = fit_tree(context, data, external=False).to_dtb(version=17)
    signed = signing.sign(embedded, sign, context.source_date_epoch, external=header)
    files = {outputs.BOOT_ITB: signed.fit}
    if signed.uboot_dtb is not None:
        files[outputs.UBOOT_DTB] = signed.uboot_dtb
    return files


def header_size(itb: bytes) -> int:
    """The FIT structure's size (its FDT header's totalsize): what fit_room made room for."""
    return struct.unpack_from(">I", itb, 4)[0]


def _with_size(structure: bytes, size: int) -> bytes:
    """``structure`` claiming ``size`` bytes: what the pipeline measures to make room."""
    grown = bytearray(structure.ljust(size, b"\0"))
    struct.pack_into(">I", grown, 4, size)
    return bytes(grown)


def external(structure: bytes, data: list[bytes], header: int) -> bytes:
    """boot.itb as ``mkimage -E -p header -B fit_room.DATA_ALIGN`` lays it out: the
    structure, then from ``header`` each image's data started on a DATA_ALIGN boundary."""
    parts = [structure.ljust(header, b"\0")]
    parts += [d.ljust(align_up(len(d), fit_room.DATA_ALIGN), b"\0") for d in data]
    return b"".join(parts)


def fit_tree(context, data: list[bytes], external: bool) -> fdt.FDT:
    """The FIT as a device tree: /images with one node per blob, in the order of their
    data (fit_room.run, as mkimage -E lays it out), one configuration; each image's
    ``data`` inside (for mkimage to sign and move out) or, ``external``, only its size and
    its position in boot.itb."""
    plan = context.plan
    contents = fit_room.run(plan.packed_blobs())
    positions = fit_room.offsets(contents, fit_room.header_of(plan.fit, contents))
    wide = any(b.address >= 1 << 32 for b in contents)
    names = {id(b): _node_name(b, i) for i, b in enumerate(contents)}
    tree = fdt.FDT()
    root = tree.root
    root.append(
        fdt.PropStrings("description", f"Xen dom0less: {printable(plan.system.source.name)}")
    )
    root.append(fdt.PropWords("timestamp", context.source_date_epoch & 0xFFFFFFFF))
    root.append(fdt.PropWords("#address-cells", 2 if wide else 1))
    images = fdt.Node("images")
    sign = plan.system.boot.signing
    for index, blob in enumerate(contents):
        position = positions[id(blob)] if external else None
        node = image(names[id(blob)], blob, data[index], wide, position)
        if sign is not None and signing.signs_images(sign):
            node.append(signing.signature(key_bits_of(sign), sign.image_key_name))
        images.append(node)
    root.append(images)
    configurations = fdt.Node("configurations")
    configurations.append(fdt.PropStrings("default", CONFIGURATION))
    configurations.append(_configuration(context, contents, names))
    root.append(configurations)
    return tree


def _node_name(blob: Blob, index: int) -> str:
    """Short fixed names (FIT node names are limited); the description says which file."""
    if blob.role in ("xen", "dtb"):
        return "xen" if blob.role == "xen" else "fdt"
    return f"module-{index}"


def _data(context, blob: Blob) -> bytes:
    """``blob``'s bytes as boot.itb carries them (the DTB padded to its room)."""
    generated = context.outputs.get(blob.file)
    if generated is None and blob.data is not None:
        generated = blob.data
    if generated is None:
        assert blob.source is not None
        generated = blob.source.read_bytes()
    return generated.ljust(fit_room.data_size(blob), b"\0")


def _address(value: int, wide: bool) -> tuple[int, ...]:
    return (value >> 32, value & 0xFFFFFFFF) if wide else (value,)


def key_bits_of(sign) -> int:
    """The signing key's size, which check.fit made sure of before planning."""
    bits = key_bits(sign.key)
    assert isinstance(bits, int), bits  # checked by check.fit before planning
    return bits


def image(
    name: str, blob: Blob, data: bytes, wide: bool, position: Optional[int] = None
) -> fdt.Node:
    """One image node: ``blob``'s ``data`` (or, at ``position``, only its place in the
    file), where it is loaded and its sha256."""
    node = fdt.Node(name)
    users = ", ".join(blob.users)
    node.append(fdt.PropStrings("description", printable(f"{blob.file} ({blob.role} of {users})")))
    if position is None:
        node.append(fdt.PropBytes("data", data=data))
    else:
        node.append(fdt.PropWords("data-size", len(data)))
        node.append(fdt.PropWords("data-position", position))
    node.append(fdt.PropStrings("type", TYPES.get(blob.role, blob.role)))
    node.append(fdt.PropStrings("arch", "arm64"))
    node.append(fdt.PropStrings("os", "linux"))
    node.append(fdt.PropStrings("compression", blob.compression or "none"))
    if blob.role != "script":  # source runs a script where it lies
        node.append(fdt.PropWords("load", *_address(blob.address, wide)))
    if blob.role == "xen":
        node.append(fdt.PropWords("entry", *_address(blob.address, wide)))
    hashed = fdt.Node("hash-1")
    hashed.append(fdt.PropStrings("algo", "sha256"))
    hashed.append(fdt.PropBytes("value", data=hashlib.sha256(data).digest()))
    node.append(hashed)
    return node


def _configuration(context, contents: list[Blob], names: dict[int, str]) -> fdt.Node:
    plan = context.plan
    node = fdt.Node(CONFIGURATION)
    node.append(
        fdt.PropStrings("description", f"Xen {plan.version} and {len(plan.system.domains)} domUs")
    )
    node.append(fdt.PropStrings("kernel", names[id(plan.xen)]))
    node.append(fdt.PropStrings("fdt", names[id(plan.dtb)]))
    loadables = [names[id(b)] for b in contents if b.role not in ("xen", "dtb")]
    if loadables:
        node.append(fdt.PropStrings("loadables", *loadables))
    sign = plan.system.boot.signing
    if sign is not None:
        images = ["kernel", "fdt", *(["loadables"] if loadables else [])]
        node.append(signing.signature(key_bits_of(sign), sign.key_name, *images))
    return node
