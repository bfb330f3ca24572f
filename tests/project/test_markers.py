"""``-m e2e`` boots without compiling Xen; the boots on a purpose-built Xen need asking for;
``-m fast`` leaves out the slow tiers and what is marked slow."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ..conftest import ROOT

pytestmark = pytest.mark.slow  # each test collects tests/e2e in a child pytest

#: Boot tests that need the purpose-built Xen (one marked by hand, one by its fixture).
BUILDS_XEN = ("test_partitioned_example_on_a_purpose_built_xen", "test_borrower_reads_what")


def collected(expression: str, *paths: str) -> str:
    argv = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*argv, "-m", expression, *(paths or ["tests/e2e"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_e2e_alone_leaves_out_the_boots_that_build_xen():
    boots = collected("e2e")
    assert "test_true_dom0less_example" in boots
    assert [name for name in BUILDS_XEN if name in boots] == []


def test_naming_xenbuild_brings_them_back():
    boots = collected("e2e or xenbuild")
    assert [name for name in BUILDS_XEN if name in boots] == list(BUILDS_XEN)
    assert "test_true_dom0less_example" in boots


def test_fast_leaves_out_the_slow_tiers_and_the_slow_marked():
    listed = collected("fast", "tests/packaging", "tests/cli/test_hostile.py", "tests/e2e")
    assert "test_alias_bomb_is_bounded" in listed
    assert "test_huge_kernel_is_streamed_not_read_whole" not in listed  # marked slow
    assert "tests/packaging" not in listed and "tests/e2e" not in listed
