"""A passed-through device as the host tree describes it: its pages, interrupts and providers.

Both the partial tree generated for a guest and the checks of one a user wrote
start from these facts, so the two can never disagree about a device.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from ...units import XEN_PAGE
from ..hostdt import HostTree
from ..model import Device, Domain, Region

#: GUEST_PHANDLE_GIC in Xen's public/arch-arm.h: the phandle Xen gives a guest's virtual
#: GIC unless its partial tree's /gic names another; from 4.22 a partial tree's phandles
#: must stay below it (Xen numbers its own nodes from the highest one up).
GUEST_GIC_PHANDLE = 65000
#: The phandle of /gic in a generated partial tree (the copied clocks follow it): low, so
#: Xen 4.22 has room to number its own nodes above it.
PARTIAL_GIC_PHANDLE = 1
#: Xen maps devices into guests in whole pages of this size.
#: A guest's physical addresses are 64 bits wide.
MAX_ADDRESS = 1 << 64
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


def provider(name: str) -> Optional[str]:
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
    base = regions[0].address - regions[0].address % XEN_PAGE
    delta = 0 if guest_address is None else guest_address - base
    spans: list[list[int]] = []
    for region in sorted(regions, key=lambda r: r.address):
        start = region.address - region.address % XEN_PAGE
        end = -(-region.end // XEN_PAGE) * XEN_PAGE
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [PageMapping(s, e - s, s + delta) for s, e in spans], delta


class HostDevice:
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
        if any(region.end > MAX_ADDRESS for region in self.regions):
            found.append(
                "has a reg beyond 64-bit addresses, which no guest can map: check the "
                "host tree's reg and ranges"
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
        words = sorted({w for n in names if (w := provider(n))})
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
