"""The critical domain starts first by default, by the mechanism the Xen release allows.

With Xen's default scheduler (credit2) on several CPUs the later domains start first:
the boot CPU, where every domain's vCPU 0 is placed, is still finishing boot when they
are unpaused (docs/boot-order.md). So, unless the description schedules itself:

- every release: ``sched=credit``, which queues every domain's vCPU 0 on the boot CPU in
  the order listed, to start once Xen's boot is done (unless Xen's command line is the
  user's, xen.bootargs, or the given .config lacks credit);
- Xen 4.21 and later, in addition: the critical domain's vCPUs get hard affinity to the
  last CPUs of the board and every other domU's to the rest, so it starts on a CPU of its
  own as soon as it is unpaused, while the others still wait for the boot CPU;
- before 4.21, where the given .config builds boot-time cpupools in: the critical domain
  alone in a cpupool of the last CPUs, to the same effect.

Credit alone leaves d1 a lead of a few milliseconds (the other CPUs take d2, d3 as soon as
the boot CPU has taken d1), which a loaded host running QEMU can overturn; the CPUs of its
own give it the whole of Xen's end of boot (docs/boot-order.md).

The result is an ordinary description (``xen.scheduler``, ``vcpu_affinity``, ``cpupools``),
checked by the same rules as one written by hand.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from ... import files
from ..check import scheduling
from ..facts import kconfig, xen_versions
from ..hostdt import HostTree
from ..model import Cpupool, Domain, System

#: The first release with xen,vcpu hard-affinity nodes.
AFFINITY_SINCE = xen_versions.FEATURES["vcpu_affinity"].since
#: Before it, a boot-time cpupool does the same where Xen's .config is given and has them.
POOLS = xen_versions.FEATURES["cpupools"].kconfig[0]
CREDIT = xen_versions.SCHEDULERS["credit"]
#: The name of the critical domain's cpupool.
POOL = "critical"


class Critical(NamedTuple):
    """The system as Xen is to run it, and how (or why not) its critical domain starts first."""

    system: System
    #: one line for the plan; empty when there is no critical domain
    how: str


def critical_domain(system: System) -> Optional[Domain]:
    """The domain named by xen.critical, the first one by default; None with none."""
    name = system.xen.critical
    if name == "none":
        return None
    if name is None:
        return system.domains[0]
    return next((d for d in system.domains if d.name == name), None)


def apply(system: System, host: HostTree) -> Critical:
    """``system`` with the default mechanism added when the description leaves it open."""
    critical = critical_domain(system)
    if critical is None or critical.index != 0:
        return Critical(system, "")  # none, or refused by the rules (not first)
    who = f"{critical.name} (d1)"
    cpus = scheduling.numbered_cpus(system, host)
    reason = _left_alone(system, cpus)
    if reason:
        return Critical(system, f"{who}: {reason}")
    how = []
    version = xen_versions.parse_version(system.xen.version)
    mixed = critical.vcpus < cpus and bool(scheduling.parked_cpus(system, host))
    own = critical.vcpus < cpus and not mixed
    if own and version >= AFFINITY_SINCE:
        system = _pinned(system, cpus)
        how.append("hard affinity to CPUs of its own")
    elif own and _built(system, POOLS) is True:
        system = _pooled(system, cpus)
        how.append(f"a cpupool of its own ({POOL})")
    if system.xen.bootargs is not None:
        # A default is not the user's choice: it stays off a command line the user wrote.
        without = "no scheduler added to the user's own xen.bootargs"
    elif _built(system, CREDIT) is False:
        without = "Xen's .config has no credit scheduler"
    else:
        system = system._replace(xen=system.xen._replace(scheduler="credit"))
        how.append(
            "the credit scheduler, which queues the others on the boot CPU until Xen's boot is done"
        )
        without = ""
    note = (
        "; no CPUs of its own: the board has cores of several kinds, of which Xen brings up "
        "only the boot CPU's without hmp-unsafe (docs/misc/arm/big.LITTLE.txt)"
        if mixed
        else ""
    )
    if not how:
        return Critical(system, f"{who}: not ordered, {without}{note}")
    return Critical(system, f"{who}: {' and '.join(how)}{note}")


def _left_alone(system: System, cpus: int) -> str:
    """Why no mechanism is added: the user chose one, or there is nothing to order."""
    if len(system.domains) == 1:
        return "the only domU"
    if cpus < 2:
        return "one CPU: every domain queues on it in the order listed"
    if system.dom0 is not None:
        return "dom0 starts before every domU; no order added"
    if scheduling.default_scheduler(system) or system.cpupools:
        return "the description's own scheduler or cpupools decide"
    if any(d.vcpu_affinity for d in system.domains):
        return "the description's own vcpu_affinity decides"
    return ""


def _built(system: System, option: str) -> Optional[bool]:
    """Whether the given Xen .config builds ``option`` in; None with no (readable) .config."""
    if system.xen.config is None:
        return None
    try:
        config = kconfig.read(system.xen.config)
    except files.UnusableFile:
        return None  # check_config names the file
    return not kconfig.missing({option: ""}, config)


def _pinned(system: System, cpus: int) -> System:
    """The critical domain (d1) on the last CPUs, one per vCPU; the other domUs on the rest,
    which include the boot CPU."""
    critical = system.domains[0]
    own = _cpu_range(cpus - critical.vcpus, cpus - 1)
    rest = _cpu_range(0, cpus - critical.vcpus - 1)
    domains = tuple(
        d._replace(vcpu_affinity=tuple((v, own if d.index == 0 else rest) for v in range(d.vcpus)))
        for d in system.domains
    )
    return system._replace(domains=domains)


def _pooled(system: System, cpus: int) -> System:
    """The critical domain (d1) alone in a boot-time cpupool of the last CPUs, one per vCPU;
    the other domUs in Pool-0 with the boot CPU."""
    critical = system.domains[0]
    pool = Cpupool(POOL, 0, tuple(range(cpus - critical.vcpus, cpus)))
    domains = (critical._replace(cpupool=POOL), *system.domains[1:])
    return system._replace(domains=domains, cpupools=(pool,))


def _cpu_range(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"
