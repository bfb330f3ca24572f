"""The plan as a picture (``dom0less plan --svg``): who owns which CPUs, memory and devices.

A partitioned system is easiest to reason about drawn: physical CPUs and the
cpupools holding the domains, each RAM bank to scale with what is loaded or
kept free in it (shared memory with its sharers; a bank a DMA master without an IOMMU
can reach outlined in red), and the devices passed through. Plain SVG with no script,
font or stylesheet from outside, the same bytes for the same plan.
"""

from __future__ import annotations

from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

from ...svg import page
from ...units import MiB, hexaddr, human_size
from ..model import Region
from ..plan import Plan, Reach
from .memory_map import room

WIDTH = 960
MARGIN = 20
BAR = WIDTH - 2 * MARGIN
CHIP_W, CHIP_H, GAP = 230, 38, 8
#: A CPU's box: narrowest that still holds "CPU 127" at 12 px; more CPUs wrap into rows.
CPU_MIN_W, CPU_H = 56, 28
ROW = 18
#: Draw the loaded files again, magnified, when they span less than 1/ZOOM of their bank.
ZOOM = 20
#: What a memory segment holds -> its fill colour.
COLOURS = {
    "xen": "#d62728",
    "boot": "#9467bd",  # the DTB and the boot script
    "module": "#1f77b4",  # kernels, ramdisks, partial device trees
    "staging": "#aec7e8",  # compressed files before U-Boot decompresses them (boot.compression)
    "static memory": "#2ca02c",
    "shared memory": "#ff7f0e",
    "static heap": "#8c564b",
    "U-Boot": "#bcbd22",
    "reserved": "#7f7f7f",
    "free": "#eeeeee",
}
#: Outline of a RAM bank a DMA master without an IOMMU can reach.
DMA_COLOUR = "#d62728"
POOL_COLOURS = ("#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1", "#d9d9d9")


class Segment(NamedTuple):
    region: Region
    kind: str  # a COLOURS key
    label: str


def svg(plan: Plan) -> str:
    """The whole picture as an SVG document."""
    out: list[str] = []
    y = _text(out, MARGIN, 28, f"Xen {plan.version}: {plan.xen_bootargs}", size=13, bold=True)
    y = _cpus(out, plan, y + 20)
    y = _memory(out, plan, y + 10)
    y = _devices(out, plan, y + 10)
    height = y + MARGIN
    head = "".join(line + "\n" for line in page(WIDTH, height))
    return head + "".join(out) + "</svg>\n"


def _text(
    out: list[str],
    x: float,
    y: float,
    text: str,
    size: int = 12,
    bold: bool = False,
    anchor: str = "start",
    attrs: str = "",
) -> float:
    weight = " font-weight='bold'" if bold else ""
    out.append(
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}'{weight} text-anchor='{anchor}'"
        f"{attrs}>{escape(text)}</text>\n"
    )
    return y


def _pools(plan: Plan) -> list[tuple[str, str, list[int]]]:
    """(pool name, scheduler, CPU indexes): boot-time pools, and Pool-0 with the rest."""
    pooled = [
        (
            pool.name,
            pool.scheduler or "Xen's default",
            sorted(plan.host.cpu(c).index for c in pool.cpus),
        )
        for pool in plan.system.cpupools
    ]
    taken = {cpu for _, _, cpus in pooled for cpu in cpus}
    rest = [c.index for c in plan.host.cpus if c.index not in taken]
    default = plan.system.xen.scheduler or "Xen's default"
    return [("Pool-0", default, rest), *pooled]


def _cpus(out: list[str], plan: Plan, y: float) -> float:
    _text(out, MARGIN, y, "Physical CPUs and cpupools", size=14, bold=True)
    pools = _pools(plan)
    colour = {
        cpu: POOL_COLOURS[i % len(POOL_COLOURS)]
        for i, (_, _, cpus) in enumerate(pools)
        for cpu in cpus
    }
    cpus = plan.host.cpus
    per_row = max(1, min(len(cpus), (BAR + GAP) // (CPU_MIN_W + GAP)))
    width = min(100.0, (BAR - GAP * (per_row - 1)) / per_row)
    top = y + 10
    for i, cpu in enumerate(cpus):
        x = MARGIN + (i % per_row) * (width + GAP)
        row_top = top + (i // per_row) * (CPU_H + GAP)
        out.append(
            f"<rect x='{x:.1f}' y='{row_top}' width='{width:.1f}' height='{CPU_H}' rx='4' "
            f"fill='{colour[cpu.index]}' stroke='#555'/>\n"
        )
        _text(out, x + width / 2, row_top + 18, f"CPU {cpu.index}", anchor="middle")
    rows = -(-len(cpus) // per_row)
    y = top + rows * (CPU_H + GAP) - GAP + 14
    members = _members(plan)
    for i, (name, scheduler, pool_cpus) in enumerate(pools):
        cpu_list = ", ".join(map(str, pool_cpus)) or "none"
        y += ROW
        out.append(
            f"<rect x='{MARGIN}' y='{y - 13}' width='14' height='14' "
            f"fill='{POOL_COLOURS[i % len(POOL_COLOURS)]}' stroke='#555'/>\n"
        )
        _text(out, MARGIN + 20, y, f"{name}: CPUs {cpu_list}; scheduler {scheduler}", bold=True)
        y = _chips(out, members.get(name, []), y + 8)
    return y


def _members(plan: Plan) -> dict[str, list[tuple[str, str, str]]]:
    """Pool name -> (domain name, id, "vCPUs, memory") of the domains in it."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    dom0 = plan.system.dom0
    if dom0 is not None:
        found.setdefault("Pool-0", []).append(
            ("dom0", "d0", f"{dom0.vcpus} vCPU, {human_size(dom0.memory)}")
        )
    for number, domain in enumerate(plan.system.domains, start=1):
        vcpus = f"{domain.vcpus} vCPU{'s' if domain.vcpus > 1 else ''}"
        found.setdefault(domain.cpupool or "Pool-0", []).append(
            (domain.name, f"d{number}", f"{vcpus}, {human_size(domain.ram)}")
        )
    return found


def _chips(out: list[str], domains: list[tuple[str, str, str]], y: float) -> float:
    """One box per domain, wrapped into rows; returns the y below them."""
    per_row = max(1, (BAR + GAP) // (CHIP_W + GAP))
    for i, (name, ident, detail) in enumerate(domains):
        x = MARGIN + (i % per_row) * (CHIP_W + GAP)
        top = y + (i // per_row) * (CHIP_H + GAP)
        out.append(f"<g data-domain={quoteattr(name)}>\n")
        out.append(
            f"<rect x='{x}' y='{top}' width='{CHIP_W}' height='{CHIP_H}' rx='5' "
            "fill='#ffffff' stroke='#333'/>\n"
        )
        _text(out, x + 8, top + 16, f"{ident} {name}", bold=True)
        _text(out, x + 8, top + 31, detail)
        out.append("</g>\n")
    rows = -(-len(domains) // per_row)
    return y + rows * (CHIP_H + GAP)


def _segments(plan: Plan) -> list[Segment]:
    """Everything placed or kept free, by address."""
    found = []
    for blob in plan.blobs:
        kind = (
            "xen" if blob.role == "xen" else "boot" if blob.role in ("dtb", "script") else "module"
        )
        users = f" ({', '.join(blob.users)})" if blob.users else ""
        found.append(Segment(room(plan, blob), kind, f"{blob.file}: {blob.role}{users}"))
    if plan.staging is not None:
        label = "compressed files, until Xen starts (u-boot)"
        found.append(Segment(plan.staging.region, "staging", label))
    for item in plan.excluded:
        reason = item.reason
        kind = (
            "static memory"
            if "static_memory" in reason
            else "shared memory"
            if reason.startswith("shared_memory")
            else "static heap"
            if "static_heap" in reason
            else "U-Boot"
            if reason.startswith("U-Boot")
            else "reserved"
        )
        sharers = _sharers(plan, item.region) if kind == "shared memory" else ""
        found.append(Segment(item.region, kind, reason + sharers))
    return sorted(found, key=lambda s: (s.region.address, s.region.end))


def _sharers(plan: Plan, region: Region) -> str:
    """', shared by a, b': the domains whose reach holds ``region`` as shared memory."""
    names = [
        party
        for party, reaches in plan.isolation.reach.items()
        if any(r.how == "shared memory" and r.region == region for r in reaches)
    ]
    return f", shared by {', '.join(names)}" if names else ""


def _dma(plan: Plan) -> list[tuple[str, Reach]]:
    """(domain, reach) of every DMA master no IOMMU protects, one per bank it reaches."""
    return [
        (party, r)
        for party, reaches in plan.isolation.reach.items()
        for r in reaches
        if r.how == "DMA"
    ]


def _free(bank: Region, taken: list[Segment]) -> list[Segment]:
    """The parts of ``bank`` no segment covers."""
    free, cursor = [], bank.address
    for segment in taken:
        if segment.region.address > cursor:
            free.append(Segment(Region(cursor, segment.region.address - cursor), "free", "free"))
        cursor = max(cursor, segment.region.end)
    if cursor < bank.end:
        free.append(Segment(Region(cursor, bank.end - cursor), "free", "free"))
    return free


def _memory(out: list[str], plan: Plan, y: float) -> float:
    segments = _segments(plan)
    for number, bank in enumerate(plan.host.memory_banks):
        inside = [s for s in segments if s.region.overlaps(bank)]
        shown = sorted(inside + _free(bank, inside), key=lambda s: s.region.address)
        y += ROW + 10
        _text(
            out,
            MARGIN,
            y,
            f"RAM bank {number}: {bank.span()} ({human_size(bank.size)}), to scale",
            size=14,
            bold=True,
        )
        top = y + 8
        y = _bar(out, shown, bank, top)
        for party, reach in _dma(plan):
            if reach.region.overlaps(bank):
                y = _dma_exposed(out, party, reach, top, y)
        loaded = [s.region for s in inside if s.kind in ("xen", "boot", "module", "staging")]
        if loaded:
            low = min(r.address for r in loaded) // MiB * MiB
            high = -(-max(r.end for r in loaded) // MiB) * MiB
            if (high - low) * ZOOM < bank.size:
                y += ROW
                _text(
                    out, MARGIN, y, f"magnified: the loaded files, {hexaddr(low)}-{hexaddr(high)}"
                )
                y = _bar(out, shown, Region(low, high - low), y + 8)
        for segment in shown:
            y += ROW
            out.append(
                f"<rect x='{MARGIN}' y='{y - 11}' width='12' height='12' "
                f"fill='{COLOURS[segment.kind]}' stroke='#555'/>\n"
            )
            region = segment.region
            _text(out, MARGIN + 18, y, region.span())
            _text(out, MARGIN + 210, y, human_size(region.size))
            _text(out, MARGIN + 290, y, segment.kind)
            if segment.kind != "free":
                _text(out, MARGIN + 400, y, segment.label)
    return y


def _dma_exposed(out: list[str], party: str, reach: Reach, top: float, y: float) -> float:
    """The bank's bar outlined in red, and a line saying who can reach it by DMA."""
    text = f"DMA-exposed: {reach.source} of '{party}' (no IOMMU) can read and write this bank"
    out.append(
        f"<rect x='{MARGIN}' y='{top}' width='{BAR}' height='36' fill='none' "
        f"stroke='{DMA_COLOUR}' stroke-width='3' stroke-dasharray='8 4' "
        f"data-dma={quoteattr(party)}><title>{escape(text)}</title></rect>\n"
    )
    y += ROW
    _text(out, MARGIN, y, text, attrs=f" fill='{DMA_COLOUR}'")
    return y


def _bar(out: list[str], shown: list[Segment], window: Region, top: float) -> float:
    """``shown`` drawn to scale across the full width for ``window``; returns the y below."""
    scale = BAR / window.size
    for segment in shown:
        start = max(segment.region.address, window.address)
        end = min(segment.region.end, window.end)
        if start >= end:
            continue
        x = MARGIN + (start - window.address) * scale
        width = max((end - start) * scale, 1.0)  # a 4 KiB kernel still shows as a line
        out.append(
            f"<rect x='{x:.2f}' y='{top}' width='{width:.2f}' height='36' "
            f"fill='{COLOURS[segment.kind]}'><title>{escape(segment.label)}</title></rect>\n"
        )
    out.append(
        f"<rect x='{MARGIN}' y='{top}' width='{BAR}' height='36' fill='none' stroke='#333'/>\n"
    )
    return top + 36 + 6


def _devices(out: list[str], plan: Plan, y: float) -> float:
    y += ROW + 10
    _text(out, MARGIN, y, "Devices passed through", size=14, bold=True)
    dma = {(party, r.source) for party, r in _dma(plan)}
    rows = [
        (d.name, path + (" (DMA, no IOMMU: reaches all of RAM)" if (d.name, path) in dma else ""))
        for d in plan.system.domains
        for path in d.passthrough
    ]
    if not rows:
        rows = [
            ("", "none: every device stays with Xen" + (" and dom0" if plan.system.dom0 else ""))
        ]
    for name, path in rows:
        y += ROW
        if name:
            _text(out, MARGIN, y, name, bold=True, attrs=f" data-owner={quoteattr(name)}")
        _text(out, MARGIN + (240 if name else 0), y, path)
    return y
