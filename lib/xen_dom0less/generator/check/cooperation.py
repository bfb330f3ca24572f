"""Domains that cooperate: PV devices, and the backend domain that serves them.

Xen builds dom0less domains alone at boot; a PV console, network or disk is set up later,
at run time, by the toolstack in a backend domain through xenstore. So a domain with PV
devices needs xenstore, and its backend must exist and run the generated services
(render/services.py): dom0, or on Xen 4.21+ the hardware domain. Xen checks none of this:
without it the guest waits for devices that never come.
"""

from __future__ import annotations

from collections import Counter
from typing import Optional

from ..model import Domain, Pv, System
from .rule_context import RuleContext

#: The name dom0 goes by as a backend.
DOM0 = "dom0"
#: xen,enhanced values that give a domain xenstore.
XENSTORE_ON = ("enabled", "legacy")


def xenstore_runs(system: System) -> bool:
    """Whether some domain runs xenstore: dom0, or a domU with capabilities: [xenstore]."""
    return system.dom0 is not None or any("xenstore" in d.capabilities for d in system.domains)


def services_host(system: System) -> Optional[str]:
    """The domain that runs the generated services: dom0, else the hardware domain."""
    if system.dom0 is not None:
        return DOM0
    return next((d.name for d in system.domains if "hardware" in d.capabilities), None)


def needs_services(system: System) -> bool:
    """Whether any domU is in xenstore or has PV devices: a true dom0less system is not."""
    return any(d.xenstore in XENSTORE_ON or d.pv != Pv() for d in system.domains)


def services_powers(ctx: RuleContext) -> None:
    """A hardware domain that serves xenstore and runs the generated services (no dom0) needs
    the control capability too: init-dom0less lists the domains and reads their xenstore
    event channels, which Xen lets only a control domain do, and Xen 4.22's xenstored cannot
    introduce dom0less domains alone (it reads each one's event channel from its xenstore
    page, where Xen writes none)."""
    host = services_host(ctx.system)
    if ctx.system.dom0 is not None or host is None or not needs_services(ctx.system):
        return
    domain = next(d for d in ctx.system.domains if d.name == host)
    if "xenstore" in domain.capabilities and "control" not in domain.capabilities:
        ctx.add(
            f"{domain.key}.capabilities",
            "the hardware domain runs the generated services, whose init-dom0less lists the "
            "domains and reads their xenstore event channels, which Xen lets only a control "
            "domain do: add control",
        )


def pv_devices(ctx: RuleContext) -> None:
    """Each domain's PV devices have xenstore, a backend that serves them, unique names."""
    host = services_host(ctx.system)
    macs: Counter = Counter()
    for domain in ctx.system.domains:
        if domain.pv == Pv():
            continue
        where = f"{domain.key}.pv"
        if domain.xenstore not in XENSTORE_ON:
            ctx.add(
                where,
                "PV devices are set up through xenstore, which this domain does not have: "
                "set xenstore: enabled",
            )
        if host is None:
            ctx.add(
                where,
                "PV devices need a backend domain running the generated services: add a "
                "dom0, or on Xen 4.21+ give one domU capabilities: [hardware]",
            )
            continue
        for key, device in domain.pv.devices:
            _backend(ctx, domain, f"{where}.{key}", device.backend or host, host)
        macs.update(n.mac for n in domain.pv.network if n.mac is not None)
        for vdev, count in Counter(b.vdev for b in domain.pv.block).items():
            if count > 1:
                ctx.add(f"{where}.block", f"{vdev} names {count} disks: give each its own vdev")
    for mac, count in macs.items():
        if count > 1:
            ctx.add("domains", f"the MAC address {mac} is given to {count} PV interfaces")


def _backend(ctx: RuleContext, domain: Domain, where: str, backend: str, host: str) -> None:
    if backend == domain.name:
        ctx.add(where, "a domain cannot serve its own PV device: name another backend")
    elif backend == host:
        return
    elif backend == DOM0:
        ctx.add(where, f"there is no dom0 to serve it: use backend: {host} or leave it out")
    elif backend not in ctx.names:
        ctx.add(where, f"no domain named '{backend}' to serve it")
    else:
        ctx.add(
            where,
            f"'{backend}' runs no backend services (the generated dom0less-services.sh runs "
            f"in {host}): use backend: {host} or leave it out",
        )
