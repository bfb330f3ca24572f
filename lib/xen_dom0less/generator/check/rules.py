"""Semantic rules on the description and the board, checked before any output.

Each rule exists because Xen would otherwise panic, BUG, fault or silently
misbehave at boot (tests/generator/check/test_validate.py has one case per rule, with the
exact problems it adds; test_rules.py the other checks', through the whole pipeline). Every
problem is collected so the user sees them all at once; addresses are
checked later by placement. A rule is a function of a RuleContext; adding one
means writing it and naming it in its table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

from ...errors import Problems
from ..hostdt import HostTree
from ..model import System
from ..plan import Isolation
from . import board_rules, cooperation, domain_rules, host_rules, isolation_rules, sharing_rules
from .rule_context import RuleContext

#: The rules over the whole system, in the order their problems are reported.
RULES: Sequence[Callable[[RuleContext], None]] = (
    board_rules.features_known,
    board_rules.host_facts,
    host_rules.interrupt_controller,
    host_rules.memory,
    host_rules.console,
    host_rules.cpus,
    host_rules.timer,
    board_rules.xen_options,
    board_rules.boot,
    board_rules.names_unique,
    domain_rules.dom0,
    domain_rules.domains,
    domain_rules.critical,
    sharing_rules.cpupools,
    sharing_rules.arinc653,
    sharing_rules.passthrough_owners,
    sharing_rules.capabilities,
    sharing_rules.event_channels,
    sharing_rules.shared_memory,
    sharing_rules.static_regions_disjoint,
    cooperation.services_powers,
    cooperation.pv_devices,
    isolation_rules.devices_outside_memory,
    isolation_rules.reach_disjoint,
    isolation_rules.pages_not_shared,
    isolation_rules.dma_without_iommu,
)

#: The rules deciding the backend's services (render.services) that read the description
#: alone: what check_services runs where the services are made without the board's tree.
SERVICES_RULES: Sequence[Callable[[RuleContext], None]] = (
    board_rules.names_unique,
    sharing_rules.capabilities,
    cooperation.pv_devices,
)


def check(system: System, host: HostTree, problems: Problems) -> Isolation:
    """Add every rule violation of ``system`` on ``host`` to ``problems``; what each domain
    can reach, as the rules saw it."""
    context = RuleContext(system, host, problems)
    for rule in RULES:
        rule(context)
    return context.isolation


def check_services(system: System, problems: Problems) -> None:
    """Add the problems SERVICES_RULES find: no board tree is read (the rules never look).

    Everything else is checked where the boot files are built, from the same description.
    """
    context = RuleContext(system, None, problems)  # type: ignore[arg-type]
    for rule in SERVICES_RULES:
        rule(context)
