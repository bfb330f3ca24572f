"""A small device-tree fragment model shared by both device-tree modes.

The planner's result becomes nodes to add under /chosen and edits of host
nodes; one renderer writes them into a DTB (patched mode), another as U-Boot
``fdt`` commands (fdt-commands mode), so both modes emit the same tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

#: None: empty property; str: one string; tuple of str: string list; tuple of int: u32 cells
Value = Union[None, str, tuple[str, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Prop:
    name: str
    value: Value = None


@dataclass
class Node:
    name: str
    props: list[Prop] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def add(self, name: str, value: Value = None) -> Node:
        self.props.append(Prop(name, value))
        return self


@dataclass(frozen=True)
class HostEdit:
    """Set one property on an existing node of the board's tree."""

    path: str
    prop: Prop


@dataclass
class ChosenTree:
    """Everything dom0less adds to the board's device tree."""

    chosen_props: list[Prop]
    nodes: list[Node]
    host_edits: list[HostEdit]


def cells(value: int, count: int = 2) -> tuple[int, ...]:
    """``value`` as ``count`` big-endian 32-bit cells."""
    return tuple((value >> (32 * (count - 1 - i))) & 0xFFFFFFFF for i in range(count))
