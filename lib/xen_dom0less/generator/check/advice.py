"""What the description may mean but probably should not: warnings, printed, not refused.

Each one is a choice Xen accepts and a user can make knowingly (turning a safe
default off, a scheduler that needs the toolstack later); the build goes ahead
and the warning says what it costs and the way back.
"""

from __future__ import annotations

from ...errors import Problem
from ..facts import uboot
from ..model import System
from . import scheduling

#: Xen's own default, the only value that scrubs dom0less domUs' memory (SUPPORT.md).
SCRUB_IDLE = "idle"


def warnings(system: System) -> tuple[Problem, ...]:
    """One per questionable choice, naming the key and the way back."""
    return (*_scrubbing(system), *_arinc653_waits(system), *_script_by_configuration(system))


def _scrubbing(system: System) -> list[Problem]:
    found = []
    for key, text in (
        ("xen.bootargs", system.xen.bootargs),
        ("xen.extra_bootargs", system.xen.extra_bootargs),
    ):
        for word in (text or "").split():
            name, _, value = word.partition("=")
            if name == "bootscrub" and value != SCRUB_IDLE:
                found.append(
                    Problem(
                        f"{word} leaves the RAM of dom0less domUs unscrubbed (Xen's "
                        "SUPPORT.md, 'Dom0less': only bootscrub=idle scrubs it), so a domU can "
                        "read what the previous boot's domains left there: drop it to keep Xen's "
                        "default bootscrub=idle",
                        where=key,
                    )
                )
    return found


def _arinc653_waits(system: System) -> list[Problem]:
    if not scheduling.has_control_domain(system):
        return []  # refused by sharing_rules.arinc653
    return [
        Problem(
            "runs under the arinc653 scheduler, which gives it no time slot at boot "
            "(only the control domain's vCPUs are in Xen's boot schedule): it starts once the "
            "control domain installs a schedule (xl sched-arinc653, or "
            "xc_sched_arinc653_schedule_set); use another scheduler for a domain that must "
            "run at boot",
            where=d.key,
        )
        for d in scheduling.without_boot_slot(system)
    ]


def _script_by_configuration(system: System) -> list[Problem]:
    """From 2023.04 only configurations are signed; U-Boot's ``source`` still runs a script
    FIT without one, checked by its hash alone, unless the boot command names it."""
    signing = system.boot.signing
    if signing is None or not uboot.source_verifies_configuration(signing.uboot_version):
        return []
    return [
        Problem(
            f"{signing.uboot_version}: only the configurations are signed, so boot.scr is "
            "protected only when the board's boot command runs 'source ${scriptaddr}#dom0less'; "
            "a plain 'source' (as distro boot runs it) runs a forged script without a "
            "configuration on its hash alone: set the boot command so, or leave uboot_version "
            "out to sign every image too",
            where="boot.signing.uboot_version",
        )
    ]
