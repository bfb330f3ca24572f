"""xen.dtb as QEMU's ZCU102 model needs it: the GIC-400's CPU interfaces at their 64 KiB alias.

The ZynqMP aliases each 4 KiB page of the GIC-400's CPU interface (GICC) and virtual CPU
interface (GICV) over 64 KiB, so Linux's tree gives them 128 KiB. Xen reads GICC_IIDR to spot
this and then uses the page pair that straddles 0xf000/0x10000. QEMU's model has the same
aliases but answers GICC_IIDR 0x0002043b (no GIC-400 product ID), so Xen keeps the base
("GICv2: GICC size=0x00000000020000 but not aliased") and its GICC_DIR writes (offset 0x1000)
land on GICC_CTLR: each secondary CPU stops taking interrupts and Xen hangs bringing CPUs up.
The copy given to QEMU names the pair Xen would have chosen; the board's tree is untouched.
"""

from __future__ import annotations

from pathlib import Path

import fdt

from xen_dom0less.units import cells, combine_cells

#: What Linux's zynqmp.dtsi gives GICC and GICV, and where Xen moves them on a GIC-400.
ALIASED_SIZE = 0x20000
PAIR_OFFSET = 0xF000
PAIR_SIZE = 0x2000
#: reg entries of an "arm,gic-400" node: GICD, GICC, GICH, GICV.
CPU_INTERFACES = (1, 3)


def write(dtb: Path, out: Path) -> Path:
    """Write ``dtb`` with the GIC's CPU interfaces narrowed to their alias pair into ``out``."""
    tree = fdt.parse_dtb(dtb.read_bytes())
    for path, node in _gics(tree):
        address_cells, size_cells = _cells_of(tree.get_node(path.rsplit("/", 1)[0] or "/"))
        node.set_property(
            "reg", _narrowed(node.get_property("reg").data, address_cells, size_cells)
        )
    out.write_bytes(tree.to_dtb(version=17))
    return out


def _cells_of(parent: fdt.Node) -> tuple[int, int]:
    """The parent's #address-cells and #size-cells (2 and 1 when absent, as the spec says).

    Read here rather than through the generator's host-tree reader: the harness takes the
    generator's outputs, never its code (tests/project/test_import_layers.py).
    """
    cells = []
    for name, default in (("#address-cells", 2), ("#size-cells", 1)):
        prop = parent.get_property(name)
        cells.append(prop.value if prop is not None else default)
    return cells[0], cells[1]


def _gics(tree: fdt.FDT) -> list[tuple[str, fdt.Node]]:
    found = []
    for path, nodes, _ in tree.walk():
        for node in nodes:
            compatible = node.get_property("compatible")
            if compatible is not None and "arm,gic-400" in compatible.data:
                found.append((f"{path.rstrip('/')}/{node.name}", node))
    return found


def _narrowed(words: list[int], address_cells: int, size_cells: int) -> list[int]:
    step = address_cells + size_cells
    entries = [words[i : i + step] for i in range(0, len(words), step)]
    for index in CPU_INTERFACES:
        if index >= len(entries):
            continue
        address = combine_cells(entries[index][:address_cells])
        size = combine_cells(entries[index][address_cells:])
        if size == ALIASED_SIZE:
            moved = cells(address + PAIR_OFFSET, address_cells)
            entries[index] = [*moved, *cells(PAIR_SIZE, size_cells)]
    return [word for entry in entries for word in entry]
