"""Real builds of Debian's Xen source: options kept, products, reproducibility, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xen_dom0less.errors import UserError
from xen_dom0less.generator import pipeline
from xen_dom0less.generator.facts import kconfig
from xen_dom0less.generator.facts.images import ARM64_IMAGE, classify
from xen_dom0less.generator.read import description
from xen_dom0less.xenbuild import (
    BuildResult,
    build_hypervisor,
    check_config,
    description_fragment,
    source,
)

from ..conftest import PARTITIONED, build_partitioned

pytestmark = pytest.mark.xenbuild

FEATURES = ("UNSUPPORTED", "STATIC_MEMORY", "BOOT_TIME_CPUPOOLS", "STATIC_SHM", "SCHED_NULL")


def test_the_description_options_are_in_the_resolved_config(partitioned_build: BuildResult) -> None:
    config = kconfig.read(partitioned_build.config)
    assert {option: config.get(option) for option in FEATURES} == dict.fromkeys(FEATURES, "y")
    assert set(FEATURES) <= set(partitioned_build.settings)
    assert partitioned_build.version == "4.20"


def test_products_are_collected(partitioned_build: BuildResult) -> None:
    assert classify(partitioned_build.xen.read_bytes()[:64]) == ARM64_IMAGE
    assert partitioned_build.xen_syms.read_bytes()[:4] == b"\x7fELF"
    assert "CONFIG_STATIC_SHM=y" in partitioned_build.fragment.read_text()
    assert "  LD      " in partitioned_build.log.read_text()


def test_same_source_config_and_epoch_give_an_identical_xen(
    partitioned_build: BuildResult,
    xen_source: Path,
    build_environ: dict[str, str],
    tmp_path: Path,
) -> None:
    """The cached build and a fresh one elsewhere, from the same tree: the same bytes."""
    again = build_partitioned(xen_source, tmp_path / "again", build_environ)
    assert again.xen.read_bytes() == partitioned_build.xen.read_bytes()


def test_the_scheduler_needs_expert_and_the_message_says_so(
    debian_xen_source: Path, build_environ: dict[str, str], tmp_path: Path
) -> None:
    """Xen 4.17 shows the scheduler options only with EXPERT ('visible if EXPERT'); from
    4.19 DOM0LESS_BOOT asks for EXPERT itself, so the example on 4.20 keeps SCHED_NULL."""
    on_417 = variant(tmp_path, lambda doc: doc["xen"].update(version="4.17"))
    with pytest.raises(UserError) as raised:
        build_hypervisor(
            debian_xen_source,
            tmp_path / "out",
            description=on_417,
            environ=build_environ,
            progress=lambda line: None,
        )
    assert any(
        problem.startswith(
            "CONFIG_SCHED_NULL=y (asked for by cpupool 'rt' scheduler null) was not kept"
        )
        and "CONFIG_EXPERT=y" in problem
        for problem in raised.value.lines
    )


def test_a_dropped_option_names_the_dependency(xen_source: Path, tmp_path: Path) -> None:
    fragment = tmp_path / "shm.cfg"
    fragment.write_text("CONFIG_STATIC_SHM=y\n")
    with pytest.raises(UserError) as raised:
        build_hypervisor(
            xen_source, tmp_path / "out", fragments=[fragment], progress=lambda line: None
        )
    assert raised.value.lines == [
        f"CONFIG_STATIC_SHM=y (asked for by {fragment}:1) was not kept: Kconfig made it n "
        "because its dependencies are not met: add CONFIG_UNSUPPORTED=y, "
        "CONFIG_STATIC_MEMORY=y to a config fragment"
    ]


def test_a_config_written_elsewhere_is_checked_against_the_description(
    xen_source: Path, tmp_path: Path, build_environ: dict[str, str]
) -> None:
    """Yocto's do_configure merges the description's fragment; menuconfig may undo it."""
    fragment = description_fragment(xen_source, PARTITIONED, build_environ)
    assert "\nCONFIG_BOOT_TIME_CPUPOOLS=y\n" in fragment
    assert fragment.startswith("# ")  # each setting under the reason it is needed
    config = tmp_path / ".config"
    config.write_text("CONFIG_ARM=y\n# CONFIG_BOOT_TIME_CPUPOOLS is not set\n")
    with pytest.raises(UserError) as raised:
        check_config(xen_source, config, description=PARTITIONED, environ=build_environ)
    assert any(
        problem.startswith("CONFIG_BOOT_TIME_CPUPOOLS=y (asked for by")
        for problem in raised.value.lines
    )
    config.write_text(fragment)
    check_config(xen_source, config, description=PARTITIONED, environ=build_environ)


def test_a_configured_build_needs_a_config(xen_source: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"\.config.*configure the build directory first"):
        build_hypervisor(
            xen_source, tmp_path / "out", build_dir=tmp_path / "empty", configured=True
        )


def test_a_description_for_another_release_is_refused(
    xen_source: Path, tmp_path: Path, build_environ: dict[str, str]
) -> None:
    other = variant(tmp_path, lambda doc: doc["xen"].update(version="4.19"))
    with pytest.raises(UserError, match=r"xen\.version is 4\.19 but the source is Xen 4\.20"):
        build_hypervisor(xen_source, tmp_path / "out", description=other, environ=build_environ)
    assert source.version(xen_source) == "4.20"


def variant(tmp_path: Path, change) -> Path:
    """The partitioned example, changed, written where its relative paths still work."""
    document = yaml.safe_load(PARTITIONED.read_text())
    document["host"]["dtb"] = str(PARTITIONED.parent / document["host"]["dtb"])
    change(document)
    path = tmp_path / "system.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_planner_accepts_the_built_config_and_refuses_a_feature_it_lacks(
    partitioned_build: BuildResult, build_environ: dict[str, str], tmp_path: Path
) -> None:
    def with_config(doc: dict) -> None:
        doc["xen"]["config"] = str(partitioned_build.config)

    def needing_rtds(doc: dict) -> None:
        with_config(doc)
        doc["cpupools"][0]["scheduler"] = "rtds"

    accepted = description.load(variant(tmp_path, with_config), build_environ)
    assert pipeline.check_inputs(accepted).kconfig
    refused = description.load(variant(tmp_path, needing_rtds), build_environ)
    with pytest.raises(UserError, match=r"CONFIG_SCHED_RTDS is not enabled in \.config"):
        pipeline.check_inputs(refused)
