"""Golden outputs for the shipped examples, built from synthetic inputs.

Set UPDATE_GOLDENS=1 to rewrite them after an intended change, then review
the diff like code.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from xen_dom0less.generator.pipeline import build

from ..conftest import EXAMPLES

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def dts(path: Path) -> str:
    return subprocess.run(
        ["dtc", "-q", "-I", "dtb", "-O", "dts", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


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
    compare(dts(out / plan.dtb.file), golden / "device-tree.dts")
    compare((out / "xen-kconfig.cfg").read_text(), golden / "xen-kconfig.cfg")
    manifest = json.loads((out / "manifest.json").read_text())
    for artefact in manifest["artefacts"]:
        assert (out / artefact["file"]).stat().st_size == artefact["size"]
