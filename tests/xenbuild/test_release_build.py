"""A real release tree, located and built once: the second request is the cached build."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from xen_dom0less.generator.facts.images import ARM64_IMAGE, classify
from xen_dom0less.xenbuild import build_release, locate

from ..conftest import SHARED_XEN_SOURCES as SHARED_SOURCES

pytestmark = pytest.mark.xenbuild


def test_xen_4_22_is_built_once_per_kconfig(tmp_path: Path) -> None:
    fragment = tmp_path / "null.cfg"
    fragment.write_text("CONFIG_EXPERT=y\nCONFIG_UNSUPPORTED=y\nCONFIG_SCHED_NULL=y\n")
    source = locate("4.22", SHARED_SOURCES)
    first = build_release(source, [fragment], progress=lambda line: None)
    assert first.version == "4.22" and classify(first.xen.read_bytes()[:64]) == ARM64_IMAGE
    assert "CONFIG_SCHED_NULL=y" in first.config.read_text()
    built = first.xen.stat().st_mtime_ns
    started = time.monotonic()
    again = build_release(locate("4.22", SHARED_SOURCES), [fragment], progress=print)
    assert time.monotonic() - started < 10
    assert again == first and again.xen.stat().st_mtime_ns == built
    assert not (first.outdir / "build").exists()  # the objects are not kept
