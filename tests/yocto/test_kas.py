"""Every kas file loads through kas's own include handler and schema, locks included."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

kas_context = pytest.importorskip("kas.context")
includehandler = pytest.importorskip("kas.includehandler")
configschema = pytest.importorskip("kas.configschema")

KAS = Path(__file__).resolve().parents[2] / "kas"
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
    assert {p.name for p in TOP_FILES} >= {"zcu102.yml", "qemuarm64.yml"}


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
    config, handler = load(path)
    assert config["distro"], "set distro: explicitly (kas 5 has no default)"
    assert config["machine"]
    assert handler.get_lockfiles(), f"{path.name}: no lock file next to it"
    for name, repo in config["repos"].items():
        if not repo or not repo.get("url"):
            continue  # this repository
        assert repo.get("branch"), f"{path.name}: {name} has no branch"
        assert COMMIT.match(repo.get("commit", "")), f"{path.name}: {name} is not pinned"


@pytest.mark.parametrize("path", TOP_FILES, ids=lambda p: p.name)
def test_lock_file_agrees_with_the_pins(path: Path) -> None:
    _, handler = load(path)
    pinned = {}
    for config_file in handler.config_files:
        if not config_file.is_lockfile:
            for name, repo in (config_file.config.get("repos") or {}).items():
                if repo and repo.get("commit"):
                    pinned[name] = repo["commit"]
    locked = {}
    for lock in handler.get_lockfiles():
        for name, repo in lock.config["overrides"]["repos"].items():
            locked[name] = repo["commit"]
    assert locked == pinned


@pytest.mark.parametrize("path", TOP_FILES, ids=lambda p: p.name)
def test_image_dependencies_stay_out_of_the_domu_multiconfigs(path: Path) -> None:
    """local.conf is read by every multiconfig: an image's extra dependency names the image."""
    config, _ = load(path)
    for name, text in config.get("local_conf_header", {}).items():
        for line in text.splitlines():
            if line.strip().startswith("EXTRA_IMAGEDEPENDS"):
                assert ":pn-" in line.split("=")[0], f"{path.name} ({name}): {line.strip()}"
