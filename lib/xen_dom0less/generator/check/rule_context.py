"""What every rule reads (the description, the board, the target Xen) and how it reports.

The rules themselves are plain functions in rules.py's tables; what several of them
share (a list of CPUs, a region inside RAM, a feature the release lacks) is checked here
once, in the same words everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Optional, Union

from ...errors import Problems
from ..facts import xen_versions
from ..hostdt import Cpu, HostTree
from ..model import Region, System
from ..plan import Isolation
from . import isolation, scheduling

#: Most numbers a CPU or colour list may expand to (the schema allows up to 9999 each).
MAX_LISTED = 10000


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


@dataclass(frozen=True)
class RuleContext:
    """The description and board under check, and the problems found so far."""

    system: System
    host: HostTree
    problems: Problems

    @cached_property
    def host_nodes(self) -> tuple[isolation.HostNode, ...]:
        return isolation.host_nodes(self.host)

    @cached_property
    def isolation(self) -> Isolation:
        """What each domain and Xen can reach (check.isolation), built once for every rule."""
        return isolation.build(self.system, self.host, self.host_nodes)

    @property
    def version(self) -> str:
        return self.system.xen.version

    @cached_property
    def limits(self) -> xen_versions.Limits:
        return xen_versions.limits(self.version)

    @property
    def banks(self) -> tuple[Region, ...]:
        return self.host.memory_banks

    @property
    def cpus(self) -> tuple[Cpu, ...]:
        return self.host.cpus

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(d.name for d in self.system.domains)

    @property
    def max_vcpus(self) -> int:
        """Most vCPUs Xen's virtual GIC gives a guest on this board."""
        return self.limits.vcpus[self.host.gic_version or 3]

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

    def cmdline(self, where: str, text: str) -> None:
        longest = self.limits.cmdline_length
        if len(text) > longest:
            self.add(
                where,
                f"{len(text)} characters, but Xen {self.version} takes at most {longest} "
                "(BOOTMOD_MAX_CMDLINE) and panics 'command line too long': shorten it",
            )

    def colouring_on(self, where: str) -> None:
        if self.system.xen.llc_coloring is None:
            self.add(
                where,
                "Xen panics on LLC colours while colouring is off: "
                "add xen.llc_coloring (it turns llc-coloring=on)",
            )

    def cpu_list(self, where: str, text: str) -> None:
        try:
            listed = parse_cpu_list(text)
        except ValueError as error:
            self.add(where, f"'{text}': {error}")
            return
        missing = [c for c in listed if c >= len(self.cpus)]
        capped = [c for c in listed if c >= self.numbered_cpus]
        if missing:
            self.add(
                where,
                f"CPU {missing[0]} does not exist: the board has "
                f"{len(self.cpus)} CPUs (0-{len(self.cpus) - 1})",
            )
        elif capped:
            self.beyond_maxcpus(where, capped[0])

    @cached_property
    def numbered_cpus(self) -> int:
        return scheduling.numbered_cpus(self.system, self.host)

    def beyond_maxcpus(self, where: str, cpu: int) -> None:
        self.add(
            where,
            f"CPU {cpu} is beyond maxcpus={self.numbered_cpus} on Xen's command line (Xen "
            f"numbers CPUs 0-{self.numbered_cpus - 1})",
        )

    @cached_property
    def parked_cpus(self) -> frozenset[int]:
        return scheduling.parked_cpus(self.system, self.host)

    def parked(self, where: str, cpus: str, kind_of: int, consequence: str) -> None:
        """Report CPUs ``cpus`` (of ``kind_of``'s kind) that Xen never brings up."""
        kind, boot = (
            next(iter(self.host.strings(self.cpus[i].path, "compatible")), "") for i in (kind_of, 0)
        )
        self.add(
            where,
            f"{cpus} {kind}, which Xen does not bring up beside its boot CPU, {boot} "
            f"(big.LITTLE), and it panics {consequence}, or add hmp-unsafe to "
            "xen.extra_bootargs and pin every domain",
        )

    def colors(self, where: str, text: str) -> None:
        try:
            parse_cpu_list(text)
        except ValueError as error:
            self.add(where, f"'{text}': {error}")

    def cpu_index(self, where: str, cpu: Union[int, str]) -> Optional[int]:
        known = self.host.cpu(cpu)
        if known is not None:
            return known.index
        if isinstance(cpu, int):
            self.add(where, f"CPU {cpu} does not exist: the board has {len(self.cpus)} CPUs")
        else:
            self.add(where, f"no CPU node {cpu} under /cpus in the host device tree")
        return None

    def inside_ram(self, where: str, region: Region) -> None:
        if not any(b.address <= region.address and region.end <= b.end for b in self.banks):
            banks = ", ".join(b.span() for b in self.banks)
            self.add(
                where,
                f"{region.span()} is not inside one RAM bank of the board ({banks})",
            )
