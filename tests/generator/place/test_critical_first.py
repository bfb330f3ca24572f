"""The critical domain starts first by default: affinity on 4.21+, credit before, and the
user's own scheduling left alone. The boots that prove each mechanism are in
tests/e2e/test_boot_order.py."""

from __future__ import annotations

import fdt
import pytest

from xen_dom0less.generator import pipeline
from xen_dom0less.generator.model import Cpupool

from ...conftest import QEMU_DTB
from ..check.test_rules import both, set_key

QEMU_CPUS = 4


def planned(describe, *changes):
    return pipeline.check(describe(both(*changes)))


def affinities(plan) -> dict[str, tuple]:
    return {d.name: d.vcpu_affinity for d in plan.system.domains}


@pytest.mark.parametrize("version", ["4.17", "4.20"])
def test_before_4_21_the_credit_scheduler(describe, version):
    plan = planned(describe, set_key("xen.version", version))
    assert plan.xen_bootargs.endswith(" sched=credit")
    assert plan.kconfig["SCHED_CREDIT"] == "xen.scheduler credit"
    assert affinities(plan) == {"rtos": (), "linux": ()}
    assert plan.critical_first.startswith("rtos (d1): the credit scheduler, which")


@pytest.mark.parametrize("version", ["4.21", "4.22"])
def test_from_4_21_cpus_of_its_own_too(describe, version):
    plan = planned(describe, set_key("xen.version", version))
    assert plan.xen_bootargs.endswith(" sched=credit")
    assert affinities(plan) == {"rtos": ((0, "3"),), "linux": ((0, "0-2"), (1, "0-2"))}
    assert plan.critical_first.startswith(
        "rtos (d1): hard affinity to CPUs of its own and the credit scheduler"
    )


def test_from_4_21_affinity_alone_when_xens_command_line_is_the_users(describe):
    plan = planned(
        describe, set_key("xen.version", "4.22"), set_key("xen.bootargs", "console=dtuart")
    )
    assert plan.xen_bootargs == "console=dtuart"
    assert affinities(plan)["rtos"] == ((0, "3"),)
    assert plan.critical_first == "rtos (d1): hard affinity to CPUs of its own"


def test_the_affinity_is_rendered_as_xen_vcpu_nodes(describe, tmp_path):
    plan = pipeline.build(describe(set_key("xen.version", "4.22")), tmp_path / "out")
    chosen = fdt.parse_dtb((tmp_path / "out" / plan.dtb.file).read_bytes())
    node = chosen.get_node("/chosen/rtos/vcpu0")
    assert node.get_property("hard-affinity").value == "3"
    assert chosen.get_node("/chosen/linux/vcpu1").get_property("hard-affinity").value == "0-2"


def test_a_critical_domain_with_every_cpu_has_credit_alone(describe):
    plan = planned(describe, set_key("xen.version", "4.22"), set_key("domains.0.vcpus", 4))
    assert plan.xen_bootargs.endswith(" sched=credit")
    assert affinities(plan) == {"rtos": (), "linux": ()}


def test_naming_the_first_domain_is_the_default(describe):
    assert planned(describe, set_key("xen.critical", "rtos")).xen_bootargs.endswith(" sched=credit")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (set_key("xen.critical", "none"), ""),
        (set_key("xen.scheduler", "credit2"), "the description's own scheduler"),
        (set_key("xen.extra_bootargs", "sched=rtds"), "the description's own scheduler"),
        (set_key("xen.bootargs", "console=dtuart"), "the user's own xen.bootargs"),
        (set_key("domains.1.vcpu_affinity", {"0": "1"}), "own vcpu_affinity"),
        (lambda d: d["domains"].pop(), "the only domU"),
        (
            lambda d: d.update(dom0={"kernel": d["domains"][1]["kernel"], "memory": "512M"}),
            "dom0 starts before",
        ),
    ],
    ids=["none", "scheduler", "sched-option", "bootargs", "affinity", "one-domu", "dom0"],
)
def test_the_descriptions_own_choice_wins(describe, change, why):
    version = "4.21" if "affinity" in why else "4.17"
    plan = planned(describe, set_key("xen.version", version), change)
    assert "sched=credit" not in plan.xen_bootargs.split()
    assert affinities(plan)["rtos"] == ()
    assert why in plan.critical_first
    assert bool(plan.critical_first) == bool(why)


def xen_config(tmp_path, *options: str):
    """A change giving the description a Xen .config with the console's options and these."""
    config = tmp_path / "xen.config"
    wanted = ["DOM0LESS_BOOT", "HAS_PL011", "SBSA_VUART_CONSOLE", *options]
    config.write_text("".join(f"CONFIG_{option}=y\n" for option in wanted))
    return set_key("xen.config", str(config))


@pytest.mark.parametrize("version", ["4.17", "4.20"])
def test_before_4_21_a_cpupool_of_its_own_where_xen_has_them(describe, tmp_path, version):
    plan = planned(
        describe,
        set_key("xen.version", version),
        xen_config(tmp_path, "SCHED_CREDIT", "BOOT_TIME_CPUPOOLS"),
    )
    assert plan.system.cpupools == (Cpupool("critical", 0, (3,)),)
    assert [d.cpupool for d in plan.system.domains] == ["critical", None]
    assert plan.xen_bootargs.endswith(" sched=credit")
    assert plan.critical_first.startswith(
        "rtos (d1): a cpupool of its own (critical) and the credit scheduler"
    )


def test_the_pool_is_rendered_on_the_last_cpu(describe, tmp_path):
    change = both(
        set_key("xen.version", "4.20"), xen_config(tmp_path, "SCHED_CREDIT", "BOOT_TIME_CPUPOOLS")
    )
    plan = pipeline.build(describe(change), tmp_path / "out")
    tree = fdt.parse_dtb((tmp_path / "out" / plan.dtb.file).read_bytes())
    pool = tree.get_node("/chosen/cpupool-critical")
    assert pool.get_property("compatible").value == "xen,cpupool"
    cpu3 = tree.get_node("/cpus/cpu@3").get_property("phandle").value
    assert pool.get_property("cpupool-cpus").value == cpu3
    rtos = tree.get_node("/chosen/rtos").get_property("domain-cpupool").value
    assert rtos == pool.get_property("phandle").value


def test_without_cpupools_in_xens_config_credit_alone(describe, tmp_path):
    plan = planned(describe, set_key("xen.version", "4.20"), xen_config(tmp_path, "SCHED_CREDIT"))
    assert plan.system.cpupools == ()
    assert plan.xen_bootargs.endswith(" sched=credit")


def test_a_config_without_credit_leaves_the_order_open(describe, tmp_path):
    plan = planned(describe, xen_config(tmp_path))
    assert "sched=" not in plan.xen_bootargs
    assert "no credit scheduler" in plan.critical_first


@pytest.mark.parametrize("version", ["4.20", "4.22"])
def test_cores_of_several_kinds_get_no_cpus_of_their_own(describe, tmp_path, version):
    """big.LITTLE (the RZ/G2M's 2 A57 + 4 A53): Xen brings up only the CPUs of the boot CPU's
    kind unless hmp-unsafe (smpboot.c stops the others), and a hard affinity or a cpupool of
    CPUs it never brought up panics (vcpu_set_hard_affinity: -EINVAL). Credit is still set."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    tree.get_node("/cpus/cpu@3").set_property("compatible", "arm,cortex-a53")
    board = tmp_path / "big-little.dtb"
    board.write_bytes(tree.to_dtb(version=17))
    plan = planned(
        describe,
        set_key("xen.version", version),
        set_key("host.dtb", str(board)),
        xen_config(tmp_path, "SCHED_CREDIT", "BOOT_TIME_CPUPOOLS"),
    )
    assert affinities(plan) == {"rtos": (), "linux": ()}
    assert plan.system.cpupools == ()
    assert plan.xen_bootargs.endswith(" sched=credit")
    assert "cores of several kinds" in plan.critical_first, plan.critical_first


def test_maxcpus_leaves_the_cpus_beyond_it_alone(describe):
    """With maxcpus=2 Xen numbers CPUs 0-1: d1 gets CPU 1, not CPU 3 (a panic)."""
    plan = planned(
        describe, set_key("xen.version", "4.22"), set_key("xen.extra_bootargs", "maxcpus=2")
    )
    assert affinities(plan) == {"rtos": ((0, "1"),), "linux": ((0, "0"), (1, "0"))}
