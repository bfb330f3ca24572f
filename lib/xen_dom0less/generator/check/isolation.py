"""The isolation model: every physical range each domain and Xen can reach, and how.

Xen checks none of this for ``xen,reg`` (it maps whatever the partial tree names), so the
rules (isolation_rules), ``dom0less plan`` and the manifest all read it from here. Devices
are found by address (their ``reg`` through every bus's ``ranges``), never by node name: a
second node describing Xen's UART is still Xen's UART.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Optional

from ...errors import Problem, UserError
from ..hostdt import HostTree
from ..model import Domain, Region, System
from ..plan import XEN, Blob, Isolation, Reach
from ..read.devices import HostDevice, pages
from . import consoles

#: Compatibles of the IOMMUs Xen drives (drivers/passthrough/arm): Xen keeps their registers.
SMMU_COMPATIBLES = {
    "arm,smmu-v1",
    "arm,smmu-v2",
    "arm,mmu-400",
    "arm,mmu-401",
    "arm,mmu-500",
    "arm,smmu-v3",
    "cavium,smmu-v2",
}
#: The generic timer's memory-mapped frames, which Xen reads its counter frequency from.
TIMER_COMPATIBLES = {"arm,armv7-timer-mem"}
#: A node with one of these masters the bus itself: it can read and write RAM (DMA).
DMA_PROPERTIES = ("iommus", "dma-coherent", "#dma-cells")
#: Subtrees whose reg is not device registers: boot modules and RAM set aside.
NOT_DEVICES = ("/chosen", "/reserved-memory", "/cpus")
#: How Xen's own kinds of reach are named (devices among them are never a guest's).
XEN_DEVICES = ("console UART", "GIC", "SMMU", "timer")


class HostNode(NamedTuple):
    """A node of the host tree with registers the CPU can address."""

    path: str
    regions: tuple[Region, ...]
    compatible: tuple[str, ...]
    enabled: bool


def host_nodes(host: HostTree) -> tuple[HostNode, ...]:
    """Every memory-mapped device node of the board, RAM and reservations left out."""
    found = []
    memory = set(host.memory_nodes)
    for parent, nodes, _props in host.tree.walk():
        for node in nodes:
            path = f"{parent.rstrip('/')}/{node.name}"
            if path in memory or path.startswith(NOT_DEVICES):
                continue
            try:
                regions = host.cpu_regs(path)
            except UserError:  # cell counts no CPU address can be read through
                continue
            if regions:
                status = host.string(path, "status")
                found.append(
                    HostNode(
                        path,
                        tuple(regions),
                        tuple(host.strings(path, "compatible")),
                        status in (None, "okay", "ok"),
                    )
                )
    return tuple(found)


def related(path: str, other: str) -> bool:
    """Whether one node is the other or contains it (a bus's reg spans its children's)."""
    return path == other or other.startswith(path + "/") or path.startswith(other + "/")


def xen_devices(system: System, host: HostTree, nodes: Iterable[HostNode]) -> list[Reach]:
    """The registers Xen drives itself: its console UART, the GIC, SMMUs, timer frames."""
    console = consoles.choose(system, host).path
    tops = {console: "console UART", host.gic_path: "GIC"}
    for node in nodes:
        if SMMU_COMPATIBLES.intersection(node.compatible):
            tops.setdefault(node.path, "SMMU")
        elif TIMER_COMPATIBLES.intersection(node.compatible):
            tops.setdefault(node.path, "timer")
    found = []
    for node in nodes:
        top = next((t for t in tops if t and (node.path + "/").startswith(t + "/")), None)
        if top is not None:
            found += [Reach(r, tops[top], node.path) for r in node.regions]
    return found


def dma_capable(host: HostTree, path: str) -> Optional[str]:
    """The property saying ``path`` masters the bus, if any."""
    node = host.node(path)
    names = {p.name for p in node.props} if node else set()
    return next((name for name in DMA_PROPERTIES if name in names), None)


def ram(host: HostTree) -> list[Region]:
    """RAM as the board has it: the banks in use and every memory node's reg."""
    banks = set(host.memory_banks)
    for path in host.memory_nodes:
        banks.update(host.regs(path, "/"))
    return sorted(banks)


def domain_reach(system: System, host: HostTree, domain: Domain) -> list[Reach]:
    """What one domU reaches: static memory, fixed shared memory, its devices' pages and,
    through a DMA-capable device no IOMMU protects, all of RAM."""
    found = []
    for index, region in enumerate(domain.static_memory):
        key = f"{domain.key}.static_memory[{index}]"
        found.append(Reach(region, "static memory", key, key))
    regions = {s.id: s for s in system.shared_memory}
    for index, use in enumerate(domain.shared_memory):
        region = regions.get(use.id)
        if region is None or region.host_address is None:
            continue  # Xen places it in its heap: no range to check
        others = tuple(
            d.name
            for d in system.domains
            if d.name != domain.name and any(u.id == use.id for u in d.shared_memory)
        )
        found.append(
            Reach(
                Region(region.host_address, region.size),
                "shared memory",
                f"shared_memory ({use.id})",
                f"{domain.key}.shared_memory[{index}]",
                others,
            )
        )
    for index, device in enumerate(domain.devices):
        if not host.has_node(device.path):
            continue  # the domain rules name the missing node
        facts = HostDevice(host, device)
        key = f"{domain.key}.passthrough[{index}]"
        if not facts.regions:
            continue
        found += [
            Reach(Region(m.host, m.size), "device", device.path, key)
            for m in pages(facts.regions, None)[0]
        ]
        if dma_capable(host, device.path) and facts.needs_force(domain):
            found += [Reach(bank, "DMA", device.path, key) for bank in ram(host)]
    return found


def build(system: System, host: HostTree, nodes: tuple[HostNode, ...]) -> Isolation:
    """The reach of Xen's devices and heap, dom0's devices and each domU's ranges, from the
    board's device ``nodes``; a DMA-capable device without an IOMMU named in a warning."""
    xen = xen_devices(system, host, nodes)
    heap = system.xen.static_heap or tuple(ram(host))
    xen += [Reach(r, "heap", "xen.static_heap" if system.xen.static_heap else "RAM") for r in heap]
    reach: dict[str, tuple[Reach, ...]] = {XEN: tuple(xen)}
    domus = {d.name: tuple(domain_reach(system, host, d)) for d in system.domains}
    if system.dom0 is not None:
        reach["dom0"] = tuple(dom0_reach(nodes, xen, domus.values()))
    reach.update(domus)
    warnings = [
        Problem(dma_risk(host, name, r), where=r.key)
        for name, rs in domus.items()
        for r in rs
        if r.how == "DMA"
    ]
    warnings += [
        Problem(neighbour_risk(n), where=n.reach.key)
        for n in neighbours(reach, nodes)
        if not n.node.enabled
    ]
    return Isolation(reach, tuple(dict.fromkeys(warnings)))


class Neighbour(NamedTuple):
    """A device no party was given, on a page a domain's device gives it."""

    domain: str
    reach: Reach
    node: HostNode
    region: Region


def neighbours(reach: dict[str, tuple[Reach, ...]], nodes: Iterable[HostNode]) -> list[Neighbour]:
    """Devices nobody was given that share a page with a domU's device (Xen maps pages)."""
    owned = [r.source for rs in reach.values() for r in rs if r.how in ("device", *XEN_DEVICES)]
    spare = [n for n in nodes if not any(related(n.path, path) for path in owned)]
    found = []
    for name, reaches in reach.items():
        for mine in reaches if name not in (XEN, "dom0") else ():
            if mine.how != "device":
                continue
            for node in spare:
                region = next((r for r in node.regions if r.overlaps(mine.region)), None)
                if region is not None:
                    found.append(Neighbour(name, mine, node, region))
    return found


def neighbour_risk(neighbour: Neighbour) -> str:
    """What a domain reaches beyond its device, in one sentence."""
    mine, node = neighbour.reach, neighbour.node
    state = "" if node.enabled else "disabled, "
    return (
        f"the page {mine.region.span()} of {mine.source} also holds {node.path} ({state}given "
        f"to no domain) at {overlap(mine.region, neighbour.region).span()}: Xen maps whole "
        f"4 KiB pages, so '{neighbour.domain}' reaches both"
    )


def overlap(a: Region, b: Region) -> Region:
    """The range two overlapping regions share."""
    return Region(max(a.address, b.address), min(a.end, b.end) - max(a.address, b.address))


def dma_risk(host: HostTree, name: str, reach: Reach) -> str:
    """Why a domain's DMA reaches all of RAM, in one sentence."""
    banks = ", ".join(b.span() for b in ram(host))
    return (
        f"{reach.source} can do DMA (it has {dma_capable(host, reach.source)}) and no IOMMU "
        f"protects it (no iommus, its SMMU disabled, or iommu: false), so '{name}' can read "
        f"and write all of RAM ({banks}), Xen's and every other domain's memory included"
    )


def dom0_reach(
    nodes: Iterable[HostNode], xen: list[Reach], domus: Iterable[tuple[Reach, ...]]
) -> list[Reach]:
    """Every enabled device Xen neither keeps nor gives a domU (Xen maps those to dom0)."""
    taken = {r.source for r in xen} | {r.source for d in domus for r in d if r.how == "device"}
    return [
        Reach(r, "device", node.path)
        for node in nodes
        if node.enabled and not any(related(node.path, t) for t in taken)
        for r in node.regions
    ]


def with_loads(isolation: Isolation, blobs: Iterable[Blob]) -> Isolation:
    """The model with Xen's planned load areas (its image among them) added."""
    loads = tuple(
        Reach(b.region, "image" if b.role == "xen" else "load area", b.file) for b in blobs
    )
    return isolation._replace(reach={**isolation.reach, XEN: isolation.reach[XEN] + loads})
