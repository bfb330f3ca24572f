"""Which Xen scheduler runs each domain, and who may change the schedule.

Xen's arinc653 scheduler builds its boot-time schedule from the control
domain's vCPUs only (sched/arinc653.c: dom0's before 4.21, any control domain
from 4.21); every other domain under it waits, unscheduled, until the control
domain installs a schedule through the toolstack.
"""

from __future__ import annotations

from typing import Optional

from ..hostdt import HostTree
from ..model import Domain, System

ARINC653 = "arinc653"
#: The values Xen's boolean options read as false (parse_bool).
FALSE = frozenset({"0", "no", "off", "false", "disable"})


def default_scheduler(system: System) -> Optional[str]:
    """Pool-0's scheduler: xen.scheduler, else the last sched= on Xen's command line
    (None: Xen's built-in default)."""
    if system.xen.scheduler:
        return system.xen.scheduler
    chosen = [w.partition("=")[2] for w in command_words(system) if w.startswith("sched=")]
    return chosen[-1] if chosen else None


def scheduler_of(system: System, domain: Domain) -> Optional[str]:
    """The scheduler of ``domain``'s cpupool (a pool without one takes the default)."""
    pool = next((p for p in system.cpupools if p.name == domain.cpupool), None)
    if pool is not None and pool.scheduler:
        return pool.scheduler
    return default_scheduler(system)


def has_control_domain(system: System) -> bool:
    """dom0, or a domU with the control capability (Xen 4.21+)."""
    return system.dom0 is not None or any("control" in d.capabilities for d in system.domains)


def without_boot_slot(system: System) -> list[Domain]:
    """The domUs arinc653 schedules that are not the control domain: none runs at boot."""
    return [
        d
        for d in system.domains
        if scheduler_of(system, d) == ARINC653 and "control" not in d.capabilities
    ]


def hmp_unsafe(system: System) -> bool:
    """Whether Xen's command line turns hmp-unsafe on (the last word about it wins)."""
    on = False
    for word in command_words(system):
        name, equals, value = word.partition("=")
        if name == "hmp-unsafe":
            on = not equals or value not in FALSE
        elif name == "no-hmp-unsafe":
            on = False
    return on


def parked_cpus(system: System, host: HostTree) -> frozenset[int]:
    """The CPUs Xen stops at boot: on big.LITTLE those of another kind than the boot CPU
    (smpboot.c compares their MIDR, which the tree gives as their compatible) unless
    hmp-unsafe is on. A cpupool holding one, or a hard affinity with nothing else, panics."""
    cpus = host.cpus
    if not cpus or hmp_unsafe(system):
        return frozenset()

    def kind(path: str) -> str:  # the most specific compatible names the core
        return next(iter(host.strings(path, "compatible")), "")

    boot = kind(cpus[0].path)
    return frozenset(c.index for c in cpus if kind(c.path) != boot)


def numbered_cpus(system: System, host: HostTree) -> int:
    """How many of the tree's CPUs Xen numbers: the first maxcpus= of them when Xen's command
    line caps them (smpboot.c smp_get_max_cpus; 0 caps nothing, the last word wins). Xen
    panics on an affinity or a pool naming a CPU beyond."""
    count = len(host.cpus)
    for word in command_words(system):
        name, _, value = word.partition("=")
        if name == "maxcpus":
            try:
                cap = int(value, 0)
            except ValueError:
                continue  # Xen refuses the option
            count = min(cap, len(host.cpus)) if cap > 0 else len(host.cpus)
    return count


def command_words(system: System) -> list[str]:
    """The words of Xen's command line the description gives."""
    return f"{system.xen.bootargs or ''} {system.xen.extra_bootargs}".split()
