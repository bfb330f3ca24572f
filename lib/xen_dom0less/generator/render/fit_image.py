"""boot.itb: Xen, the DTB and every module in one FIT image that U-Boot boots with bootm.

Written here with the fdt package, not by ``mkimage -f``: the same plan gives the same
bytes on any host, and an unsigned FIT needs no u-boot-tools. Each binary is one image
node with its planned address as ``load`` and a sha256 hash; the configuration names Xen
as the kernel, the DTB as fdt and the modules as loadables, which bootm copies to their
addresses before it starts Xen. When signing, mkimage adds the configuration's signature
and each image's (see render.signing).
"""

from __future__ import annotations

import hashlib

import fdt

from ... import outputs
from ..check.signing_key import key_bits
from ..facts.text import printable
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


def render(context: Context) -> dict[str, bytes]:
    plan = context.plan
    if plan.fit is None:
        return {}
    image = fit_tree(context).to_dtb(version=17)
    sign = plan.system.boot.signing
    if sign is None:
        return {outputs.BOOT_ITB: image}
    signed = signing.sign(image, sign, context.source_date_epoch)
    files = {outputs.BOOT_ITB: signed.fit}
    if signed.uboot_dtb is not None:
        files[outputs.UBOOT_DTB] = signed.uboot_dtb
    return files


def fit_tree(context) -> fdt.FDT:
    """The FIT as a device tree: /images with one node per blob, one configuration."""
    plan = context.plan
    contents = [b for b in plan.blobs if plan.packed(b)]
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
    for blob in contents:
        node = image(names[id(blob)], blob, _data(context, blob), wide)
        if sign is not None:
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
    generated = context.outputs.get(blob.file)
    if generated is not None:
        return generated
    if blob.data is not None:
        return blob.data
    assert blob.source is not None
    return blob.source.read_bytes()


def _address(value: int, wide: bool) -> tuple[int, ...]:
    return (value >> 32, value & 0xFFFFFFFF) if wide else (value,)


def key_bits_of(sign) -> int:
    """The signing key's size, which check.fit made sure of before planning."""
    bits = key_bits(sign.key)
    assert isinstance(bits, int), bits  # checked by check.fit before planning
    return bits


def image(name: str, blob: Blob, data: bytes, wide: bool) -> fdt.Node:
    """One image node: ``blob``'s ``data``, where it is loaded and its sha256."""
    node = fdt.Node(name)
    users = ", ".join(blob.users)
    node.append(fdt.PropStrings("description", printable(f"{blob.file} ({blob.role} of {users})")))
    node.append(fdt.PropBytes("data", data=data))
    node.append(fdt.PropStrings("type", TYPES.get(blob.role, blob.role)))
    node.append(fdt.PropStrings("arch", "arm64"))
    node.append(fdt.PropStrings("os", "linux"))
    node.append(fdt.PropStrings("compression", "none"))
    if blob.role != "script":  # source runs a script where it lies
        node.append(fdt.PropWords("load", *_address(blob.address, wide)))
    if blob.role == "xen":
        node.append(fdt.PropWords("entry", *_address(blob.address, wide)))
    digest = fdt.Node("hash-1")
    digest.append(fdt.PropStrings("algo", "sha256"))
    digest.append(fdt.PropBytes("value", data=hashlib.sha256(data).digest()))
    node.append(digest)
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
