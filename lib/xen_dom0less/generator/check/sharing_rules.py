"""Rules across domains: what two of them may not both have, and what they must agree on."""

from __future__ import annotations

from collections import Counter

from ... import files
from ...units import XEN_PAGE, hexaddr
from ..facts import kconfig, xen_versions
from ..model import Domain, Region, SharedMemory
from ..plan import static_regions
from . import scheduling
from .isolation import SMMU_COMPATIBLES
from .rule_context import RuleContext

#: Highest event-channel port of a plain domU (Xen's max_evtchn_port for domUs)
MAX_DOMU_PORT = 1023


def cpupools(ctx: RuleContext) -> None:
    owner: dict[int, str] = {}
    for pool in ctx.system.cpupools:
        where = f"cpupools[{pool.index}] ({pool.name})"
        for position, cpu in enumerate(pool.cpus):
            index = ctx.cpu_index(f"{where}.cpus[{position}]", cpu)
            if index is None:
                continue
            if index >= ctx.numbered_cpus:
                ctx.beyond_maxcpus(f"{where}.cpus[{position}]", index)
            elif index in ctx.parked_cpus:
                ctx.parked(
                    f"{where}.cpus[{position}]",
                    f"CPU {index} is",
                    index,
                    "('Pool-N contains cpuN that is not online'): leave it out of the pool",
                )
            if index in owner:
                ctx.add(
                    f"{where}.cpus[{position}]",
                    f"CPU {index} is already in pool "
                    f"'{owner[index]}': a CPU belongs "
                    "to one pool only",
                )
            owner[index] = pool.name


def arinc653(ctx: RuleContext) -> None:
    """Xen's arinc653 scheduler runs only what the control domain schedules: with no
    control domain, the domains it schedules never run (advice warns when there is one)."""
    if scheduling.has_control_domain(ctx.system):
        return
    for domain in scheduling.without_boot_slot(ctx.system):
        way = " (or give a domU capabilities: [control])" if ctx.has("capabilities") else ""
        ctx.add(
            domain.key,
            "runs under the arinc653 scheduler, but there is no control domain: Xen's "
            "arinc653 puts only the control domain's vCPUs in its boot schedule and only "
            "the control domain can install another, so this domain would never run: "
            f"choose another scheduler for its pool, or add a dom0{way} to install "
            "the schedule",
        )


def passthrough_owners(ctx: RuleContext) -> None:
    owners: dict[str, str] = {}
    for domain in ctx.system.domains:
        for index, path in enumerate(domain.passthrough):
            if path in owners:
                ctx.add(
                    f"{domain.key}.passthrough[{index}]",
                    f"{path} is already given to '{owners[path]}': a device "
                    "belongs to one domain only",
                )
            owners.setdefault(path, domain.name)


def capabilities(ctx: RuleContext) -> None:
    for capability in ("hardware", "xenstore"):
        holders = [d.name for d in ctx.system.domains if capability in d.capabilities]
        if len(holders) > 1:
            ctx.add(
                "domains",
                f"only one domain may have the {capability} capability, not {', '.join(holders)}",
            )
    for domain in ctx.system.domains:
        if "hardware" in domain.capabilities:
            hardware_domain(ctx, domain)


def hardware_domain(ctx: RuleContext, domain: Domain) -> None:
    """What Xen 4.21 refuses or ignores for the domain that owns the host's devices."""
    for field, present, what in (
        ("passthrough", bool(domain.passthrough), "Xen takes no partial device tree for it"),
        (
            "device_tree",
            domain.device_tree is not None,
            "Xen panics on its partial device tree",
        ),
        ("nr_spis", domain.nr_spis is not None, "Xen panics on nr_spis for it"),
        ("iommu", domain.iommu is not None, "Xen panics on its passthrough property"),
        ("vpl011", domain.vpl011, "Xen ignores vpl011 for it (it uses the host's UART)"),
    ):
        if present:
            fix = "set vpl011: false" if field == "vpl011" else "drop it"
            ctx.add(
                f"{domain.key}.{field}",
                f"the hardware domain owns the host's devices and {what}: {fix}",
            )
    if not domain.direct_map and not xen_iommu(ctx):
        ctx.add(
            f"{domain.key}.capabilities",
            "the hardware domain is not direct-mapped and the board has no IOMMU Xen drives "
            "(or xen's command line turns it off), and Xen panics 'non-direct mapped hardware "
            "domain requires iommu': give it static_memory and direct_map: true (without LLC "
            "colouring, which Xen refuses with static memory), or enable the board's SMMU (an "
            "SMMUv3 needs CONFIG_ARM_SMMU_V3=y in xen.config: Xen's defconfig builds no driver "
            "for it)",
        )


def xen_iommu(ctx: RuleContext) -> bool:
    """Whether Xen will have an IOMMU (iommu_enabled): an enabled SMMU node it has a driver
    for, and no iommu=0/no/off/false on its command line."""
    words = scheduling.command_words(ctx.system)
    options = [w.split("=", 1)[1] for w in words if w.startswith("iommu=")]
    if options and options[-1].split(",")[0] in ("0", "no", "off", "false"):
        return False
    host = ctx.host
    return any(
        _driven(ctx, SMMU_COMPATIBLES.intersection(host.strings(path, "compatible")))
        and host.available(path)
        for path in host.paths
    )


#: Xen's SMMUv3 driver is built only on request (drivers/passthrough/Kconfig: ARM_SMMU_V3 is
#: EXPERT, off by default); ARM_SMMU (v1, v2, MMU-4x0/500) is on by default.
SMMU_V3 = "arm,smmu-v3"


def _driven(ctx: RuleContext, smmus: set[str]) -> bool:
    """Whether Xen's build has a driver for an SMMU of these compatibles: the given
    .config's option, else the default (an unreadable .config is named by check_config)."""
    if not smmus:
        return False
    option, default = ("ARM_SMMU_V3", False) if SMMU_V3 in smmus else ("ARM_SMMU", True)
    config = ctx.system.xen.config
    try:
        options = kconfig.read(config) if config else None
    except files.UnusableFile:
        options = None
    return default if options is None else options.get(option) == "y"


def event_channels(ctx: RuleContext) -> None:
    ports: dict[str, Counter] = {d.name: Counter() for d in ctx.system.domains}
    for domain in ctx.system.domains:
        for index, channel in enumerate(domain.event_channels):
            where = f"{domain.key}.event_channels[{index}]"
            if channel.peer == domain.name:
                ctx.add(where, "a static event channel connects two different domains")
                continue
            if channel.peer not in ctx.names:
                ctx.add(where, f"no domain named '{channel.peer}'")
                continue
            ports[domain.name][channel.port] += 1
            ports[channel.peer][channel.peer_port] += 1
            if max(channel.port, channel.peer_port) > MAX_DOMU_PORT:
                ctx.add(
                    where, f"domUs have event-channel ports 1-{MAX_DOMU_PORT}: use a lower port"
                )
    for name, counter in ports.items():
        for port, count in counter.items():
            if count > 1:
                ctx.add(
                    "event_channels",
                    f"port {port} of '{name}' is used by {count} "
                    "channels: each end needs its own port",
                )


def shared_memory(ctx: RuleContext) -> None:
    regions = {s.id: s for s in ctx.system.shared_memory}
    for index, region in enumerate(ctx.system.shared_memory):
        where = f"shared_memory[{index}] ({region.id})"
        if region.size % XEN_PAGE or not region.size:
            ctx.add(where, "size must be a non-zero multiple of 4 KiB")
        if region.host_address is not None:
            if region.host_address % XEN_PAGE:
                ctx.add(f"{where}.host_address", "must be 4 KiB aligned")
            ctx.inside_ram(where, Region(region.host_address, region.size))
    owners: Counter = Counter()
    borrowers: dict[str, str] = {}
    for domain in ctx.system.domains:
        for index, use in enumerate(domain.shared_memory):
            where = f"{domain.key}.shared_memory[{index}]"
            if use.id not in regions:
                ctx.add(where, f"no shared_memory region with id '{use.id}'")
            if use.guest_address % XEN_PAGE:
                ctx.add(f"{where}.guest_address", "must be 4 KiB aligned")
            if use.role == "owner":
                owners[use.id] += 1
            elif use.role == "borrower":
                borrowers.setdefault(use.id, f"{where}.role")
            region = regions.get(use.id)
            if domain.direct_map and region:
                direct_mapped_shm(ctx, where, region, use.guest_address)
    for ident, count in owners.items():
        if count > 1:
            ctx.add("shared_memory", f"region '{ident}' has {count} owners: at most one")
    for ident, where in borrowers.items():
        if not owners[ident]:
            ctx.add(
                where,
                f"region '{ident}' has a borrower but no owner: give one "
                "domain role: owner, or leave role out everywhere so Xen "
                "owns it",
            )


def direct_mapped_shm(
    ctx: RuleContext, where: str, region: SharedMemory, guest_address: int
) -> None:
    """From 4.19 Xen maps a direct-mapped domain's shared memory 1:1 or refuses it."""
    if not xen_versions.applies(ctx.version, "shm_direct_map_identity"):
        return
    if region.host_address is None:
        ctx.add(
            where,
            f"region '{region.id}' has no host_address, but a direct-mapped "
            "domain needs one (Xen maps it 1:1): give it a host_address",
        )
    elif guest_address != region.host_address:
        ctx.add(
            f"{where}.guest_address",
            "a direct-mapped domain sees host addresses: make guest_address "
            f"equal {hexaddr(region.host_address)}",
        )


def static_regions_disjoint(ctx: RuleContext) -> None:
    named = [(e.reason, e.region) for e in static_regions(ctx.system)]
    reserved = [(r.origin, r.region) for r in ctx.host.reservations]
    for i, (where, region) in enumerate(named):
        for other, other_region in named[i + 1 :] + reserved:
            if region.overlaps(other_region):
                ctx.add(
                    where,
                    f"{region.span()} "
                    f"overlaps {other} ({hexaddr(other_region.address)}-"
                    f"{hexaddr(other_region.end)}): move one of them",
                )
