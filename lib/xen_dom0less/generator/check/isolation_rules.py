"""Rules on what each domain can reach (the isolation model): no domain may touch RAM as a
device, Xen's own hardware, or another domain's ranges, and a page is one domain's.

Xen maps whatever ``xen,reg`` names and checks none of this; each refusal names both
parties and the range they would share.
"""

from __future__ import annotations

from ..model import Region
from ..plan import XEN, Reach
from .isolation import XEN_DEVICES, dma_risk, neighbour_risk, neighbours, overlap
from .rule_context import RuleContext

#: The kinds of reach that must be one party's alone (Xen's heap and a DMA master's
#: all-of-RAM are not: the first is checked by placement, the second is the DMA rule's).
EXCLUSIVE = {"device", "static memory", "shared memory", *XEN_DEVICES}


def shared(a: Region, b: Region) -> str:
    return overlap(a, b).span()


def named_memory(ctx: RuleContext) -> list[tuple[Region, str]]:
    """RAM and reserved memory, each with the node or key that says so."""
    found = [
        (region, f"RAM ({path})")
        for path in ctx.host.memory_nodes
        for region in ctx.host.regs(path, "/")
    ]
    found += [(r, f"RAM (host.memory[{i}])") for i, r in enumerate(ctx.system.host.memory)]
    found += [
        (r.region, "a /memreserve/ area" if r.origin == "/memreserve/" else f"reserved {r.origin}")
        for r in ctx.host.reservations
    ]
    return found


def devices_outside_memory(ctx: RuleContext) -> None:
    """A 'device' whose registers are RAM gives the guest memory Xen and others own."""
    memory = named_memory(ctx)
    for name, reach in _domu_reach(ctx, "device"):
        for region, what in memory:
            if reach.region.overlaps(region):
                ctx.add(
                    reach.key,
                    f"{reach.source} gives '{name}' {reach.region.span()}, which overlaps "
                    f"{what} {region.span()} at {shared(reach.region, region)}: the guest "
                    "would read and write memory Xen and other domains own; pass through "
                    "device registers only",
                )


def reach_disjoint(ctx: RuleContext) -> None:
    """No device range of a domain is Xen's, dom0's or another domain's too."""
    parties = [
        (name, reach)
        for name, reaches in ctx.isolation.reach.items()
        for reach in reaches
        if reach.how in EXCLUSIVE
    ]
    seen = set()
    for index, (name, reach) in enumerate(parties):
        for other, theirs in parties[index + 1 :]:
            if name == other or not reach.region.overlaps(theirs.region):
                continue
            if "device" not in (reach.how, theirs.how):
                continue  # RAM against RAM: static_regions_disjoint
            if reach.how == theirs.how == "device" and reach.source == theirs.source:
                continue  # one node given twice: passthrough_owners
            (mine, me), (their, them) = sorted(
                ((name, reach), (other, theirs)), key=lambda p: (p[1].how != "device", not p[1].key)
            )
            if (me.key, their, them.source) in seen:
                continue  # shared memory: once, not once per sharer
            seen.add((me.key, their, them.source))
            ctx.add(
                me.key,
                f"{me.source} gives '{mine}' {me.region.span()}, which overlaps "
                f"{_described(their, them)} {them.region.span()} at "
                f"{shared(me.region, them.region)}: {_fix(their, them)}",
            )


def pages_not_shared(ctx: RuleContext) -> None:
    """A page holding a domain's device and an enabled one nobody was given gives it both
    (a disabled one is only named in a warning: nobody drives it)."""
    for found in neighbours(ctx.isolation.reach, ctx.host_nodes):
        if found.node.enabled:
            ctx.add(
                found.reach.key,
                f"{neighbour_risk(found)}; pass {found.node.path} to '{found.domain}' too, "
                "or neither",
            )


def dma_without_iommu(ctx: RuleContext) -> None:
    """With isolation.dma_without_iommu: refuse, the DMA warning is an error (only that one:
    a page shared with a disabled device stays a warning)."""
    if ctx.system.isolation.dma_without_iommu != "refuse":
        return
    risks = dict.fromkeys(
        (reach.key, dma_risk(ctx.host, name, reach)) for name, reach in _domu_reach(ctx, "DMA")
    )
    for where, risk in risks:
        ctx.add(
            where,
            f"{risk}: give it an IOMMU (iommus to an enabled SMMU, iommu not false), "
            "or set isolation.dma_without_iommu: warn to accept the risk",
        )


def _domu_reach(ctx: RuleContext, how: str) -> list[tuple[str, Reach]]:
    names = {d.name for d in ctx.system.domains}
    return [
        (name, reach)
        for name, reaches in ctx.isolation.reach.items()
        if name in names
        for reach in reaches
        if reach.how == how
    ]


def _fix(party: str, reach: Reach) -> str:
    if party == XEN:
        return "the guest would drive Xen's own hardware; pass through another device"
    if reach.how == "device":
        return (
            "Xen maps whole 4 KiB pages, so both would reach it; give both devices to one "
            "domain, or neither"
        )
    return "the guest would read and write that memory; pass through another device"


def _described(party: str, reach: Reach) -> str:
    if party == XEN:
        return f"Xen's {reach.how} {reach.source}"
    if reach.how == "device":
        given = f" ({reach.key})" if reach.key else ""
        return f"the device {reach.source} of '{party}'{given}"
    if reach.how == "shared memory":
        return f"{reach.source} of '{party}'"
    return reach.source
