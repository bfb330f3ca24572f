"""The systems bench/generate.py times are ones `check` accepts.

The bench builds them in child processes and stopped at the first refusal, so a
rule that rejects a bench system went unnoticed until someone ran the bench.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from xen_dom0less.generator import pipeline

from ..conftest import ROOT


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = load_bench()


@pytest.mark.parametrize(("title", "domains", "linux"), BENCH.SYSTEMS)
def test_bench_system_checks(tmp_path: Path, title: str, domains: int, linux: bool) -> None:
    path = BENCH.write_system(tmp_path, domains, linux)
    plan = pipeline.check(path)
    assert len(plan.system.domains) == domains, title
