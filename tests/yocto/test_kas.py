"""Every kas file loads through kas's own include handler and schema, locks included."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

kas_context = pytest.importorskip("kas.context")
includehandler = pytest.importorskip("kas.includehandler")
configschema = pytest.importorskip("kas.configschema")

REPO = Path(__file__).resolve().parents[2]
KAS = REPO / "kas"
TOP_FILES = sorted(p for p in KAS.glob("*.yml") if not p.name.endswith(".lock.yml"))
ALL_FILES = sorted(KAS.rglob("*.yml"))
COMMIT = re.compile(r"^[0-9a-f]{40}$")


@pytest.fixture(scope="module", autouse=True)
def kas_global_context() -> None:
    kas_context.create_global_context(argparse.Namespace(no_color=True))


def load(path: Path) -> dict:
    handler = includehandler.IncludeHandler([str(path)], use_lock=True)
    config, missing = handler.get_config()
    assert missing == [], f"{path.name}: includes from repositories kas cannot see: {missing}"
    return config, handler


def test_there_are_kas_files() -> None:
    assert {p.name for p in TOP_FILES} >= {
        "zcu102.yml",
        "qemuarm64.yml",
        "raspberrypi4.yml",
        "imx8mp-evk.yml",
        "qemuarm64-dom0.yml",
    }


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(KAS)))
def test_each_file_is_valid_on_its_own(path: Path) -> None:
    # ConfigFile.load checks the schema and the header version range.
    includehandler.ConfigFile.load(str(path), is_lockfile=path.name.endswith(".lock.yml"))


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(KAS)))
def test_current_format_version(path: Path) -> None:
    config = includehandler.ConfigFile.load(str(path)).config
    version = config["header"]["version"]
    if path.name.endswith(".lock.yml"):
        assert version >= 14  # the least version `kas lock` writes
    else:
        assert version == configschema.__file_version__


@pytest.mark.parametrize("path", TOP_FILES, ids=lambda p: p.name)
def test_top_file_merges_and_pins(path: Path) -> None:
    """Pinned once: each layer repository names its branch, and the lock file its commit."""
    config, handler = load(path)
    assert config["distro"], "set distro: explicitly (kas 5 has no default)"
    assert config["machine"]
    assert handler.get_lockfiles(), f"{path.name}: no lock file: run kas lock {path.name}"
    locked = {}
    for lock in handler.get_lockfiles():
        for name, repo in lock.config["overrides"]["repos"].items():
            locked[name] = repo["commit"]
    remote = {name: repo for name, repo in config["repos"].items() if repo and repo.get("url")}
    assert set(locked) == set(remote), f"{path.name}: run kas lock --update {path.name}"
    for name, repo in remote.items():
        assert repo.get("branch"), f"{path.name}: {name} has no branch"
        assert COMMIT.match(locked[name]), f"{path.name}: {name} is locked to {locked[name]}"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(KAS)))
def test_no_commit_is_pinned_by_hand(path: Path) -> None:
    """A commit: beside the lock would be a second pin that `kas lock --update` leaves stale."""
    if path.name.endswith(".lock.yml"):
        return
    repos = includehandler.ConfigFile.load(str(path)).config.get("repos") or {}
    pinned = [name for name, repo in repos.items() if repo and "commit" in repo]
    assert pinned == [], f"{path.name}: drop commit: of {pinned}; the lock file pins them"


@pytest.mark.parametrize("path", TOP_FILES, ids=lambda p: p.name)
def test_image_dependencies_stay_out_of_the_domu_multiconfigs(path: Path) -> None:
    """local.conf is read by every multiconfig: an image's extra dependency names the image."""
    config, _ = load(path)
    for name, text in config.get("local_conf_header", {}).items():
        for line in text.splitlines():
            if line.strip().startswith("EXTRA_IMAGEDEPENDS"):
                assert ":pn-" in line.split("=")[0], f"{path.name} ({name}): {line.strip()}"


def _local_conf(config: dict) -> str:
    return "\n".join(config.get("local_conf_header", {}).values())


@pytest.mark.parametrize("path", TOP_FILES, ids=lambda p: p.name)
def test_a_description_the_file_names_is_in_the_layer(path: Path) -> None:
    config, _ = load(path)
    named = re.findall(
        r'^XEN_DOM0LESS_SYSTEM = "\$\{XEN_DOM0LESS_LAYERDIR\}/(.+)"$', _local_conf(config), re.M
    )
    for system in named:
        assert (REPO / "meta-xen-dom0less" / system).is_file(), f"{path.name}: {system}"


@pytest.mark.parametrize("path", TOP_FILES, ids=lambda p: p.name)
def test_hash_equivalence_is_on_for_every_release(path: Path) -> None:
    """BB_HASHSERVE alone does nothing under OEBasicHash, which scarthgap's oe-core signs
    with when no distro says otherwise (wrynose's default is OEEquivHash)."""
    config, _ = load(path)
    assert config.get("env", {}).get("BB_HASHSERVE"), f"{path.name}: no BB_HASHSERVE"
    handlers = re.findall(r'^\s*BB_SIGNATURE_HANDLER\s*=\s*"([^"]*)"', _local_conf(config), re.M)
    assert handlers[-1:] == ["OEEquivHash"], (
        f'{path.name}: set BB_SIGNATURE_HANDLER = "OEEquivHash" in local.conf'
    )


#: meta-virtualization's LAYERDEPENDS (conf/layer.conf, scarthgap): meta-openembedded's layers.
META_VIRT_NEEDS = {"meta-oe", "meta-python", "meta-networking", "meta-filesystems"}


@pytest.mark.parametrize("path", TOP_FILES, ids=lambda p: p.name)
def test_a_dom0_gets_meta_virtualization_tools_of_its_hypervisor(path: Path) -> None:
    """Xen's tools come from meta-virtualization, with what it depends on, and the
    hypervisor from the same layer: the toolstack must be the hypervisor's release."""
    config, _ = load(path)
    conf = _local_conf(config)
    if "packagegroup-dom0less-dom0" not in conf:
        return
    assert "meta-virtualization" in config["repos"]
    assert set(config["repos"]["meta-openembedded"]["layers"]) >= META_VIRT_NEEDS
    assert re.search(r'^XEN_DOM0LESS_XEN_PROVIDER = "xen"$', conf, re.M)
    assert re.search(r"^DISTRO_FEATURES:append = .*\bvirtualization\b.*\bxen\b", conf, re.M)
