"""Passed-through devices: the guest's partial device tree made from the host's nodes.

Xen maps a device into a domU only as its partial device tree (a
``multiboot,device-tree`` module) describes it: a ``/passthrough`` node whose
children carry ``xen,reg`` (host pages, their size, guest pages), ``xen,path``
(the host node, whose interrupts Xen routes 1:1) and, without an IOMMU,
``xen,force-assign-without-iommu``; a ``/gic`` node whose phandle the guest's
``interrupt-parent`` names. Xen checks almost none of it (a node without
``xen,reg`` is copied and nothing is mapped), so the same rules generate the
tree from the host's nodes and check one the user wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Optional

import fdt

from .. import files
from ..errors import Problems
from ..units import KiB, combine_cells, hexaddr
from .hostdt import HostTree
from .model import Device, Domain, Region, System
from .plan import Modules

#: GUEST_PHANDLE_GIC in Xen's public/arch-arm.h: the phandle of the guest's virtual GIC
GUEST_GIC_PHANDLE = 65000
#: Phandles of the fixed clocks copied into a partial tree (above Xen's own, 65000-65001)
FIRST_CLOCK_PHANDLE = 65100
PAGE = 4 * KiB
#: Largest partial tree read back for checking (Xen's MAX_FDT_SIZE)
MAX_PARTIAL = 2 * 1024 * KiB
CELLS = 2  # #address-cells and #size-cells of the generated /passthrough node
#: What a guest cannot have, by the ``accept`` word that lets the device go without it:
#: the properties naming a provider (a clock, power or reset controller, pins, DMA) that
#: stays with the host.
PROVIDERS = {
    "clocks": ("clocks", "clock-names", "assigned-clocks", "assigned-clock-parents"),
    "power-domains": ("power-domains", "power-domain-names"),
    "resets": ("resets", "reset-names"),
    "pinctrl": ("pinctrl-names",),
    "dmas": ("dmas", "dma-names"),
}
WHY = {
    "clocks": "its clocks come from a clock controller the guest cannot reach",
    "power-domains": "its power domain is switched by firmware the guest cannot call",
    "resets": "its reset controller stays with the host",
    "pinctrl": "its pins are muxed by the host's pin controller",
    "dmas": "its DMA controller stays with the host",
}
#: Host properties of the wiring Xen replaces (interrupts, IOMMU) or that mean nothing to a guest
HOST_ONLY = {
    "phandle",
    "linux,phandle",
    "interrupt-parent",
    "status",
    "iommus",
    "xen,passthrough",
    "assigned-clock-rates",
    "u-boot,dm-pre-reloc",
    "bootph-all",
    "bootph-pre-ram",
    "bootph-pre-sram",
}
SMMU_COMPATIBLES = {"arm,mmu-500", "arm,mmu-401", "arm,smmu-v1", "arm,smmu-v2", "arm,smmu-v3"}


def _provider(name: str) -> Optional[str]:
    """The ``accept`` word of a provider property (pinctrl-0, pinctrl-1, ... included)."""
    if name.startswith("pinctrl-") and name[8:].isdigit():
        return "pinctrl"
    return next((word for word, names in PROVIDERS.items() if name in names), None)


class PageMapping(NamedTuple):
    """One ``xen,reg`` entry: host pages, their size, the guest address of the first."""

    host: int
    size: int
    guest: int


def pages(regions: list[Region], guest_address: Optional[int]) -> tuple[list[PageMapping], int]:
    """The whole pages holding ``regions`` and the offset from host to guest addresses."""
    base = regions[0].address - regions[0].address % PAGE
    delta = 0 if guest_address is None else guest_address - base
    spans: list[list[int]] = []
    for region in sorted(regions, key=lambda r: r.address):
        start = region.address - region.address % PAGE
        end = -(-region.end // PAGE) * PAGE
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [PageMapping(s, e - s, s + delta) for s, e in spans], delta


class _HostDevice:
    """What the host tree says about one device, and why a guest cannot have it."""

    def __init__(self, host: HostTree, device: Device):
        self.host = host
        self.device = device
        self.path = device.path
        self.regions = host.cpu_regs(self.path)
        self.spis = host.spis(self.path)
        self.fixed_clocks: list[str] = []

    def refusals(self) -> list[str]:
        """Each reason the guest cannot have the device, with the way out."""
        found = []
        accepted = set(self.device.accept)
        if self.host.string(self.path, "status") not in (None, "okay", "ok") and (
            "disabled" not in accepted
        ):
            found.append(
                "is disabled in the host tree (status is not okay: the board may not wire "
                "it up): enable it in the DTB, or add accept: [disabled] if it works"
            )
        for word in self.providers():
            if word not in accepted:
                found.append(
                    f"has {word}: {WHY[word]}; add accept: [{word}] if the firmware leaves "
                    "it set up for the guest, or pass through another device"
                )
        if not self.regions:
            found.append(
                "has no reg Xen could map (none, or a bus without ranges): pass through "
                "a memory-mapped device"
            )
        if self.spis is None:
            found.append(
                "has interrupts Xen cannot route to a guest (PPIs, or not wired to the GIC "
                "directly): pass through another device"
            )
        return found

    def providers(self) -> list[str]:
        names = {p.name for p in self.host.node(self.path).props}
        words = sorted({w for n in names if (w := _provider(n))})
        if "clocks" in words and self._clocks_are_fixed():
            words.remove("clocks")
        return words

    def _clocks_are_fixed(self) -> bool:
        """Fixed clocks (compatible fixed-clock, no cells) can be copied into the guest."""
        targets = [self.host.phandles.get(p) for p in self.host.words(self.path, "clocks") or []]
        if not targets or any(
            t is None or "fixed-clock" not in self.host.strings(t, "compatible") for t in targets
        ):
            return False
        if any((self.host.words(t, "#clock-cells") or [0])[0] for t in targets):
            return False
        self.fixed_clocks = [t for t in targets if t is not None]
        return True

    def needs_force(self, domain: Domain) -> bool:
        """No IOMMU protects the device: it has no iommus, the SMMU is off, or iommu: false."""
        iommus = self.host.words(self.path, "iommus")
        if not iommus or domain.iommu is False:
            return True
        smmu = self.host.phandles.get(iommus[0])
        return smmu is None or self.host.string(smmu, "status") not in (None, "okay", "ok")


def check_devices(domain: Domain, host: HostTree, problems: Problems) -> None:
    """Refuse, with the reason and the override, each device a guest cannot have."""
    for index, device in enumerate(domain.devices):
        if not host.has_node(device.path):
            continue  # validate names the missing node
        where = f"{domain.key}.passthrough[{index}]"
        for reason in _HostDevice(host, device).refusals():
            problems.add(where, f"{device.path} {reason}")
        if device.guest_address is not None and device.guest_address % PAGE:
            problems.add(f"{where}.guest_address", "must be 4 KiB aligned (Xen maps pages)")


def guest_trees(system: System, host: HostTree) -> dict[str, bytes]:
    """The partial tree of each domain that has devices but names no device_tree."""
    return {
        d.name: guest_tree(d, host) for d in system.domains if d.devices and d.device_tree is None
    }


def check_given_trees(
    system: System, host: HostTree, modules: Mapping[str, Modules], problems: Problems
) -> None:
    """Each device_tree the user gave, checked by the rules the generated ones follow."""
    for domain in system.domains:
        found = modules.get(domain.name)
        blob = found.device_tree if found is not None else None
        if domain.device_tree is None or blob is None:
            continue
        where = f"{domain.key}.device_tree"
        try:
            data = blob.data or files.read(domain.device_tree, MAX_PARTIAL, "a partial tree")
        except files.UnusableFile as error:
            problems.add(where, str(error))
            continue
        check_partial(domain, data, host, where, problems)


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
    gic.append(fdt.PropWords("phandle", GUEST_GIC_PHANDLE))
    root.append(gic)
    bus = fdt.Node("passthrough")
    bus.append(fdt.PropStrings("compatible", "simple-bus"))
    bus.append(fdt.Property("ranges"))
    bus.append(fdt.PropWords("#address-cells", CELLS))
    bus.append(fdt.PropWords("#size-cells", CELLS))
    clocks: dict[str, int] = {}
    for device in domain.devices:
        facts = _HostDevice(host, device)
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


def _device_node(host: HostTree, facts: _HostDevice, domain: Domain, clocks: dict) -> fdt.Node:
    source = host.node(facts.path)
    assert facts.regions  # check_devices refused it otherwise
    mappings, delta = pages(facts.regions, facts.device.guest_address)
    node = fdt.Node(f"{source.name.split('@')[0]}@{facts.regions[0].address + delta:x}")
    for prop in source.props:
        if prop.name in HOST_ONLY or prop.name in ("reg", "interrupts"):
            continue
        word = _provider(prop.name)
        if word == "clocks" and facts.fixed_clocks and prop.name == "clocks":
            node.append(fdt.PropWords("clocks", *(clocks[c] for c in facts.fixed_clocks)))
        elif word is None or (word == "clocks" and facts.fixed_clocks):
            node.append(prop.copy())
    node.append(
        fdt.PropWords("reg", *(c for r in facts.regions for c in _cells(r.address + delta, r.size)))
    )
    if facts.spis:
        node.append(fdt.PropWords("interrupt-parent", GUEST_GIC_PHANDLE))
        triples = host.words(facts.path, "interrupts") or []
        node.append(fdt.PropWords("interrupts", *triples))
    node.append(
        fdt.PropWords(
            "xen,reg", *(c for m in mappings for c in (*_cells(m.host, m.size), *_split(m.guest)))
        )
    )
    node.append(fdt.PropStrings("xen,path", facts.path))
    if facts.needs_force(domain):
        node.append(fdt.Property("xen,force-assign-without-iommu"))
    return node


def _split(value: int) -> tuple[int, int]:
    return (value >> 32) & 0xFFFFFFFF, value & 0xFFFFFFFF


def _cells(address: int, size: int) -> tuple[int, ...]:
    return (*_split(address), *_split(size))


# -- a partial device tree the user wrote --------------------------------------------------


def check_partial(
    domain: Domain, data: bytes, host: HostTree, where: str, problems: Problems
) -> None:
    """The user's partial tree, by the rules the generated one follows."""
    try:
        partial = HostTree(data, where)
    except Exception as error:  # parse() raises UserError with its own text
        problems.add(where, str(error))
        return
    if not partial.has_node("/passthrough"):
        if domain.devices:
            problems.add(
                where,
                "has no /passthrough node, so Xen maps none of the passed-through devices "
                "(it reads only /gic, /aliases and /passthrough): put the devices there, "
                "or leave device_tree out to have it generated",
            )
        return
    gic = partial.words("/gic", "phandle")
    if partial.words("/passthrough", "ranges") is None:
        problems.add(where, "/passthrough has no ranges: the guest cannot map its children")
    cells = partial.cells("/passthrough")
    mapped: set[str] = set()
    for path, node in _children(partial, "/passthrough"):
        at = f"{where} {path}"
        names = {p.name for p in node.props}
        if "xen,reg" not in names and "xen,path" not in names:
            if "reg" in names and "fixed-clock" not in partial.strings(path, "compatible"):
                problems.add(
                    at,
                    "has reg but no xen,reg and xen,path: Xen copies it into the guest and "
                    "maps nothing; add both (xen,reg = <host-address size guest-address>)",
                )
            continue
        host_path = partial.string(path, "xen,path")
        if "xen,reg" not in names or host_path is None:
            missing = "xen,path" if host_path is None else "xen,reg"
            problems.add(at, f"has no {missing}: Xen maps nothing for it; add {missing}")
            continue
        mapped.add(host_path)
        device = next((d for d in domain.devices if d.path == host_path), None)
        if device is None:
            problems.add(
                at,
                f"xen,path {host_path} is not in this domain's passthrough: add it there "
                "(the host node must be marked for the guest)",
            )
            continue
        if not host.has_node(host_path):
            continue  # validate names the missing node
        facts = _HostDevice(host, device)
        _check_xen_reg(partial, path, cells, facts, at, problems)
        _check_interrupts(partial, path, gic[0] if gic else None, facts, at, problems)
        if facts.needs_force(domain) and "xen,force-assign-without-iommu" not in names:
            problems.add(
                at,
                f"{host_path} has no IOMMU protecting it: without "
                "xen,force-assign-without-iommu Xen fails the assignment; add it",
            )
    for device in domain.devices:
        if device.path not in mapped:
            problems.add(
                where,
                f"describes no node with xen,path = {device.path!r}: the guest would not "
                "get the device; add one under /passthrough",
            )


def _children(tree: HostTree, path: str):
    node = tree.node(path)
    for child in node.nodes if node else ():
        child_path = f"{path}/{child.name}"
        yield child_path, child
        yield from _children(tree, child_path)


def _check_xen_reg(
    partial: HostTree,
    path: str,
    cells: tuple[int, int],
    facts: _HostDevice,
    at: str,
    problems: Problems,
) -> None:
    words = partial.words(path, "xen,reg") or []
    address_cells, size_cells = cells
    step = 2 * address_cells + size_cells
    if not words or len(words) % step:
        problems.add(
            at,
            f"xen,reg must be <host-address size guest-address> entries of {step} cells "
            f"(the /passthrough node's #address-cells and #size-cells)",
        )
        return
    allowed = pages(facts.regions, None)[0] if facts.regions else []
    for i in range(0, len(words), step):
        entry = words[i : i + step]
        host_start = combine_cells(entry[:address_cells])
        size = combine_cells(entry[address_cells : address_cells + size_cells])
        guest = combine_cells(entry[address_cells + size_cells :])
        if (host_start | size | guest) % PAGE:
            problems.add(
                at,
                "xen,reg addresses and sizes must be 4 KiB aligned (Xen refuses them and "
                "does not build the domain)",
            )
        mapping = Region(host_start, size)
        if not any(m.host <= host_start and mapping.end <= m.host + m.size for m in allowed):
            problems.add(
                at,
                f"xen,reg maps {hexaddr(host_start)}-{hexaddr(mapping.end)}, outside the "
                f"pages of {facts.path}'s reg: map only the device's own registers",
            )


def _check_interrupts(
    partial: HostTree,
    path: str,
    gic: Optional[int],
    facts: _HostDevice,
    at: str,
    problems: Problems,
) -> None:
    words = partial.words(path, "interrupts")
    if not words:
        return
    parent = partial.words(path, "interrupt-parent") or partial.words(
        "/passthrough", "interrupt-parent"
    )
    if gic is None:
        problems.add(
            at,
            "has interrupts but the tree has no /gic node with a phandle for its "
            f"interrupt-parent: add /gic with phandle = <{GUEST_GIC_PHANDLE}> (Xen's "
            "guest GIC takes that node's phandle)",
        )
    elif not parent or parent[0] != gic:
        problems.add(at, "interrupt-parent must be the /gic node's phandle")
    guest = [words[i + 1] for i in range(0, len(words) - 2, 3) if words[i] == 0]
    extra = sorted(set(guest) - set(facts.spis or []))
    if extra:
        problems.add(
            at,
            f"interrupts SPI {', '.join(map(str, extra))} are not {facts.path}'s: Xen routes "
            f"the host's ({', '.join(map(str, facts.spis or [])) or 'none'}) 1:1; use those",
        )
