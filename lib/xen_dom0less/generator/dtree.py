"""A small device-tree fragment model shared by both device-tree modes.

The plan becomes nodes to add under /chosen and edits of host
nodes; one renderer writes them into a DTB (patched mode), another as U-Boot
``fdt`` commands (fdt-commands mode), so both modes emit the same tree.
"""

# NamedTuples: annotations evaluated, not `from __future__` strings (see model.py).
from typing import NamedTuple, Union

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


def cells(value: int, count: int = 2) -> tuple[int, ...]:
    """``value`` as ``count`` big-endian 32-bit cells."""
    return tuple((value >> (32 * (count - 1 - i))) & 0xFFFFFFFF for i in range(count))
