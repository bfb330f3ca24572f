"""One real hypervisor build per test session, shared by the slow ``xenbuild`` tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xen_dom0less.xenbuild import BuildResult, build_hypervisor, debian

from ..conftest import EXAMPLES, write_inputs

#: Needs STATIC_MEMORY, BOOT_TIME_CPUPOOLS, STATIC_SHM and SCHED_NULL (all + UNSUPPORTED).
PARTITIONED = EXAMPLES / "qemu-partitioned.yaml"
EPOCH = "1700000000"
#: Xen 4.17 shows the scheduler options only with EXPERT ('visible if EXPERT').
EXPERT = "CONFIG_EXPERT=y\n"


@pytest.fixture(scope="session")
def xen_source() -> Path:
    """Debian's Xen source for this machine's suite, fetched and extracted once."""
    return debian.fetch()


@pytest.fixture(scope="session")
def build_environ(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    inputs = write_inputs(tmp_path_factory.mktemp("inputs"))
    return {**os.environ, "DOM0LESS_INPUTS": str(inputs), "SOURCE_DATE_EPOCH": EPOCH}


@pytest.fixture(scope="session")
def expert_fragment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fragments") / "expert.cfg"
    path.write_text(EXPERT)
    return path


def build_partitioned(source: Path, outdir: Path, environ: dict[str, str],
                      fragment: Path) -> BuildResult:
    return build_hypervisor(source, outdir, description=PARTITIONED, fragments=[fragment],
                            environ=environ, progress=lambda line: None)


@pytest.fixture(scope="session")
def partitioned_build(xen_source: Path, build_environ: dict[str, str], expert_fragment: Path,
                      tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build_partitioned(xen_source, tmp_path_factory.mktemp("partitioned"), build_environ,
                             expert_fragment)
