"""Golden outputs for the shipped examples, built from synthetic inputs.

The device-tree golden is only what dom0less writes into the board's tree: the
/chosen subtree and every host node whose properties it changed (found by
comparing with the board's tree, not by asking the generator). Set
UPDATE_GOLDENS=1 to rewrite them after an intended change, then review the diff
like code.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import fdt
import pytest

from xen_dom0less.generator.pipeline import build

from ..conftest import EXAMPLES, QEMU_DTB, ROOT

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def dts(path: Path) -> str:
    return subprocess.run(
        ["dtc", "-q", "-I", "dtb", "-O", "dts", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def ours(dtb: Path, board: Path) -> str:
    """/chosen of ``dtb`` and, properties only, each other node that differs from ``board``."""
    chosen = fdt.parse_dtb(dtb.read_bytes()).get_node("/chosen")
    return "// /chosen\n" + chosen.to_dts() + changed_host_nodes(dtb, board)


def changed_host_nodes(dtb: Path, board: Path) -> str:
    """Each node outside /chosen whose properties in ``dtb`` differ from ``board``'s."""
    built = fdt.parse_dtb(dtb.read_bytes())
    host = fdt.parse_dtb(board.read_bytes())
    parts = []
    for path, nodes, _props in built.walk():
        for node in nodes:
            where = f"{path.rstrip('/')}/{node.name}"
            if where == "/chosen" or where.startswith("/chosen/"):
                continue
            before = host.get_node(where) if host.exist_node(where) else None
            if before is None or list(before.props) != list(node.props):
                changed = fdt.Node(node.name, *node.props)
                parts.append(f"// {where} (its properties)\n" + changed.to_dts())
    return "".join(parts)


def compare(actual: str, golden: Path) -> None:
    if os.environ.get("UPDATE_GOLDENS"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual)
    assert golden.exists(), f"no golden {golden}: run with UPDATE_GOLDENS=1"
    assert actual == golden.read_text(), f"{golden} differs (UPDATE_GOLDENS=1 to accept)"


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=[e.stem for e in EXAMPLE_FILES])
def test_example_matches_golden(example: Path, inputs: Path, tmp_path: Path):
    out = tmp_path / "out"
    plan = build(example, out)
    golden = GOLDEN / example.stem
    compare((out / "boot.cmd").read_text(), golden / "boot.cmd")
    compare(ours(out / plan.dtb.file, plan.system.host.dtb), golden / "device-tree.dts")
    compare((out / "xen-kconfig.cfg").read_text(), golden / "xen-kconfig.cfg")
    compare((out / "manifest.json").read_text(), golden / "manifest.json")
    manifest = json.loads((out / "manifest.json").read_text())
    for artefact in manifest["artefacts"]:
        assert (out / artefact["file"]).stat().st_size == artefact["size"]


def test_the_device_tree_golden_shows_a_changed_host_node(describe, tmp_path):
    """A host node dom0less edits appears in the golden's form (so a silent edit would)."""

    def disable_uart(document: dict) -> None:
        document["host"]["disable"] = ["/pl011@9000000"]

    plan = build(describe(disable_uart), tmp_path / "out")
    shown = ours(tmp_path / "out" / plan.dtb.file, QEMU_DTB)
    assert "// /pl011@9000000 (its properties)" in shown
    assert 'status = "disabled";' in shown
    assert "// /chosen" in shown and "memory@40000000" not in shown


def test_one_copy_of_qemus_virt_tree_and_no_fixed_seeds():
    """The layer's tree is the examples' one, without QEMU's per-run kaslr/rng seeds."""
    layer = ROOT / "meta-xen-dom0less" / "systems" / "qemuarm64-virt.dtb"
    assert layer.resolve() == QEMU_DTB.resolve()
    chosen = fdt.parse_dtb(QEMU_DTB.read_bytes()).get_node("/chosen")
    assert [p.name for p in chosen.props if p.name.endswith("-seed")] == []
