"""Builds kept in the cache by source and Kconfig: a failed one is never kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import cached, release
from xen_dom0less.xenbuild.wishes import Wish

from .test_source import fake_tree


def test_a_failed_build_leaves_its_log_and_nothing_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOM0LESS_CACHE", str(tmp_path / "cache"))
    tree = fake_tree(tmp_path / "xen-4.17.9")  # make knows no 'defconfig' there
    found = release.ReleaseSource("4.17", tree, tree, release.tree_digest(tree))
    with pytest.raises(UserError) as raised:
        cached.build_release(found, progress=lambda line: None)
    builds = tmp_path / "cache" / "xen-builds"
    (log,) = builds.glob("4.17-*.failed.log")
    assert raised.value.lines == [
        "make defconfig failed (exit 2): make: *** No rule to make target 'defconfig'.  Stop.; "
        f"the full log is {log}"
    ]
    assert sorted(p.name for p in builds.iterdir() if not p.name.endswith(".lock")) == [log.name]


def test_the_key_follows_the_source_the_settings_and_the_epoch(tmp_path: Path) -> None:
    tree = fake_tree(tmp_path / "xen")
    one = release.ReleaseSource("4.17", tree, tree, "a" * 64)
    other = release.ReleaseSource("4.17", tree, tree, "b" * 64)
    wanted = {"STATIC_MEMORY": Wish("y", "static memory")}
    because = {"STATIC_MEMORY": Wish("y", "another reason")}
    off = {"STATIC_MEMORY": Wish("n", "a fragment")}
    cross = "aarch64-linux-gnu-"

    def key(source: release.ReleaseSource, settings: dict, epoch: str = "0") -> str:
        return cached.key(source, settings, "arm64", cross, {"SOURCE_DATE_EPOCH": epoch})

    assert key(one, wanted) == key(one, because)  # the reason is not built in
    assert len({key(one, wanted), key(other, wanted), key(one, off), key(one, wanted, "1")}) == 4
