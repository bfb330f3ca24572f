"""Semantic host-tree mutations: no tree the product accepts is one Xen cannot boot on.

host_mutations.xen_faults reads a tree as Xen's boot code does, from Xen's sources,
without the product's rules; here it is first checked on trees whose fate is known,
then a seeded batch of mutated QEMU trees goes through pipeline.check. bench/fuzz.py
--host-trees runs the same cases by the thousand through the CLI.
"""

from __future__ import annotations

from pathlib import Path

import fdt
import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.generator import pipeline

from ..conftest import QEMU_DTB, write_inputs
from .fuzz_cases import RandomDraw
from .host_mutations import VERSIONS, make_host_case, xen_faults

#: Seeds of the batch run here (the campaign runs thousands)
BATCH = range(40)


def edited(edit) -> bytes:
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    edit(tree)
    return tree.to_dtb(version=17)


@pytest.mark.parametrize("version", VERSIONS)
def test_xen_boots_on_qemus_own_tree(version):
    assert xen_faults(QEMU_DTB.read_bytes(), version) == []


@pytest.mark.parametrize(
    ("edit", "fault"),
    [
        (lambda t: t.remove_node("intc@8000000", "/"), "no interrupt controller"),
        (
            lambda t: t.set_property(
                "reg",
                [0, 1 << 30, 0, 2 << 30] * 2 + [0, 0x50000000, 0, 0x10000000],
                path="/memory@40000000",
            ),
            "counted twice",
        ),
        (
            lambda t: t.set_property("status", "disabled", path="/pl011@9000000"),
            "no console",
        ),
    ],
    ids=["no-gic", "memory-twice", "console-disabled"],
)
def test_xen_faults_on_the_issue_trees(edit, fault):
    assert any(fault in found for found in xen_faults(edited(edit), "4.17"))


def test_no_mutated_tree_is_accepted_that_xen_cannot_boot(tmp_path: Path):
    inputs = write_inputs(tmp_path / "inputs")
    silent, verdicts = [], set()
    for seed in BATCH:
        work = tmp_path / f"case-{seed}"
        work.mkdir()
        case, faults = make_host_case(RandomDraw(seed), work, inputs)
        try:
            pipeline.check(Path(case.argv[1]), case.environ)
            accepted = True
        except UserError:
            accepted = False
        verdicts.add((accepted, bool(faults)))
        if accepted and faults:
            silent.append((seed, case.steps, faults))
    assert silent == []
    # the batch has trees of both fates, so the assertion above is not empty
    assert {(True, False), (False, True)} <= verdicts
