"""Semantic rules on the description and the board, checked before any output.

Each rule exists because Xen would otherwise panic, BUG, fault or silently
misbehave at boot (tests/core/test_validate.py has one case per rule, with the
exact problems it adds; test_rules.py follows them through the whole pipeline). Every
problem is collected so the user sees them all at once; addresses are
checked later by placement.
"""

from __future__ import annotations

from collections import Counter
from typing import Optional, Union

from ..errors import Problems
from ..units import KiB, format_size, hexaddr
from . import consoles, features, passthrough, text, xen_versions
from .hostdt import HostTree
from .model import LOAD_DEVICES, Domain, Region, SharedMemory, System
from .plan import static_regions

PAGE = 4 * KiB
STATIC_HEAP_ALIGN = 64 * KiB
#: Highest event-channel port of a plain domU (Xen's max_evtchn_port for domUs)
MAX_DOMU_PORT = 1023
#: Most numbers a CPU or colour list may expand to (the schema allows up to 9999 each).
MAX_LISTED = 10000


def check(system: System, host: HostTree, problems: Problems) -> None:
    """Add every rule violation of ``system`` on ``host`` to ``problems``."""
    _Rules(system, host, problems).run()


def parse_cpu_list(text: str) -> list[int]:
    """ "0-3,8" -> [0, 1, 2, 3, 8]; ValueError on a descending range or a list too long."""
    result: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        low, high = int(first), int(last or first)
        if high < low:
            raise ValueError(f"range {part} runs backwards")
        if len(result) + high - low >= MAX_LISTED:
            raise ValueError(f"lists more than {MAX_LISTED} numbers")
        result.extend(range(low, high + 1))
    return result


class _Rules:
    def __init__(self, system: System, host: HostTree, problems: Problems):
        self.system = system
        self.host = host
        self.problems = problems
        self.version = system.xen.version
        self.banks = host.memory_banks
        self.cpus = host.cpus
        self.names = {d.name for d in system.domains}
        self.limits = xen_versions.limits(self.version)
        self.max_vcpus = self.limits.vcpus[host.gic_version or 3]

    def add(self, where: str, message: str) -> None:
        self.problems.add(where, message)

    def has(self, feature: str) -> bool:
        return xen_versions.has(self.version, feature)

    def needs(self, where: str, feature: str) -> None:
        """Refuse ``feature`` when the target Xen predates it."""
        if not self.has(feature):
            title = xen_versions.FEATURES[feature].title
            self.add(
                where,
                f"{title} needs Xen {xen_versions.since_text(feature)} or later, "
                f"but xen.version is {self.version}: upgrade Xen or drop this key",
            )

    def run(self) -> None:
        for feature, where in features.uses(self.system):
            self.needs(where, feature)
        self.host_facts()
        self.xen()
        self.boot()
        self.names_unique()
        if self.system.dom0:
            self.dom0()
        for domain in self.system.domains:
            self.domain(domain)
        self.cpupools()
        self.passthrough_owners()
        self.capabilities()
        self.event_channels()
        self.shared_memory()
        self.static_regions_disjoint()

    # -- the board and Xen -------------------------------------------------------

    def host_facts(self) -> None:
        if not self.banks and self.host.memory_nodes:
            self.add(
                "host.dtb",
                f"{', '.join(self.host.memory_nodes)} has no RAM (a reg of size 0): the "
                "board's firmware fills it in at boot (as the Raspberry Pi's does); give "
                "the banks in host.memory, e.g. memory: [{address: 0x0, size: 0x3b400000}]",
            )
        elif self.system.host.memory and not self.host.memory_nodes:
            self.add(
                "host.memory",
                'the device tree has no memory node (device_type = "memory") to write '
                "the banks into: give the board's full DTB",
            )
        elif not self.banks:
            self.add(
                "host.dtb",
                'the device tree has no memory node (device_type = "memory"): '
                "give the board's full DTB or the banks in host.memory",
            )
        for index, bank in enumerate(self.system.host.memory):
            if bank.address % PAGE or bank.size % PAGE or not bank.size:
                self.add(
                    f"host.memory[{index}]", "address and size must be non-zero multiples of 4 KiB"
                )
            for other in self.system.host.memory[index + 1 :]:
                if bank.overlaps(other):
                    self.add(
                        f"host.memory[{index}]",
                        f"overlaps {hexaddr(other.address)}-{hexaddr(other.end)}: "
                        "banks are disjoint",
                    )
        if not self.cpus:
            self.add(
                "host.dtb", "the device tree has no /cpus/cpu@N nodes: give the board's full DTB"
            )
        stdout = self.host.stdout_path()
        xen = self.system.xen
        if xen.bootargs is None and xen.console is None and stdout is None:
            self.add(
                "host.dtb",
                "/chosen has no stdout-path, so Xen's console is unknown: "
                "add stdout-path to the DTB or set xen.bootargs "
                "(console=dtuart dtuart=...)",
            )
        problem = (
            text.not_printable_ascii(stdout)
            if xen.bootargs is None and xen.console is None and stdout is not None
            else None
        )
        if problem:  # it goes into Xen's command line
            self.add(
                "host.dtb",
                f"/chosen stdout-path {text.printable(stdout)!r} {problem}: fix the DTB "
                "or set xen.bootargs (console=dtuart dtuart=...)",
            )
        for index, path in enumerate(self.system.host.disable):
            if not self.host.has_node(path):
                self.add(f"host.disable[{index}]", f"no node {path} in the host device tree")

    def xen(self) -> None:
        xen = self.system.xen
        for index, region in enumerate(xen.static_heap):
            where = f"xen.static_heap[{index}]"
            if region.address % STATIC_HEAP_ALIGN or region.size % STATIC_HEAP_ALIGN:
                self.add(where, "address and size must be 64 KiB aligned")
            self.inside_ram(where, region)
        if xen.static_heap:
            self.heap_holds_the_domains()
        if xen.llc_coloring is not None and xen.llc_coloring.xen_colors:
            self.colors("xen.llc_coloring.xen_colors", xen.llc_coloring.xen_colors)
        for key, line in (
            ("xen.bootargs", xen.bootargs),
            ("xen.extra_bootargs", xen.extra_bootargs),
        ):
            given = [word for word in (line or "").split() if word.startswith("sched=")]
            if xen.scheduler and given:
                self.add(
                    key,
                    f"{given[0]} and xen.scheduler {xen.scheduler} both choose Xen's scheduler "
                    "(the last on the command line wins): keep one of them",
                )

    def heap_holds_the_domains(self) -> None:
        """With a static heap Xen allocates domains' RAM only from it (and panics
        'Failed to allocate requested domain memory' when it cannot)."""
        heap = sum(r.size for r in self.system.xen.static_heap)
        dom0 = self.system.dom0.memory if self.system.dom0 else 0
        need = dom0 + sum(d.ram for d in self.system.domains if not d.static_memory)
        if need > heap:
            self.add(
                "xen.static_heap",
                f"{format_size(heap)} in all, but the domains' RAM alone takes "
                f"{format_size(need)} of it (Xen allocates it from the static heap only): "
                "make the heap larger or the domains smaller",
            )

    def boot(self) -> None:
        boot = self.system.boot
        words = boot.load.split()
        if not words:
            self.add(
                "boot.load",
                "is empty: give tftp, a device such as 'mmc 0:1', or a "
                "command run as 'CMD ADDR FILE'",
            )
        elif words[0] in LOAD_DEVICES and len(words) != 2:
            self.add(
                "boot.load", f"'{boot.load}' needs a device and partition, e.g. '{words[0]} 0:1'"
            )
        if boot.align < PAGE or boot.align & (boot.align - 1):
            self.add("boot.align", f"{boot.align} must be a power of two of at least 4K")
        if boot.load_region is not None:
            self.inside_ram("boot.load_region", boot.load_region)
        if boot.script_address is not None and boot.script_address % PAGE:
            self.add("boot.script_address", "must be 4 KiB aligned")
        if boot.device_tree == "fdt-commands":
            self.fdt_set_strings()

    def fdt_set_strings(self) -> None:
        """Strings the boot script's ``fdt set`` writes: each must be one literal word."""
        dtb = self.system.host.dtb.name
        problem = text.not_script_word(dtb)
        if problem:
            name = text.printable(dtb)
            self.add("host.dtb", f"the file name {name!r} {problem}: rename the file")
        strings = {"xen.bootargs": self.system.xen.bootargs}
        if self.system.dom0:
            strings["dom0.cmdline"] = self.system.dom0.cmdline
        strings.update({f"{d.key}.cmdline": d.cmdline for d in self.system.domains})
        for where, value in strings.items():
            problem = text.not_fdt_set_string(value) if value else None
            if problem:
                self.add(
                    where,
                    f"{problem} (boot.device_tree is fdt-commands): change it or use "
                    "boot.device_tree: patched",
                )

    def names_unique(self) -> None:
        for name, count in Counter(d.name for d in self.system.domains).items():
            if count > 1:
                self.add(
                    "domains", f"the name '{name}' is used by {count} domains: names must be unique"
                )
        if "dom0" in self.names:
            self.add("domains", "'dom0' is reserved for the control domain: rename that domU")
        for name, count in Counter(p.name for p in self.system.cpupools).items():
            if count > 1:
                self.add("cpupools", f"the pool name '{name}' is used {count} times")
        for ident, count in Counter(s.id for s in self.system.shared_memory).items():
            if count > 1:
                self.add("shared_memory", f"the id '{ident}' is defined {count} times")

    # -- domains --------------------------------------------------------------------

    def dom0(self) -> None:
        dom0 = self.system.dom0
        assert dom0 is not None
        if dom0.memory < 16 * 1024 * KiB:
            self.add(
                "dom0.memory",
                f"{format_size(dom0.memory)} is too little for a Linux dom0: give at least 16M",
            )
        if dom0.vcpus > len(self.cpus) and self.cpus:
            self.add(
                "dom0.vcpus",
                f"{dom0.vcpus} vCPUs but the board has {len(self.cpus)} "
                "CPUs: Xen caps dom0 at one vCPU per CPU",
            )
        if dom0.llc_colors is not None and self.has("llc_coloring"):
            self.colors("dom0.llc_colors", dom0.llc_colors)
            self.colouring_on("dom0.llc_colors")
        self.cmdline("dom0.cmdline", dom0.cmdline)

    def cmdline(self, where: str, text: str) -> None:
        longest = self.limits.cmdline_length
        if len(text) > longest:
            self.add(
                where,
                f"{len(text)} characters, but Xen {self.version} takes at most {longest} "
                "(BOOTMOD_MAX_CMDLINE) and panics 'command line too long': shorten it",
            )

    def domain(self, domain: Domain) -> None:
        key = domain.key
        self.memory(domain)
        if domain.vcpus > self.max_vcpus:
            self.add(
                f"{key}.vcpus",
                f"{domain.vcpus} vCPUs is more than Xen's virtual GIC supports "
                f"({self.max_vcpus}): lower it",
            )
        self.cmdline(f"{key}.cmdline", domain.cmdline)
        if domain.direct_map and not domain.static_memory:
            self.add(
                f"{key}.direct_map",
                "direct-map needs static_memory: give the host RAM the guest is mapped 1:1 onto",
            )
        for index, region in enumerate(domain.static_memory):
            where = f"{key}.static_memory[{index}]"
            if region.address % PAGE or region.size % PAGE or not region.size:
                self.add(where, "address and size must be non-zero multiples of 4 KiB")
            self.inside_ram(where, region)
        if domain.llc_colors is not None and self.has("llc_coloring"):
            self.colors(f"{key}.llc_colors", domain.llc_colors)
            self.colouring_on(f"{key}.llc_colors")
        if domain.static_memory and self.system.xen.llc_coloring is not None:
            self.add(
                f"{key}.static_memory",
                "Xen panics on static memory while LLC colouring is on "
                "(xen.llc_coloring): drop one of them",
            )
        self.spis(domain)
        if domain.v8r_el1_msa == "mpu" and not (domain.static_memory and domain.direct_map):
            self.add(
                f"{key}.v8r_el1_msa",
                "Xen gives an MPU (PMSA) guest only direct-mapped static memory: "
                "add static_memory and direct_map, or use mmu",
            )
        self.xenstore(domain)
        self.affinity(domain)
        if domain.cpupool is not None and domain.cpupool not in {
            p.name for p in self.system.cpupools
        }:
            self.add(f"{key}.cpupool", f"no cpupool named '{domain.cpupool}' in cpupools")
        for index, path in enumerate(domain.passthrough):
            self.passthrough_path(f"{key}.passthrough[{index}]", path)
        passthrough.check_devices(domain, self.host, self.problems)
        if domain.nr_spis is not None:
            self.spis_enough(domain, domain.nr_spis)

    def spis_enough(self, domain: Domain, nr_spis: int) -> None:
        """Every SPI the guest uses must be below nr_spis, or Xen cannot route it."""
        where = f"{domain.key}.nr_spis"
        if domain.vpl011 and not domain.direct_map and nr_spis < 1:
            self.add(
                where,
                "0 SPIs leaves the vpl011 console without its interrupt (SPI 0; "
                "the guest runs silently): raise nr_spis to at least 1 or drop it",
            )
        for path in domain.passthrough:
            highest = max(self.host.spis(path) or [-1])
            if highest >= nr_spis:
                self.add(
                    where,
                    f"{nr_spis} SPIs, but the passed-through {path} uses SPI {highest} "
                    "(Xen fails to route it and does not build the domain): raise "
                    f"nr_spis to at least {highest + 1} or drop it",
                )

    def colouring_on(self, where: str) -> None:
        if self.system.xen.llc_coloring is None:
            self.add(
                where,
                "Xen panics on LLC colours while colouring is off: "
                "add xen.llc_coloring (it turns llc-coloring=on)",
            )

    def spis(self, domain: Domain) -> None:
        """nr_spis beyond 960 only as GICv3.1 extended SPIs (Xen 4.21+, vgic.c)."""
        if domain.nr_spis is None or domain.nr_spis <= xen_versions.MAX_SPIS:
            return
        if not self.has("espi"):
            return  # refused as a feature the release lacks
        low, high = xen_versions.ESPI_NR_SPIS
        where = f"{domain.key}.nr_spis"
        if self.host.gic_version == 2:
            self.add(
                where,
                f"{domain.nr_spis} needs extended SPIs, which a GICv2 lacks: use 960 or fewer",
            )
        elif not low <= domain.nr_spis <= high:
            self.add(
                where,
                f"{domain.nr_spis} is neither a plain SPI count (at most "
                f"{xen_versions.MAX_SPIS}) nor in the extended-SPI range {low}-{high}",
            )

    def memory(self, domain: Domain) -> None:
        key = domain.key
        static_total = sum(r.size for r in domain.static_memory)
        if domain.memory is None and not static_total:
            self.add(key, "missing 'memory': give the guest's RAM, e.g. memory: 256M")
        elif domain.memory is not None and domain.memory < PAGE:
            self.add(f"{key}.memory", "must be at least 4K: Xen cannot build a domain without RAM")
        elif domain.memory is not None and domain.memory % KiB:
            self.add(f"{key}.memory", "must be a whole number of KiB (Xen's unit)")
        if static_total and domain.memory is not None and domain.memory != static_total:
            self.add(
                f"{key}.memory",
                f"{format_size(domain.memory)} differs from the "
                f"static_memory total {format_size(static_total)}: "
                "make them equal or drop memory",
            )

    def xenstore(self, domain: Domain) -> None:
        key = domain.key
        wants_xenstore = domain.xenstore not in (None, "no-xenstore", "disabled")
        if wants_xenstore and self.system.dom0 is None:
            if not self.has("xenstore_without_dom0"):
                self.add(
                    f"{key}.xenstore",
                    f"Xen {self.version} runs xenstore only in "
                    "dom0, and there is none: add a dom0 or use "
                    "'no-xenstore'",
                )
            elif not any("xenstore" in d.capabilities for d in self.system.domains):
                self.add(
                    f"{key}.xenstore",
                    "no domain runs xenstore: add a dom0 or give one domU capabilities: [xenstore]",
                )

    def affinity(self, domain: Domain) -> None:
        for vcpu, cpus in domain.vcpu_affinity:
            where = f"{domain.key}.vcpu_affinity.{vcpu}"
            if vcpu >= domain.vcpus:
                self.add(
                    where,
                    f"vCPU {vcpu} does not exist: the domain has "
                    f"{domain.vcpus} vCPU(s), numbered from 0",
                )
            self.cpu_list(where, cpus)

    def cpu_list(self, where: str, text: str) -> None:
        try:
            listed = parse_cpu_list(text)
        except ValueError as error:
            self.add(where, f"'{text}': {error}")
            return
        missing = [c for c in listed if c >= len(self.cpus)]
        if missing:
            self.add(
                where,
                f"CPU {missing[0]} does not exist: the board has "
                f"{len(self.cpus)} CPUs (0-{len(self.cpus) - 1})",
            )

    def colors(self, where: str, text: str) -> None:
        try:
            parse_cpu_list(text)
        except ValueError as error:
            self.add(where, f"'{text}': {error}")

    # -- cross-domain rules -------------------------------------------------------------

    def cpupools(self) -> None:
        owner: dict[int, str] = {}
        for pool in self.system.cpupools:
            where = f"cpupools[{pool.index}] ({pool.name})"
            for position, cpu in enumerate(pool.cpus):
                index = self.cpu_index(f"{where}.cpus[{position}]", cpu)
                if index is None:
                    continue
                if index in owner:
                    self.add(
                        f"{where}.cpus[{position}]",
                        f"CPU {index} is already in pool "
                        f"'{owner[index]}': a CPU belongs "
                        "to one pool only",
                    )
                owner[index] = pool.name

    def cpu_index(self, where: str, cpu: Union[int, str]) -> Optional[int]:
        known = self.host.cpu(cpu)
        if known is not None:
            return known.index
        if isinstance(cpu, int):
            self.add(where, f"CPU {cpu} does not exist: the board has {len(self.cpus)} CPUs")
        else:
            self.add(where, f"no CPU node {cpu} under /cpus in the host device tree")
        return None

    def passthrough_path(self, where: str, path: str) -> None:
        if not self.host.has_node(path):
            self.add(
                where,
                f"no node {path} in the host device tree: check the path "
                "(dtc -I dtb -O dts shows them)",
            )
            return
        if consoles.choose(self.system, self.host).path == path:
            self.add(where, f"{path} is Xen's own console: pass through another UART")

    def passthrough_owners(self) -> None:
        owners: dict[str, str] = {}
        for domain in self.system.domains:
            for index, path in enumerate(domain.passthrough):
                if path in owners:
                    self.add(
                        f"{domain.key}.passthrough[{index}]",
                        f"{path} is already given to '{owners[path]}': a device "
                        "belongs to one domain only",
                    )
                owners.setdefault(path, domain.name)

    def capabilities(self) -> None:
        for capability in ("hardware", "xenstore"):
            holders = [d.name for d in self.system.domains if capability in d.capabilities]
            if len(holders) > 1:
                self.add(
                    "domains",
                    f"only one domain may have the {capability} capability, "
                    f"not {', '.join(holders)}",
                )
        for domain in self.system.domains:
            if "hardware" in domain.capabilities:
                self.hardware_domain(domain)

    def hardware_domain(self, domain: Domain) -> None:
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
                self.add(
                    f"{domain.key}.{field}",
                    f"the hardware domain owns the host's devices and {what}: {fix}",
                )

    def event_channels(self) -> None:
        ports: dict[str, Counter] = {d.name: Counter() for d in self.system.domains}
        for domain in self.system.domains:
            for index, channel in enumerate(domain.event_channels):
                where = f"{domain.key}.event_channels[{index}]"
                if channel.peer == domain.name:
                    self.add(where, "a static event channel connects two different domains")
                    continue
                if channel.peer not in self.names:
                    self.add(where, f"no domain named '{channel.peer}'")
                    continue
                ports[domain.name][channel.port] += 1
                ports[channel.peer][channel.peer_port] += 1
                if max(channel.port, channel.peer_port) > MAX_DOMU_PORT:
                    self.add(
                        where, f"domUs have event-channel ports 1-{MAX_DOMU_PORT}: use a lower port"
                    )
        for name, counter in ports.items():
            for port, count in counter.items():
                if count > 1:
                    self.add(
                        "event_channels",
                        f"port {port} of '{name}' is used by {count} "
                        "channels: each end needs its own port",
                    )

    def shared_memory(self) -> None:
        regions = {s.id: s for s in self.system.shared_memory}
        for index, region in enumerate(self.system.shared_memory):
            where = f"shared_memory[{index}] ({region.id})"
            if region.size % PAGE or not region.size:
                self.add(where, "size must be a non-zero multiple of 4 KiB")
            if region.host_address is not None:
                if region.host_address % PAGE:
                    self.add(f"{where}.host_address", "must be 4 KiB aligned")
                self.inside_ram(where, Region(region.host_address, region.size))
        owners: Counter = Counter()
        borrowers: dict[str, str] = {}
        for domain in self.system.domains:
            for index, use in enumerate(domain.shared_memory):
                where = f"{domain.key}.shared_memory[{index}]"
                if use.id not in regions:
                    self.add(where, f"no shared_memory region with id '{use.id}'")
                if use.guest_address % PAGE:
                    self.add(f"{where}.guest_address", "must be 4 KiB aligned")
                if use.role == "owner":
                    owners[use.id] += 1
                elif use.role == "borrower":
                    borrowers.setdefault(use.id, f"{where}.role")
                region = regions.get(use.id)
                if domain.direct_map and region:
                    self.direct_mapped_shm(where, region, use.guest_address)
        for ident, count in owners.items():
            if count > 1:
                self.add("shared_memory", f"region '{ident}' has {count} owners: at most one")
        for ident, where in borrowers.items():
            if not owners[ident]:
                self.add(
                    where,
                    f"region '{ident}' has a borrower but no owner: give one "
                    "domain role: owner, or leave role out everywhere so Xen "
                    "owns it",
                )

    def direct_mapped_shm(self, where: str, region: SharedMemory, guest_address: int) -> None:
        """From 4.19 Xen maps a direct-mapped domain's shared memory 1:1 or refuses it."""
        if not xen_versions.applies(self.version, "shm_direct_map_identity"):
            return
        if region.host_address is None:
            self.add(
                where,
                f"region '{region.id}' has no host_address, but a direct-mapped "
                "domain needs one (Xen maps it 1:1): give it a host_address",
            )
        elif guest_address != region.host_address:
            self.add(
                f"{where}.guest_address",
                "a direct-mapped domain sees host addresses: make guest_address "
                f"equal {hexaddr(region.host_address)}",
            )

    def static_regions_disjoint(self) -> None:
        named = [(e.reason, e.region) for e in static_regions(self.system)]
        reserved = [(r.origin, r.region) for r in self.host.reservations]
        for i, (where, region) in enumerate(named):
            for other, other_region in named[i + 1 :] + reserved:
                if region.overlaps(other_region):
                    self.add(
                        where,
                        f"{hexaddr(region.address)}-{hexaddr(region.end)} "
                        f"overlaps {other} ({hexaddr(other_region.address)}-"
                        f"{hexaddr(other_region.end)}): move one of them",
                    )

    def inside_ram(self, where: str, region: Region) -> None:
        if not any(b.address <= region.address and region.end <= b.end for b in self.banks):
            banks = ", ".join(f"{hexaddr(b.address)}-{hexaddr(b.end)}" for b in self.banks)
            self.add(
                where,
                f"{hexaddr(region.address)}-{hexaddr(region.end)} is not inside "
                f"one RAM bank of the board ({banks})",
            )
