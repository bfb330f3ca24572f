"""What each domain can reach (check.isolation) and the rules on it (check.isolation_rules).

QEMU's virt tree with device nodes added: each case is one a user could write, and Xen
would boot it, mapping RAM, its own registers or another domain's into a guest.
"""

from __future__ import annotations

from pathlib import Path

import fdt
import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.generator.pipeline import check

from ..conftest import PARTITIONED, QEMU_DTB

#: QEMU virt's RAM bank and Xen's console UART
RAM = "/memory@40000000"
UART = "/pl011@9000000"


def device(name: str, address: int, size: int = 0x1000, *props) -> fdt.Node:
    """A plain memory-mapped device node under the root (two address and size cells)."""
    return fdt.Node(
        f"{name}@{address:x}",
        fdt.PropStrings("compatible", f"test,{name}"),
        fdt.PropWords("reg", 0, address, 0, size),
        *props,
    )


def host_dtb(tmp_path: Path, *nodes: fdt.Node, memreserve=(), reserved=()) -> Path:
    """QEMU's DTB with ``nodes`` added under the root, /memreserve/ entries and
    /reserved-memory children."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    tree.entries = [{"address": a, "size": s} for a, s in memreserve]
    for node in nodes:
        tree.add_item(node, "/")
    if reserved:
        parent = fdt.Node(
            "reserved-memory",
            fdt.PropWords("#address-cells", 2),
            fdt.PropWords("#size-cells", 2),
            fdt.Property("ranges"),
        )
        for address, size in reserved:
            parent.append(fdt.Node(f"area@{address:x}", fdt.PropWords("reg", 0, address, 0, size)))
        tree.add_item(parent, "/")
    path = tmp_path / "host.dtb"
    path.write_bytes(tree.to_dtb(version=17))
    return path


def given(tmp_path: Path, nodes=(), passthrough=None, **more):
    """A change giving the base description that host tree and each domain its devices."""

    def change(doc: dict) -> None:
        doc["host"]["dtb"] = str(host_dtb(tmp_path, *nodes, **more))
        for index, paths in (passthrough or {}).items():
            doc["domains"][index]["passthrough"] = paths

    return change


def refused(describe, change) -> list[str]:
    with pytest.raises(UserError) as caught:
        check(describe(change))
    return caught.value.problems


def only(problems: list[str], *words: str) -> str:
    """The one problem containing every word (each rule names both parties and the range)."""
    found = [p for p in problems if all(w in p for w in words)]
    assert len(found) == 1, problems
    return found[0]


# -- the model ---------------------------------------------------------------------------


def test_the_partitioned_example_reaches_what_it_was_given(inputs):
    plan = check(PARTITIONED)
    reach = plan.isolation.reach
    rtos = {(r.how, r.region.address, r.region.size, r.shared_with) for r in reach["rtos"]}
    assert rtos == {
        ("static memory", 0x60000000, 0x1000000, ()),
        ("shared memory", 0x7FE00000, 0x200000, ("linux",)),
    }
    xen = {(r.how, r.source) for r in reach["xen"]}
    assert ("console UART", UART) in xen
    assert ("GIC", "/intc@8000000/its@8080000") in xen
    assert ("image", "xen") in xen
    assert {b.file for b in plan.blobs} == {s for how, s in xen if how in ("image", "load area")}


def test_dom0_reaches_every_enabled_device_nobody_else_has(tmp_path, describe):
    def with_dom0(doc):
        given(tmp_path, [device("spare", 0x9100000)], {0: ["/spare@9100000"]})(doc)
        doc["dom0"] = {"kernel": doc["domains"][1]["kernel"], "memory": "256M"}

    reach = check(describe(with_dom0)).isolation.reach
    dom0 = {r.source for r in reach["dom0"]}
    assert "/pl061@9030000" in dom0
    assert not dom0 & {UART, "/spare@9100000", "/intc@8000000"}
    assert [r.source for r in reach["rtos"]] == ["/spare@9100000"]


# -- other domains ---------------------------------------------------------------------------

TWO = [device("a", 0x9100000, 0x100), device("b", 0x9100800, 0x100)]


def test_a_page_shared_with_a_disabled_device_is_a_warning(tmp_path, describe):
    disabled = device("b", 0x9100800, 0x100, fdt.PropStrings("status", "disabled"))
    plan = check(describe(given(tmp_path, [TWO[0], disabled], {0: ["/a@9100000"]})))
    assert plan.isolation.warnings == (
        "domains[0] (rtos).passthrough[0]: the page 0x09100000-0x09101000 of /a@9100000 also "
        "holds /b@9100800 (disabled, given to no domain) at 0x09100800-0x09100900: Xen maps "
        "whole 4 KiB pages, so 'rtos' reaches both",
    )


# -- DMA without an IOMMU ----------------------------------------------------------------------

FW_CFG = "/fw-cfg@9020000"


def test_dma_without_an_iommu_is_a_warning(describe):
    plan = check(describe(lambda doc: doc["domains"][0].update(passthrough=[FW_CFG])))
    (warning,) = plan.isolation.warnings
    assert warning.startswith(f"domains[0] (rtos).passthrough[0]: {FW_CFG} can do DMA")
    assert "'rtos' can read and write all of RAM (0x40000000-0xc0000000)" in warning
    assert {r.region for r in plan.isolation.reach["rtos"] if r.how == "DMA"} == {
        (0x40000000, 0x80000000)
    }


def test_check_prints_the_warning_and_succeeds(describe, capsys):
    from xen_dom0less.cli import main

    path = describe(lambda doc: doc["domains"][0].update(passthrough=[FW_CFG]))
    assert main(["check", str(path)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {path}: domains[0] (rtos).passthrough[0]: {FW_CFG} can do")
