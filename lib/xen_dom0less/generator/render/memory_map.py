"""The plan as text (``dom0less plan``): every load, RAM kept free and why, each domain's CPUs,
and what each domain and Xen can reach."""

from __future__ import annotations

from ...units import format_size, hexaddr, human_size
from ..model import Region
from ..place import fit_room
from ..plan import XEN, Blob, Plan


def tables(plan: Plan) -> str:
    """Both tables as text: loaded blobs and exclusions by address, then domains."""
    rows = [
        (
            b.address,
            room(plan, b).end,
            b.file,
            b.role,
            _size(b),
            ", ".join(b.users),
        )
        for b in plan.blobs
    ]
    if plan.staging is not None:
        staging = plan.staging.region
        rows.append(
            (
                staging.address,
                staging.end,
                "(staging)",
                "compressed files, until Xen starts",
                human_size(staging.size),
                "u-boot",
            )
        )
    rows += [
        (e.region.address, e.region.end, "(kept free)", e.reason, human_size(e.region.size), "")
        for e in plan.excluded
    ]
    memory = _table(
        ("start", "end", "file", "role", "size", "used by"),
        [(hexaddr(r[0]), hexaddr(r[1]), *r[2:]) for r in sorted(rows)],
    )
    pools = {p.name: p for p in plan.system.cpupools}
    domains = []
    if plan.system.dom0:
        domains.append(
            (
                "dom0",
                "d0",
                str(plan.system.dom0.vcpus),
                format_size(plan.system.dom0.memory),
                "Pool-0",
                "dom0",
            )
        )
    for number, domain in enumerate(plan.system.domains, start=1):
        pool = pools.get(domain.cpupool) if domain.cpupool else None
        placement = (
            ", ".join(str(plan.host.cpu(c).index) for c in pool.cpus) if pool else "Pool-0 CPUs"
        )
        pinned = {cpus for _, cpus in domain.vcpu_affinity}
        if len(pinned) == 1 and len(domain.vcpu_affinity) == domain.vcpus:
            placement = f"{placement}, pinned to {pinned.pop()}"
        elif pinned:
            each = ", ".join(f"vCPU{v} on {cpus}" for v, cpus in domain.vcpu_affinity)
            placement = f"{placement}, {each}"
        domains.append(
            (
                domain.name,
                f"d{number}",
                str(domain.vcpus),
                format_size(domain.ram),
                domain.cpupool or "Pool-0",
                placement,
            )
        )
    header = f"Xen {plan.version}: {plan.xen_bootargs}\n"
    if plan.critical_first:
        header += f"Starts first: {plan.critical_first}\n"
    header += "\n"
    return (
        header
        + memory
        + "\n"
        + _table(("domain", "id", "vcpus", "memory", "cpupool", "physical CPUs"), domains)
        + "\n"
        + reach(plan)
    )


def _size(blob: Blob) -> str:
    """Bytes in RAM (room for what is generated), and those read for a compressed file."""
    if not blob.source:
        return f"<= {human_size(blob.span)}"
    stored = f" ({blob.compression}: {human_size(blob.stored_size)})" if blob.compression else ""
    return human_size(blob.size) + stored


def room(plan: Plan, blob: Blob) -> Region:
    """The RAM ``blob`` takes: its span (an arm64 Image's with its BSS), except for an image
    inside boot.itb other than Xen, where the next image's data follows its own: Xen copies
    a kernel out of its module, so only Xen's room runs on past its bytes. One stored
    compressed is decompressed out of boot.itb to its own room."""
    if plan.packed(blob) and fit_room.in_place(blob) and blob.role != "xen":
        return Region(blob.address, fit_room.data_size(blob))
    return blob.region


def reach(plan: Plan) -> str:
    """What each party can reach by physical address, and with whom it shares it. Xen's
    loaded files are the first table's; dom0's devices are counted (the manifest lists them)."""
    rows = []
    for party, reaches in plan.isolation.reach.items():
        dom0_devices = 0
        for item in reaches:
            if party == XEN and item.how in ("image", "load area"):
                continue
            if party == "dom0" and item.how == "device":
                dom0_devices += 1
                continue
            region = item.region
            rows.append(
                (
                    party,
                    hexaddr(region.address),
                    hexaddr(region.end),
                    item.how,
                    item.source,
                    ", ".join(item.shared_with),
                )
            )
        if dom0_devices:
            rows.append(
                (party, "", "", "device", f"{dom0_devices} ranges of every enabled device", "")
            )
        if not reaches:
            rows.append((party, "", "", "nothing fixed", "its RAM comes from Xen's heap", ""))
    return _table(("reached by", "start", "end", "as", "what", "shared with"), rows)


def _table(header: tuple[str, ...], rows: list) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    lines = [
        "  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in [header, *rows]
    ]
    return "\n".join(lines) + "\n"
