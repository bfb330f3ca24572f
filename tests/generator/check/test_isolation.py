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

from ...conftest import PARTITIONED, QEMU_DTB

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
    return caught.value.lines


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


# -- devices on memory ---------------------------------------------------------------------


def test_a_memory_node_passed_through_is_refused(tmp_path, describe):
    problem = only(refused(describe, given(tmp_path, (), {0: [RAM]})), "overlaps RAM")
    assert problem.startswith(f"{describe()}:")  # and the line of the key
    assert f": domains[0] (rtos).passthrough[0]: {RAM} gives" in problem
    assert f"RAM ({RAM}) 0x40000000-0xc0000000 at 0x40000000-0xc0000000" in problem


def test_a_device_whose_reg_is_in_ram_is_refused(tmp_path, describe):
    change = given(tmp_path, [device("dev", 0x50000000)], {1: ["/dev@50000000"]})
    problem = only(refused(describe, change), "overlaps RAM")
    assert "'linux' 0x50000000-0x50001000" in problem
    assert "at 0x50000000-0x50001000" in problem


@pytest.mark.parametrize(
    ("more", "words"),
    [
        ({"reserved": [(0x20000000, 0x10000)]}, "reserved /reserved-memory/area@20000000"),
        ({"memreserve": [(0x20000000, 0x10000)]}, "a /memreserve/ area"),
    ],
    ids=["reserved-memory", "memreserve"],
)
def test_a_device_on_reserved_memory_is_refused(tmp_path, describe, more, words):
    change = given(tmp_path, [device("dev", 0x20008000)], {0: ["/dev@20008000"]}, **more)
    problem = only(refused(describe, change), words)
    assert "0x20000000-0x20010000 at 0x20008000-0x20009000" in problem


# -- Xen's own devices, by address -----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "words"),
    [
        (0x9000000, f"Xen's console UART {UART} 0x09000000-0x09001000"),
        (0x8000000, "Xen's GIC /intc@8000000 0x08000000-0x08010000"),
        (0x8081000, "Xen's GIC /intc@8000000/its@8080000"),
    ],
    ids=["console", "gicd", "its"],
)
def test_xens_device_under_another_name_is_refused(tmp_path, describe, address, words):
    path = f"/other@{address:x}"
    problem = only(
        refused(describe, given(tmp_path, [device("other", address)], {0: [path]})), words
    )
    assert problem.startswith(f"{describe()}:")  # and the line of the key
    assert f": domains[0] (rtos).passthrough[0]: {path} gives" in problem


# -- other domains ---------------------------------------------------------------------------

TWO = [device("a", 0x9100000, 0x100), device("b", 0x9100800, 0x100)]


def test_two_domains_devices_on_one_page_are_refused(tmp_path, describe):
    change = given(tmp_path, TWO, {0: ["/a@9100000"], 1: ["/b@9100800"]})
    problem = only(refused(describe, change), "the device /b@9100800 of 'linux'")
    assert "domains[0] (rtos).passthrough[0]: /a@9100000 gives 'rtos'" in problem
    assert "at 0x09100000-0x09101000" in problem


def test_one_domain_may_have_both_devices_of_a_page(tmp_path, describe):
    check(describe(given(tmp_path, TWO, {0: ["/a@9100000", "/b@9100800"]})))


def test_a_page_shared_with_dom0s_device_is_refused(tmp_path, describe):
    def with_dom0(doc):
        given(tmp_path, TWO, {0: ["/a@9100000"]})(doc)
        doc["dom0"] = {"kernel": doc["domains"][1]["kernel"], "memory": "256M"}

    problem = only(refused(describe, with_dom0), "the device /b@9100800 of 'dom0'")
    assert "0x09100800-0x09100900 at 0x09100800-0x09100900" in problem


def test_a_page_shared_with_a_device_nobody_has_is_refused(tmp_path, describe):
    problem = only(refused(describe, given(tmp_path, TWO, {0: ["/a@9100000"]})), "given to no")
    assert "also holds /b@9100800 (given to no domain) at 0x09100800-0x09100900" in problem
    assert problem.endswith("pass /b@9100800 to 'rtos' too, or neither")


def test_a_page_shared_with_a_disabled_device_is_a_warning(tmp_path, describe):
    disabled = device("b", 0x9100800, 0x100, fdt.PropStrings("status", "disabled"))
    plan = check(describe(given(tmp_path, [TWO[0], disabled], {0: ["/a@9100000"]})))
    assert tuple(map(str, plan.isolation.warnings)) == (
        "domains[0] (rtos).passthrough[0]: the page 0x09100000-0x09101000 of /a@9100000 also "
        "holds /b@9100800 (disabled, given to no domain) at 0x09100800-0x09100900: Xen maps "
        "whole 4 KiB pages, so 'rtos' reaches both",
    )


def test_strict_dma_leaves_a_page_shared_with_a_disabled_device_a_warning(tmp_path, describe):
    """isolation.dma_without_iommu: refuse refuses DMA, not the other isolation warnings."""
    disabled = device("b", 0x9100800, 0x100, fdt.PropStrings("status", "disabled"))

    def strict(doc):
        given(tmp_path, [TWO[0], disabled], {0: ["/a@9100000"]})(doc)
        doc["isolation"] = {"dma_without_iommu": "refuse"}

    (warning,) = check(describe(strict)).isolation.warnings
    assert "also holds /b@9100800 (disabled, given to no domain)" in warning.message


def test_a_device_in_another_domains_static_memory_is_refused(tmp_path, describe):
    def change(doc):
        given(tmp_path, [device("dev", 0x60000000)], {1: ["/dev@60000000"]})(doc)
        doc["domains"][0]["static_memory"] = [{"address": 0x60000000, "size": "16M"}]
        del doc["domains"][0]["memory"]

    problem = only(refused(describe, change), "domains[0] (rtos).static_memory[0]")
    assert "/dev@60000000 gives 'linux'" in problem


def test_a_device_in_shared_memory_of_others_is_refused(tmp_path, describe):
    def change(doc):
        given(tmp_path, [device("dev", 0x7FE00000)], {1: ["/dev@7fe00000"]})(doc)
        doc["shared_memory"] = [{"id": "ring", "host_address": 0x7FE00000, "size": "2M"}]
        doc["domains"][0]["shared_memory"] = [{"id": "ring", "guest_address": 0x7FE00000}]
        doc["xen"]["version"] = "4.19"

    problem = only(refused(describe, change), "shared_memory (ring) of 'rtos'")
    assert "at 0x7fe00000-0x7fe01000" in problem


# -- DMA without an IOMMU ----------------------------------------------------------------------

FW_CFG = "/fw-cfg@9020000"


def test_dma_without_an_iommu_is_a_warning(describe):
    plan = check(describe(lambda doc: doc["domains"][0].update(passthrough=[FW_CFG])))
    (warning,) = plan.isolation.warnings
    assert warning.where == "domains[0] (rtos).passthrough[0]"
    assert warning.message.startswith(f"{FW_CFG} can do DMA")
    assert "'rtos' can read and write all of RAM (0x40000000-0xc0000000)" in warning.message
    assert {r.region for r in plan.isolation.reach["rtos"] if r.how == "DMA"} == {
        (0x40000000, 0x80000000)
    }


def test_dma_without_an_iommu_is_refused_when_strict(describe):
    def strict(doc):
        doc["domains"][0]["passthrough"] = [FW_CFG]
        doc["isolation"] = {"dma_without_iommu": "refuse"}

    problem = only(refused(describe, strict), "can do DMA (it has dma-coherent)")
    assert problem.endswith("or set isolation.dma_without_iommu: warn to accept the risk")


def test_check_prints_the_warning_and_succeeds(describe, capsys):
    from xen_dom0less.cli import main

    path = describe(lambda doc: doc["domains"][0].update(passthrough=[FW_CFG]))
    assert main(["check", str(path)]) == 0
    err = capsys.readouterr().err
    line = path.read_text().splitlines().index(f"  - {FW_CFG}") + 1  # the list item
    assert err.startswith(
        f"warning: {path}:{line}: domains[0] (rtos).passthrough[0]: {FW_CFG} can do"
    )


# -- shown -------------------------------------------------------------------------------------


def test_plan_prints_what_each_domain_reaches_and_with_whom(inputs, capsys):
    from xen_dom0less.cli import main

    assert main(["plan", str(PARTITIONED)]) == 0
    table = capsys.readouterr().out.split("\n\nreached by")[1].splitlines()
    rows = [line.split() for line in table[1:]]
    assert ["xen", "0x09000000", "0x09001000", "console", "UART", UART] in rows
    ring = ["0x7fe00000", "0x80000000", "shared", "memory", "shared_memory", "(ring)"]
    assert ["rtos", *ring, "linux"] in rows
    assert ["linux", *ring, "rtos"] in rows


def test_the_picture_marks_shared_and_dma_exposed_ranges(describe):
    from xen_dom0less.generator.render import plan_picture

    shared = plan_picture.svg(check(PARTITIONED))
    assert "shared_memory (ring), shared by rtos, linux" in shared
    assert "data-dma" not in shared
    dma = plan_picture.svg(
        check(describe(lambda doc: doc["domains"][0].update(passthrough=[FW_CFG])))
    )
    assert 'data-dma="rtos"' in dma
    assert f"DMA-exposed: {FW_CFG} of 'rtos' (no IOMMU) can read and write this bank" in dma
    assert f"{FW_CFG} (DMA, no IOMMU: reaches all of RAM)" in dma
