"""The cross-built toolstack's cache key and sysroot (the build itself: tests/e2e/test_split.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from xen_dom0less_harness import toolstack

from xen_dom0less.xenbuild import ReleaseSource


def release(digest: str) -> ReleaseSource:
    return ReleaseSource("4.22", Path("/src"), Path("/src.tar.xz"), digest)


def test_the_key_is_the_source_and_the_configuration(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(toolstack.hosttools, "run", lambda argv, what: "gcc 12\n")
    assert toolstack.key(release("a")) == toolstack.key(release("a"))
    assert toolstack.key(release("a")) != toolstack.key(release("b"))
    before = toolstack.key(release("a"))
    monkeypatch.setattr(toolstack, "SUBDIRS", (*toolstack.SUBDIRS, "xentop"))
    assert toolstack.key(release("a")) != before


def test_absolute_links_in_the_sysroot_point_into_it(tmp_path: Path):
    lib = tmp_path / "usr" / "lib" / "aarch64-linux-gnu"
    lib.mkdir(parents=True)
    (tmp_path / "lib" / "aarch64-linux-gnu").mkdir(parents=True)
    (tmp_path / "lib" / "aarch64-linux-gnu" / "libz.so.1").write_text("z")
    (lib / "libz.so").symlink_to("/lib/aarch64-linux-gnu/libz.so.1")
    toolstack._relative_links(tmp_path)
    assert os.readlink(lib / "libz.so") == "../../../lib/aarch64-linux-gnu/libz.so.1"
    assert (lib / "libz.so").read_text() == "z"
