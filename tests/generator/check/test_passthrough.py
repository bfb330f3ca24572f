"""Passthrough on QEMU's virt board: the guest's partial tree generated, a given one checked.

Xen checks almost nothing here (a node without xen,reg is copied and nothing is
mapped; a wrong interrupt is never routed), so each rule has a case.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import fdt
import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.generator.pipeline import build, check

GPIO = "/pl061@9030000"
GUEST = 0x23000000


def generated(tmp_path: Path, describe, entry) -> fdt.FDT:
    def give(doc):
        doc["domains"][0]["passthrough"] = [entry]

    plan = build(describe(give), tmp_path / "out")
    blob = plan.domains["rtos"].device_tree
    assert blob is not None and blob.file == "rtos-passthrough.dtb"
    return fdt.parse_dtb((tmp_path / "out" / blob.file).read_bytes())


def words(tree: fdt.FDT, path: str, name: str) -> list[int]:
    return list(tree.get_property(name, path).data)


def test_partial_tree_is_generated_from_the_host_node(tmp_path, describe):
    tree = generated(tmp_path, describe, {"path": GPIO, "guest_address": GUEST})
    assert words(tree, "/gic", "phandle") == [1]  # far below GUEST_PHANDLE_GIC (Xen 4.22)
    assert tree.get_property("compatible", "/passthrough").value == "simple-bus"
    node = f"/passthrough/pl061@{GUEST:x}"
    assert words(tree, node, "xen,reg") == [0, 0x9030000, 0, 0x1000, 0, GUEST]
    assert words(tree, node, "reg") == [0, GUEST, 0, 0x1000]
    assert tree.get_property("xen,path", node).value == GPIO
    assert tree.exist_property("xen,force-assign-without-iommu", node)
    assert words(tree, node, "interrupt-parent") == [1]
    assert words(tree, node, "interrupts") == [0, 7, 4]
    # the PrimeCell's fixed apb_pclk comes along, under a phandle of the guest's tree
    clock = words(tree, node, "clocks")
    assert words(tree, "/passthrough/apb-pclk", "phandle") == clock
    assert not tree.exist_property("phandle", node)


def test_host_address_is_the_default_and_the_host_node_is_marked(tmp_path, describe):
    tree = generated(tmp_path, describe, GPIO)
    assert words(tree, "/passthrough/pl061@9030000", "xen,reg")[-2:] == [0, 0x9030000]
    board = fdt.parse_dtb((tmp_path / "out" / "xen.dtb").read_bytes())
    assert board.exist_property("xen,passthrough", GPIO)
    modules = [n for n in board.get_node("/chosen/rtos").nodes if n.name.startswith("module@")]
    kinds = [n.get_property("compatible").data[0] for n in modules]
    assert kinds == ["multiboot,kernel", "multiboot,device-tree"]


def refused(describe, change) -> list[str]:
    """The problems as file: key: message (their lines depend on the YAML dump's layout)."""
    with pytest.raises(UserError) as caught:
        check(describe(change))
    return [str(p._replace(line=None)) for p in caught.value.problems]


def test_guest_address_must_be_page_aligned(describe):
    def unaligned(doc):
        doc["domains"][0]["passthrough"] = [{"path": GPIO, "guest_address": 0x23000800}]

    assert any("guest_address: must be 4 KiB aligned" in p for p in refused(describe, unaligned))


# -- a partial tree the user wrote ------------------------------------------------------------

GOOD_DEVICE = """
            compatible = "arm,pl061", "arm,primecell";
            reg = <0x0 0x23000000 0x0 0x1000>;
            interrupt-parent = <&gic>;
            interrupts = <0 7 4>;
            xen,reg = <0x0 0x9030000 0x0 0x1000 0x0 0x23000000>;
            xen,path = "/pl061@9030000";
            xen,force-assign-without-iommu;
"""


def partial(device: str) -> str:
    return f"""/dts-v1/;
/ {{
    #address-cells = <2>;
    #size-cells = <2>;
    gic: gic {{ #interrupt-cells = <3>; interrupt-controller; }};
    passthrough {{
        compatible = "simple-bus";
        ranges;
        #address-cells = <2>;
        #size-cells = <2>;
        gpio@23000000 {{ {device} }};
    }};
}};
"""


def given(tmp_path: Path, device: str):
    def change(doc):
        source = tmp_path / "io.dts"
        source.write_text(partial(device))
        doc["domains"][0]["device_tree"] = str(source)
        doc["domains"][0]["passthrough"] = [GPIO]

    return change


def test_a_correct_partial_tree_passes(tmp_path, describe):
    plan = check(describe(given(tmp_path, GOOD_DEVICE)))
    assert plan.domains["rtos"].device_tree.file == "io.dtb"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d.replace('xen,path = "/pl061@9030000";', "").replace("xen,reg", "x-reg"),
            "has reg but no xen,reg and xen,path",
        ),
        (lambda d: d.replace('xen,path = "/pl061@9030000";', ""), "has no xen,path"),
        (lambda d: d.replace("0x9030000 0x0 0x1000", "0x9020000 0x0 0x1000"), "outside the pages"),
        (lambda d: d.replace("0x0 0x1000 0x0 0x23000000>", "0x0 0x800 0x0 0x23000000>"), "aligned"),
        (lambda d: d.replace("<0 7 4>", "<0 9 4>"), "interrupts SPI 9 are not /pl061@9030000's"),
        (lambda d: d.replace("xen,force-assign-without-iommu;", ""), "no IOMMU protecting it"),
        (lambda d: d.replace("/pl061@9030000", "/pl031@9010000"), "is not in this domain's"),
    ],
    ids=["no-xen-reg", "no-xen-path", "outside-reg", "unaligned", "wrong-irq", "no-force", "other"],
)
def test_a_partial_tree_is_checked_like_a_generated_one(tmp_path, describe, edit, expected):
    problems = refused(describe, given(tmp_path, edit(GOOD_DEVICE)))
    assert any(expected in p for p in problems), problems
    assert all("device_tree" in p for p in problems), problems


def test_xen_4_22_refuses_a_partial_tree_with_phandles_near_its_gic(tmp_path, describe):
    """Booted: 4.22 failed 'Device tree generation failed (-75)' on /gic phandle 65000 and a
    clock at 65100, which 4.17 and 4.20 took; dtc's own numbering from 1 boots on all."""
    high = GOOD_DEVICE + "\n    phandle = <64999>;"

    def on(version: str, device: str):
        def change(doc):
            given(tmp_path, device)(doc)
            doc["xen"]["version"] = version

        return change

    problems = refused(describe, on("4.22", high))
    assert problems == [
        f"{tmp_path / 'system.yaml'}: domains[0] (rtos).device_tree: has phandle 64999 but "
        "Xen 4.22 needs every phandle of a partial tree below 64999 (it numbers its own nodes "
        "above the highest, up to GUEST_PHANDLE_GIC 65000, else 'Device tree generation "
        "failed (-75)'): renumber them from 1, as dtc does for labels"
    ]
    assert check(describe(on("4.20", high)))
    assert check(describe(on("4.22", GOOD_DEVICE + "\n    phandle = <64998>;")))


def test_partial_tree_without_passthrough_node_maps_nothing(tmp_path, describe):
    def change(doc):
        source = tmp_path / "empty.dts"
        source.write_text("/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>; };\n")
        doc["domains"][0]["device_tree"] = str(source)
        doc["domains"][0]["passthrough"] = [GPIO]

    assert any("has no /passthrough node" in p for p in refused(describe, change))


def test_generated_tree_passes_the_checks_of_a_given_one(tmp_path, describe):
    """The generator and the checker agree: a generated tree given back is accepted."""
    tree = generated(tmp_path, describe, {"path": GPIO, "guest_address": GUEST})
    source = tmp_path / "back.dtb"
    source.write_bytes(tree.to_dtb(version=17))

    def back(doc):
        doc["domains"][0]["device_tree"] = str(source)
        doc["domains"][0]["passthrough"] = [GPIO]

    assert check(describe(back, name="back.yaml")).domains["rtos"]
    dts = subprocess.run(
        ["dtc", "-I", "dtb", "-O", "dts", str(source)], capture_output=True, text=True, check=True
    )
    assert "xen,force-assign-without-iommu" in dts.stdout
