"""Rules on one domain at a time: its memory, vCPUs, devices and options.

DOMAIN_RULES run for every domU in order; dom0 has its own rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

from ...units import XEN_PAGE, KiB, format_size
from ..facts import xen_versions
from ..model import Domain
from . import guest_console, passthrough
from .cooperation import XENSTORE_ON, xenstore_runs
from .rule_context import RuleContext, parse_cpu_list


def dom0(ctx: RuleContext) -> None:
    dom0 = ctx.system.dom0
    if dom0 is None:
        return
    if dom0.memory < 16 * 1024 * KiB:
        ctx.add(
            "dom0.memory",
            f"{format_size(dom0.memory)} is too little for a Linux dom0: give at least 16M",
        )
    if dom0.vcpus > len(ctx.cpus) and ctx.cpus:
        ctx.add(
            "dom0.vcpus",
            f"{dom0.vcpus} vCPUs but the board has {len(ctx.cpus)} "
            "CPUs: Xen caps dom0 at one vCPU per CPU",
        )
    if dom0.llc_colors is not None and ctx.has("llc_coloring"):
        ctx.colors("dom0.llc_colors", dom0.llc_colors)
        ctx.colouring_on("dom0.llc_colors")
    ctx.cmdline("dom0.cmdline", dom0.cmdline)


def memory(ctx: RuleContext, domain: Domain) -> None:
    key = domain.key
    static_total = sum(r.size for r in domain.static_memory)
    if domain.memory is None and not static_total:
        ctx.add(key, "missing 'memory': give the guest's RAM, e.g. memory: 256M")
    elif domain.memory is not None and domain.memory < XEN_PAGE:
        ctx.add(f"{key}.memory", "must be at least 4K: Xen cannot build a domain without RAM")
    elif domain.memory is not None and domain.memory % KiB:
        ctx.add(f"{key}.memory", "must be a whole number of KiB (Xen's unit)")
    if static_total and domain.memory is not None and domain.memory != static_total:
        ctx.add(
            f"{key}.memory",
            f"{format_size(domain.memory)} differs from the "
            f"static_memory total {format_size(static_total)}: "
            "make them equal or drop memory",
        )


def vcpus(ctx: RuleContext, domain: Domain) -> None:
    if domain.vcpus > ctx.max_vcpus:
        ctx.add(
            f"{domain.key}.vcpus",
            f"{domain.vcpus} vCPUs is more than Xen's virtual GIC supports "
            f"({ctx.max_vcpus}): lower it",
        )
    elif ctx.host.gic_version == 3 and (domain.direct_map or "hardware" in domain.capabilities):
        host_layout_vcpus(ctx, domain)


def host_layout_vcpus(ctx: RuleContext, domain: Domain) -> None:
    """A domain on the host's memory layout (direct-mapped, or the hardware domain) gets
    the host's GICv3 redistributors, one per vCPU (vgic-v3.c); a vCPU without one fails
    'Could not set up domain' (rc -12). Only 4.22's guest-tree sizing lets a domU have
    enough vCPUs to reach it (QEMU virt: 123 redistributors; 124 vCPUs failed)."""
    available = ctx.host.gicv3_redistributors
    if domain.vcpus > available:
        layout = "direct-mapped" if domain.direct_map else "the hardware domain"
        ctx.add(
            f"{domain.key}.vcpus",
            f"{domain.vcpus} vCPUs but {layout}, it uses the host's GICv3 layout, whose "
            f"redistributor regions ({ctx.host.gic_path}) hold {available}: Xen fails "
            f"'Could not set up domain' for a vCPU without one; give it at most {available}",
        )


def cmdline(ctx: RuleContext, domain: Domain) -> None:
    ctx.cmdline(f"{domain.key}.cmdline", domain.cmdline)


def static_memory(ctx: RuleContext, domain: Domain) -> None:
    """Direct-map needs static memory; each bank whole pages inside one RAM bank."""
    key = domain.key
    if domain.direct_map and not domain.static_memory:
        ctx.add(
            f"{key}.direct_map",
            "direct-map needs static_memory: give the host RAM the guest is mapped 1:1 onto",
        )
    for index, region in enumerate(domain.static_memory):
        where = f"{key}.static_memory[{index}]"
        if region.address % XEN_PAGE or region.size % XEN_PAGE or not region.size:
            ctx.add(where, "address and size must be non-zero multiples of 4 KiB")
        ctx.inside_ram(where, region)


def llc_colours(ctx: RuleContext, domain: Domain) -> None:
    key = domain.key
    if domain.llc_colors is not None and ctx.has("llc_coloring"):
        ctx.colors(f"{key}.llc_colors", domain.llc_colors)
        ctx.colouring_on(f"{key}.llc_colors")
    if domain.static_memory and ctx.system.xen.llc_coloring is not None:
        ctx.add(
            f"{key}.static_memory",
            "Xen panics on static memory while LLC colouring is on "
            "(xen.llc_coloring): drop one of them",
        )


def mpu_guest(ctx: RuleContext, domain: Domain) -> None:
    if domain.v8r_el1_msa == "mpu" and not (domain.static_memory and domain.direct_map):
        ctx.add(
            f"{domain.key}.v8r_el1_msa",
            "Xen gives an MPU (PMSA) guest only direct-mapped static memory: "
            "add static_memory and direct_map, or use mmu",
        )


def cpupool(ctx: RuleContext, domain: Domain) -> None:
    if domain.cpupool is not None and domain.cpupool not in {p.name for p in ctx.system.cpupools}:
        ctx.add(f"{domain.key}.cpupool", f"no cpupool named '{domain.cpupool}' in cpupools")


def devices(ctx: RuleContext, domain: Domain) -> None:
    """Each passed-through node exists, can go to a guest, and its SPIs fit (that it is not
    Xen's, by address, is isolation_rules')."""
    for index, path in enumerate(domain.passthrough):
        passthrough_path(ctx, f"{domain.key}.passthrough[{index}]", path)
    passthrough.check_devices(domain, ctx.host, ctx.problems)
    if domain.nr_spis is not None:
        spis_enough(ctx, domain, domain.nr_spis)


def spis_enough(ctx: RuleContext, domain: Domain, nr_spis: int) -> None:
    """Every SPI the guest uses must be below nr_spis, or Xen cannot route it."""
    where = f"{domain.key}.nr_spis"
    if domain.vpl011 and not domain.direct_map and nr_spis < 1:
        ctx.add(
            where,
            "0 SPIs leaves the vpl011 console without its interrupt (SPI 0; "
            "the guest runs silently): raise nr_spis to at least 1 or drop it",
        )
    for path in domain.passthrough:
        highest = max(ctx.host.spis(path) or [-1])
        if highest >= nr_spis:
            ctx.add(
                where,
                f"{nr_spis} SPIs, but the passed-through {path} uses SPI {highest} "
                "(Xen fails to route it and does not build the domain): raise "
                f"nr_spis to at least {highest + 1} or drop it",
            )


def spis(ctx: RuleContext, domain: Domain) -> None:
    """nr_spis beyond 960 only as GICv3.1 extended SPIs (Xen 4.21+, vgic.c)."""
    if domain.nr_spis is None or domain.nr_spis <= xen_versions.MAX_SPIS:
        return
    if not ctx.has("espi"):
        return  # refused as a feature the release lacks
    low, high = xen_versions.ESPI_NR_SPIS
    where = f"{domain.key}.nr_spis"
    if ctx.host.gic_version == 2:
        ctx.add(
            where,
            f"{domain.nr_spis} needs extended SPIs, which a GICv2 lacks: use 960 or fewer",
        )
    elif not low <= domain.nr_spis <= high:
        ctx.add(
            where,
            f"{domain.nr_spis} is neither a plain SPI count (at most "
            f"{xen_versions.MAX_SPIS}) nor in the extended-SPI range {low}-{high}",
        )


def xenstore(ctx: RuleContext, domain: Domain) -> None:
    key = domain.key
    wants_xenstore = domain.xenstore in XENSTORE_ON
    if domain.xenstore == "legacy" and xen_versions.applies(ctx.version, "xenstore_legacy_dead"):
        ctx.add(
            f"{key}.xenstore",
            f"Xen {ctx.version} gives a 'legacy' domain no xenstore at all (no event channel, "
            "no page for init-dom0less to fill: its guest reads 0 for both): use 'enabled', "
            "with which Xen allocates the page at boot, or 'no-xenstore'",
        )
    elif wants_xenstore and domain.static_memory:
        xenstore_page(ctx, domain)
    if wants_xenstore and ctx.system.dom0 is None:
        if not ctx.has("xenstore_without_dom0"):
            ctx.add(
                f"{key}.xenstore",
                f"Xen {ctx.version} runs xenstore only in "
                "dom0, and there is none: add a dom0 or use "
                "'no-xenstore'",
            )
        elif not xenstore_runs(ctx.system):
            ctx.add(
                f"{key}.xenstore",
                "no domain runs xenstore: add a dom0 or give one domU capabilities: [xenstore]",
            )


def xenstore_page(ctx: RuleContext, domain: Domain) -> None:
    """The xenstore page of a static-memory domain: init-dom0less asks Xen for one more
    page after boot (populate_physmap), which fails for it (its static pages are all
    given at boot; a direct-mapped one does not own the magic page's address). From 4.21
    Xen allocates the page at boot ("enabled"); "legacy" keeps the late way."""
    layout = "direct-mapped" if domain.direct_map else "static-memory"
    if not xen_versions.applies(ctx.version, "xenstore_page_from_xen"):
        ctx.add(
            f"{domain.key}.xenstore",
            f"Xen {ctx.version} cannot give a {layout} domain its xenstore page (init-dom0less "
            "asks for one more page after boot, and such a domain has none to give): use "
            "'no-xenstore' or 'disabled', or target Xen 4.21+, which allocates it at boot",
        )
    elif domain.xenstore == "legacy":
        ctx.add(
            f"{domain.key}.xenstore",
            f"'legacy' leaves the xenstore page to init-dom0less after boot, which a {layout} "
            "domain cannot give (booting.txt: not compatible with static-mem guests): use "
            "'enabled', with which Xen allocates the page at boot",
        )


def affinity(ctx: RuleContext, domain: Domain) -> None:
    for vcpu, cpus in domain.vcpu_affinity:
        where = f"{domain.key}.vcpu_affinity.{vcpu}"
        if vcpu >= domain.vcpus:
            ctx.add(
                where,
                f"vCPU {vcpu} does not exist: the domain has "
                f"{domain.vcpus} vCPU(s), numbered from 0",
            )
        ctx.cpu_list(where, cpus)
        try:
            listed = parse_cpu_list(cpus)
        except ValueError:
            continue  # reported by cpu_list
        if listed and all(cpu in ctx.parked_cpus for cpu in listed):
            ctx.parked(
                where,
                f"CPUs {cpus} are" if len(listed) > 1 else f"CPU {cpus} is",
                listed[0],
                "setting the affinity: name a CPU of the boot CPU's kind "
                f"({', '.join(str(c.index) for c in ctx.cpus if c.index not in ctx.parked_cpus)})",
            )


def passthrough_path(ctx: RuleContext, where: str, path: str) -> None:
    if not ctx.host.has_node(path):
        ctx.add(
            where,
            f"no node {path} in the host device tree: check the path "
            "(dtc -I dtb -O dts shows them)",
        )


#: The rules every domU is checked by, in the order their problems are reported.
DOMAIN_RULES: Sequence[Callable[[RuleContext, Domain], None]] = (
    memory,
    vcpus,
    cmdline,
    guest_console.check,
    static_memory,
    llc_colours,
    spis,
    mpu_guest,
    xenstore,
    affinity,
    cpupool,
    devices,
)


def domains(ctx: RuleContext) -> None:
    """Every domU by every rule of DOMAIN_RULES."""
    for domain in ctx.system.domains:
        for rule in DOMAIN_RULES:
            rule(ctx, domain)


def critical(ctx: RuleContext) -> None:
    """xen.critical names the first domU: Xen creates and unpauses the domUs in the order
    listed, and neither mechanism (place.critical_first) can put a later one first."""
    name = ctx.system.xen.critical
    if name is None or name == "none":
        return
    first = ctx.system.domains[0].name
    if name == first:
        return
    listed = any(d.name == name for d in ctx.system.domains)
    ctx.add(
        "xen.critical",
        f"'{name}' is "
        + ("not the first domain" if listed else "not a domain in domains")
        + f": Xen starts the domUs in the order listed, so move it first (now '{first}'), "
        "or write none",
    )
