"""A small device-tree fragment model shared by both device-tree modes.

The plan becomes nodes to add under /chosen and edits of host
nodes; one renderer writes them into a DTB (patched mode), another as U-Boot
``fdt`` commands (fdt-commands mode), so both modes emit the same tree.
"""

# NamedTuples: annotations evaluated, not `from __future__` strings (see model.py).
from typing import NamedTuple, Union

from ...units import CELL_MAX
from ..facts import text

#: None: empty property; str: one string; tuple of str: string list; tuple of int: u32 cells
Value = Union[None, str, tuple[str, ...], tuple[int, ...]]


class Prop(NamedTuple):
    name: str
    value: Value = None


class Node:
    """A node to create: properties in order, then children in order."""

    __slots__ = ("children", "name", "props")

    def __init__(self, name: str):
        self.name = name
        self.props: list[Prop] = []
        self.children: list[Node] = []

    def add(self, name: str, value: Value = None) -> "Node":
        self.props.append(Prop(name, value))
        return self


class HostEdit(NamedTuple):
    """Set one property on an existing node of the board's tree."""

    path: str
    prop: Prop


class ChosenTree(NamedTuple):
    """Everything dom0less adds to the board's device tree."""

    chosen_props: list[Prop]
    nodes: list[Node]
    host_edits: list[HostEdit]


def value_problems(tree: ChosenTree, script: bool) -> list[str]:
    """Why values of ``tree`` cannot be written, each naming its node and property.

    The last check before rendering, of every string and number: cells must fit
    32 bits, strings must be printable ASCII and, when ``script`` (U-Boot's
    ``fdt set`` writes them), literal words of the boot script.
    """
    check = text.not_fdt_set_string if script else text.not_printable_ascii
    found: list[str] = []

    def visit(path: str, props: list[Prop]) -> None:
        for prop in props:
            values = (prop.value,) if isinstance(prop.value, str) else prop.value or ()
            for value in values:
                problem = (
                    check(value)
                    if isinstance(value, str)
                    else None
                    if 0 <= value <= CELL_MAX
                    else f"{value:#x} does not fit a 32-bit cell"
                )
                if problem:
                    found.append(f"device tree {path} property {prop.name}: {problem}")

    def walk(parent: str, node: Node) -> None:
        path = f"{parent}/{node.name}"
        problem = text.not_script_word(node.name) if script else None
        if problem:
            found.append(f"device tree node {path}: {problem}")
        visit(path, node.props)
        for child in node.children:
            walk(path, child)

    visit("/chosen", tree.chosen_props)
    for node in tree.nodes:
        walk("/chosen", node)
    for edit in tree.host_edits:
        visit(edit.path, [edit.prop])
        problem = text.not_script_word(edit.path) if script else None
        if problem:
            found.append(f"device tree node {edit.path}: {problem}")
    return found
