"""The plan as text (``dom0less plan``): every load, RAM kept free and why, each domain's CPUs."""

from __future__ import annotations

from ...units import format_size, hexaddr, human_size
from ..plan import Plan


def tables(plan: Plan) -> str:
    """Both tables as text: loaded blobs and exclusions by address, then domains."""
    rows = [
        (
            b.address,
            b.address + b.span,
            b.file,
            b.role,
            human_size(b.size) if b.source else f"<= {human_size(b.span)}",
            ", ".join(b.users),
        )
        for b in plan.blobs
    ]
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
    header = f"Xen {plan.version}: {plan.xen_bootargs}\n\n"
    return (
        header
        + memory
        + "\n"
        + _table(("domain", "id", "vcpus", "memory", "cpupool", "physical CPUs"), domains)
    )


def _table(header: tuple[str, ...], rows: list) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    lines = [
        "  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in [header, *rows]
    ]
    return "\n".join(lines) + "\n"
