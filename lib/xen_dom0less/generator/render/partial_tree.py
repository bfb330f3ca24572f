"""A guest's partial device tree (``DOMAIN-passthrough.dtb``), made from the host's nodes.

Xen maps a device into a domU only as its partial device tree (a
``multiboot,device-tree`` module) describes it: a ``/passthrough`` node whose
children carry ``xen,reg`` (host pages, their size, guest pages), ``xen,path``
(the host node, whose interrupts Xen routes 1:1) and, without an IOMMU,
``xen,force-assign-without-iommu``; a ``/gic`` node whose phandle the guest's
``interrupt-parent`` names. It is rendered before the other inputs are collected,
because it is one of the guest's modules (the check stage refused what it cannot map).
"""

from __future__ import annotations

import fdt

from ...units import cells
from ..hostdt import HostTree
from ..model import Domain, System
from ..read.devices import HOST_ONLY, PARTIAL_GIC_PHANDLE, HostDevice, pages, provider

#: Phandles of the fixed clocks copied into a partial tree: after /gic's, far below
#: GUEST_PHANDLE_GIC (Xen 4.22 refuses a partial tree with a phandle near it)
FIRST_CLOCK_PHANDLE = PARTIAL_GIC_PHANDLE + 1
CELLS = 2  # #address-cells and #size-cells of the generated /passthrough node


def guest_trees(system: System, host: HostTree) -> dict[str, bytes]:
    """The partial tree of each domain that has devices but names no device_tree."""
    return {
        d.name: guest_tree(d, host) for d in system.domains if d.devices and d.device_tree is None
    }


def guest_tree(domain: Domain, host: HostTree) -> bytes:
    """The partial device tree that gives ``domain`` its devices (validated before)."""
    tree = fdt.FDT()
    root = tree.root
    root.append(fdt.PropWords("#address-cells", CELLS))
    root.append(fdt.PropWords("#size-cells", CELLS))
    gic = fdt.Node("gic")
    gic.append(fdt.PropWords("#address-cells", 0))
    gic.append(fdt.PropWords("#interrupt-cells", 3))
    gic.append(fdt.Property("interrupt-controller"))
    gic.append(fdt.PropWords("phandle", PARTIAL_GIC_PHANDLE))
    root.append(gic)
    bus = fdt.Node("passthrough")
    bus.append(fdt.PropStrings("compatible", "simple-bus"))
    bus.append(fdt.Property("ranges"))
    bus.append(fdt.PropWords("#address-cells", CELLS))
    bus.append(fdt.PropWords("#size-cells", CELLS))
    clocks: dict[str, int] = {}
    for device in domain.devices:
        facts = HostDevice(host, device)
        facts.providers()  # finds the fixed clocks to copy
        for clock in facts.fixed_clocks:
            if clock not in clocks:
                clocks[clock] = FIRST_CLOCK_PHANDLE + len(clocks)
                bus.append(_fixed_clock(host, clock, clocks[clock]))
        bus.append(_device_node(host, facts, domain, clocks))
    root.append(bus)
    return tree.to_dtb(version=17)


def _fixed_clock(host: HostTree, path: str, phandle: int) -> fdt.Node:
    node = fdt.Node(path.rsplit("/", 1)[1])
    for prop in host.node(path).props:
        if prop.name not in HOST_ONLY:
            node.append(prop.copy())
    node.append(fdt.PropWords("phandle", phandle))
    return node


def _device_node(host: HostTree, facts: HostDevice, domain: Domain, clocks: dict) -> fdt.Node:
    source = host.node(facts.path)
    assert facts.regions  # check_devices refused it otherwise
    mappings, delta = pages(facts.regions, facts.device.guest_address)
    node = fdt.Node(f"{source.name.split('@')[0]}@{facts.regions[0].address + delta:x}")
    for prop in source.props:
        if prop.name in HOST_ONLY or prop.name in ("reg", "interrupts"):
            continue
        word = provider(prop.name)
        if word == "clocks" and facts.fixed_clocks and prop.name == "clocks":
            node.append(fdt.PropWords("clocks", *(clocks[c] for c in facts.fixed_clocks)))
        elif word is None or (word == "clocks" and facts.fixed_clocks):
            node.append(prop.copy())
    node.append(
        fdt.PropWords("reg", *(c for r in facts.regions for c in _cells(r.address + delta, r.size)))
    )
    if facts.spis:
        node.append(fdt.PropWords("interrupt-parent", PARTIAL_GIC_PHANDLE))
        triples = host.words(facts.path, "interrupts") or []
        node.append(fdt.PropWords("interrupts", *triples))
    node.append(
        fdt.PropWords("xen,reg", *(c for m in mappings for c in _cells(m.host, m.size, m.guest)))
    )
    node.append(fdt.PropStrings("xen,path", facts.path))
    if facts.needs_force(domain):
        node.append(fdt.Property("xen,force-assign-without-iommu"))
    return node


def _cells(*values: int) -> tuple[int, ...]:
    """Each value as the /passthrough node's CELLS cells."""
    return tuple(c for value in values for c in cells(value, CELLS))
