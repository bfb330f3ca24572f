"""manifest.json has one description (xen_dom0less.manifest) that its writer and readers share."""

from __future__ import annotations

import json

import pytest

from xen_dom0less import manifest
from xen_dom0less.errors import UserError
from xen_dom0less.manifest import (
    Artefact,
    Boot,
    Fit,
    Host,
    Isolation,
    Manifest,
    Reachable,
    Script,
)

from ..conftest import ROOT

GOLDENS = sorted((ROOT / "tests" / "golden").glob("*/manifest.json"))

FIT_BUILD = Manifest(
    description="board.yaml",
    xen_version="4.22",
    xen_bootargs="console=dtuart",
    host=Host(cpus=4, gic=3, memory=1 << 31),
    domains=("linux",),
    dom0=False,
    boot=Boot("tftp", "bootm", "patched", "fit", Script("boot.scr", 0x40200000)),
    fit=Fit("boot.itb", "config-1", "dev", "u-boot.dtb"),
    kconfig=(),
    artefacts=(
        Artefact("boot.itb", "fit", 0x41000000, 4096, "ab" * 32, ("u-boot",)),
        Artefact("Image", "kernel", 0x42000000, 2048, "cd" * 32, ("linux",), packed_in="boot.itb"),
    ),
    isolation=Isolation(
        (
            Reachable("xen", 0x9000000, 0x1000, "console UART", "/pl011@9000000"),
            Reachable("linux", 0x7FE00000, 0x200000, "shared memory", "ring", ("rtos",)),
        ),
        ("domains[0] (linux).passthrough[0]: /fw-cfg@9020000 can do DMA",),
    ),
)


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda p: p.parent.name)
def test_a_golden_manifest_reads_back_to_the_same_bytes(golden, tmp_path):
    """What the renderer wrote, read through the record and written again, is unchanged:
    no field is dropped, renamed or reordered on the way."""
    assert GOLDENS
    (tmp_path / "manifest.json").write_bytes(golden.read_bytes())
    assert manifest.read(tmp_path).dumps() == golden.read_bytes()


def test_a_fit_build_with_packed_artefacts_reads_back_equal(tmp_path):
    (tmp_path / "manifest.json").write_bytes(FIT_BUILD.dumps())
    assert manifest.read(tmp_path) == FIT_BUILD
    written = json.loads(FIT_BUILD.dumps())
    assert written["format"] == manifest.VERSION
    assert written["artefacts"][1]["in"] == "boot.itb" and "in" not in written["artefacts"][0]
    assert written["artefacts"][1]["address"] == "0x42000000"
    assert written["isolation"]["reach"][1] == {
        "party": "linux",
        "address": "0x7fe00000",
        "size": 0x200000,
        "how": "shared memory",
        "source": "ring",
        "shared_with": ["rtos"],
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(format=1), "has format 1, this dom0less reads format 2"),
        (lambda d: d.pop("boot"), "is not a manifest dom0less build wrote ('boot')"),
        (
            lambda d: d["artefacts"][0].update(address=0x40000000),
            "is not a manifest dom0less build wrote (1073741824 is not a str)",
        ),
        (
            lambda d: d["host"].update(cpus=True),
            "is not a manifest dom0less build wrote (True is not an int)",
        ),
        (lambda d: d.update(domains="guest"), "('guest' is not a list)"),
    ],
)
def test_a_manifest_of_another_shape_is_refused_as_one_line(tmp_path, change, expected):
    document = json.loads(FIT_BUILD.dumps())
    change(document)
    (tmp_path / "manifest.json").write_text(json.dumps(document))
    with pytest.raises(UserError) as caught:
        manifest.read(tmp_path)
    assert len(caught.value.lines) == 1 and expected in caught.value.lines[0]


def test_a_directory_without_a_manifest_is_refused_saying_how_to_make_one(tmp_path):
    with pytest.raises(UserError) as caught:
        manifest.read(tmp_path)
    assert "has no manifest.json: run `dom0less build" in str(caught.value)
