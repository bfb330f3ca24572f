"""xen.dtb: the board's device tree with the dom0less /chosen nodes written in.

Used in ``patched`` mode; in ``fdt-commands`` mode the board DTB is copied
unchanged and U-Boot applies the same tree at boot (see uboot_script).
"""

from __future__ import annotations

import fdt

from .context import Context
from .dtree import Node, Prop, Value

#: Seeds a boot loader or QEMU writes into /chosen for this one boot: frozen into
#: xen.dtb they would give every boot the same "randomness" (QEMU's dumpdtb has them).
BOOT_SEEDS = ("kaslr-seed", "rng-seed")


def render(context: Context) -> dict[str, bytes]:
    plan = context.plan
    if plan.system.boot.device_tree != "patched":
        return {plan.dtb.file: plan.host.data}
    wanted = context.tree  # read the host for it first: the host tree is ours to edit next
    tree = plan.host.detach_tree()
    for edit in wanted.host_edits:
        _set(tree.get_node(edit.path), edit.prop)
    chosen = tree.get_node("/chosen", create=True)
    for name in BOOT_SEEDS:
        chosen.remove_property(name)
    for prop in wanted.chosen_props:
        _set(chosen, prop)
    for node in wanted.nodes:
        chosen.append(_convert(node))
    return {plan.dtb.file: tree.to_dtb(version=17)}


def _convert(node: Node) -> fdt.Node:
    result = fdt.Node(node.name)
    for prop in node.props:
        result.append(_property(prop.name, prop.value))
    for child in node.children:
        result.append(_convert(child))
    return result


def _set(node: fdt.Node, prop: Prop) -> None:
    node.remove_property(prop.name)
    node.append(_property(prop.name, prop.value))


def _property(name: str, value: Value) -> fdt.Property:
    if value is None:
        return fdt.Property(name)
    if value == "":  # an empty string is one NUL byte; the fdt package refuses to write it
        return fdt.PropBytes(name, data=b"\0")
    if isinstance(value, str):
        return fdt.PropStrings(name, value)
    if value and isinstance(value[0], str):
        return fdt.PropStrings(name, *value)
    return fdt.PropWords(name, *value)
