"""Warnings: choices Xen takes that cost safety or a running domain, said and not refused."""

from __future__ import annotations

from xen_dom0less.cli import main
from xen_dom0less.generator.pipeline import check

from .test_rules import both, set_key


def test_xens_default_scrubbing_is_left_alone(describe):
    """Xen's SUPPORT.md ('Dom0less'): only bootscrub=idle, its default, scrubs domUs' RAM."""
    plan = check(describe())
    assert "bootscrub" not in plan.xen_bootargs and plan.warnings == ()


def test_turning_scrubbing_off_is_a_warning_naming_the_key(describe, capsys):
    path = describe(set_key("xen.extra_bootargs", "bootscrub=0 console_timestamps=boot"))
    assert main(["check", str(path)]) == 0
    line = 1 + next(i for i, t in enumerate(path.read_text().splitlines()) if "extra_b" in t)
    assert capsys.readouterr().err == (
        f"warning: {path}:{line}: xen.extra_bootargs: bootscrub=0 leaves the RAM of dom0less domUs "
        "unscrubbed (Xen's SUPPORT.md, 'Dom0less': only bootscrub=idle scrubs it), so a domU "
        "can read what the previous boot's domains left there: drop it to keep Xen's "
        "default bootscrub=idle\n"
    )
    for kept in ("bootscrub=idle", "console_timestamps=boot"):
        assert check(describe(set_key("xen.bootargs", kept), name="kept.yaml")).warnings == ()
    on = check(describe(set_key("xen.bootargs", "console=dtuart bootscrub=on"), name="on.yaml"))
    (warning,) = on.warnings
    assert warning.where == "xen.bootargs" and warning.message.startswith("bootscrub=on leaves")


def test_arinc653_with_a_control_domain_warns_that_the_domu_waits(describe):
    plan = check(
        describe(
            both(
                set_key("cpupools", [{"name": "rt", "cpus": [3], "scheduler": "arinc653"}]),
                set_key("domains.0.cpupool", "rt"),
                set_key("dom0", {"kernel": "${DOM0LESS_INPUTS}/Image", "memory": "512M"}),
            )
        )
    )
    assert [f"{w.where}: {w.message}" for w in plan.warnings] == [
        "domains[0] (rtos): runs under the arinc653 scheduler, which gives it no time slot at "
        "boot (only the control domain's vCPUs are in Xen's boot schedule): it starts once "
        "the control domain installs a schedule (xl sched-arinc653, or "
        "xc_sched_arinc653_schedule_set); use another scheduler for a domain that must run "
        "at boot"
    ]
