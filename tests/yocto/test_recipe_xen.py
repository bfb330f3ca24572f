"""The layer's Xen recipe builds what the boot tests booted: the same release and Kconfig.

The boot tests build Xen 4.22 from the project's release tarball (a ``git archive`` of
RELEASE-4.22.0) through xenbuild, which writes the settings asked for into Xen's defconfig;
the recipe fetches the release from Xen's git and merges the same settings, as a fragment,
with Xen's own merge_config.sh. Each test fails when one side moves without the other.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("bb")
from layer_parse import LAYER, parse_recipe, write_stubs

from tests.conftest import SHARED_XEN_SOURCES
from xen_dom0less.generator.facts import kconfig
from xen_dom0less.xenbuild import ReleaseSource, locate, wishes

RECIPE = next(LAYER.glob("recipes-extended/xen/xen-hypervisor-dom0less_*.bb"))
#: Settings of every kind a description's fragment (or a BSP's .cfg) holds: on, off, a value.
WANTED = {
    "EXPERT": wishes.Wish("y", "a feature's dependency"),
    "STATIC_MEMORY": wishes.Wish("y", "domains[0].static_memory"),
    "DEBUG": wishes.Wish("n", "bsp.cfg:1"),
    "NR_CPUS": wishes.Wish("16", "bsp.cfg:2"),
}


@pytest.fixture(scope="module")
def release() -> ReleaseSource:
    """The Xen release the recipe builds, as the boot tests take it."""
    major, minor, _ = RECIPE.stem.rsplit("_", 1)[1].split(".")
    return locate(f"{major}.{minor}", SHARED_XEN_SOURCES)


def test_the_recipe_fetches_the_commit_the_boot_tests_build(tmp_path: Path, release):
    """SRCREV is the commit the tarball was archived from (its .gitarchive-info), on the
    release's stable branch, and the licence checksum is of that tree's COPYING."""
    d = parse_recipe(write_stubs(tmp_path / "stubs"), tmp_path, RECIPE)
    info = (release.root / ".gitarchive-info").read_text()
    assert d.getVar("SRCREV") == re.search(r"^Changeset: ([0-9a-f]{40})$", info, re.M)[1]
    assert f"branch=stable-{release.version};" in d.getVar("SRC_URI")
    assert d.getVar("PV").startswith(f"{release.version}.")
    fragments = re.findall(r"file://([^;\s]+\.cfg)", d.getVar("SRC_URI"))
    beside = sorted(p.name for p in RECIPE.parent.rglob("*.cfg"))
    assert sorted(fragments) == beside  # what the boot test (e2e/test_layer_xen.py) merges
    copying = hashlib.md5((release.root / "COPYING").read_bytes()).hexdigest()
    assert d.getVar("LIC_FILES_CHKSUM") == f"file://COPYING;md5={copying}"


def test_merge_config_gives_the_config_xenbuild_writes(tmp_path: Path, release):
    """The recipe's do_configure (merge_config.sh of the description's fragment and the
    .cfg files) and xenbuild's configure (each setting written into .config) start
    olddefconfig from the same settings."""
    defconfig = (release.root / "xen" / "arch" / "arm" / "configs" / "arm64_defconfig").read_text()
    base = tmp_path / ".config"
    base.write_text(defconfig + "CONFIG_NR_CPUS=128\n# CONFIG_STATIC_MEMORY is not set\n")
    fragment = tmp_path / "dom0less-description.cfg"
    fragment.write_text(wishes.fragment(WANTED))
    merge = release.root / "xen" / "tools" / "kconfig" / "merge_config.sh"
    assert f"{merge.relative_to(release.root)} -m -O ${{B}} ${{B}}/.config" in RECIPE.read_text()
    (tmp_path / "out").mkdir()
    subprocess.run(
        ["bash", str(merge), "-m", "-O", str(tmp_path / "out"), str(base), str(fragment)],
        check=True,
        capture_output=True,
    )
    by_recipe = kconfig.read(tmp_path / "out" / ".config")
    expected = tmp_path / "xenbuild.config"
    expected.write_text(wishes.merge(base.read_text(), WANTED))
    assert by_recipe == kconfig.read(expected)
    assert {o: by_recipe.get(o, "n") for o in WANTED} == {o: w.value for o, w in WANTED.items()}
