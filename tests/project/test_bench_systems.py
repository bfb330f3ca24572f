"""The systems the benches time are ones `check` accepts.

bench/generate.py builds them in child processes and stopped at the first refusal, and
bench/boot_time.py's throttled table only after minutes of boots, so a rule that rejects
a bench system went unnoticed until someone ran the bench.
"""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from xen_dom0less.generator import pipeline

from ..conftest import QEMU_DTB, ROOT


def load_bench(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve their annotations there
    spec.loader.exec_module(module)
    return module


BENCH = load_bench("generate")


@pytest.mark.parametrize(("title", "domains", "linux"), BENCH.SYSTEMS)
def test_bench_system_checks(tmp_path: Path, title: str, domains: int, linux: bool) -> None:
    path = BENCH.write_system(tmp_path, domains, linux)
    plan = pipeline.check(path)
    assert len(plan.system.domains) == domains, title


def test_throttled_bench_systems_check(
    tmp_path: Path, inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each system of boot_time's throttled table (ours, with and without compression, the
    FIT signed and not), given the test inputs for its guests."""
    monkeypatch.setattr(sys, "path", [str(ROOT / "bench"), *sys.path])
    bench = load_bench("boot_time")
    kernel_gz = tmp_path / "Image.gz"
    kernel_gz.write_bytes(gzip.compress((inputs / "Image").read_bytes(), mtime=0))
    shared = {
        "xen": inputs / "xen",
        "dtb": QEMU_DTB,
        "rtos": inputs / "rtos.bin",
        "kernel": inputs / "Image",
        "kernel_gz": kernel_gz,
        "initrd": inputs / "initrd.cpio",
        "initrd2": inputs / "initrd.cpio.gz",
        "key": bench.signing_key(tmp_path / "keys" / "bench.key"),
    }
    systems = bench.storage_descriptions(shared)
    compared = {mine for ours in bench.SIDE_BY_SIDE.values() for mine in ours}
    assert compared | bench.SIDE_BY_SIDE.keys() <= dict(systems).keys()
    for index, (name, document) in enumerate(systems):
        path = tmp_path / f"system-{index}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        plan = pipeline.check(path)
        assert len(plan.system.domains) == len(document["domains"]), name
