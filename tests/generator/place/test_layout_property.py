"""Property: any description either plans with no overlap inside RAM or fails cleanly: the
script path with or without boot.compression (its staging area a room like the others), and
a FIT whose compressed images bootm decompresses to rooms of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from xen_dom0less.errors import UserError
from xen_dom0less.generator.model import Region
from xen_dom0less.generator.pipeline import check
from xen_dom0less.generator.plan import Blob, Plan

from ...conftest import QEMU_DTB, arm64_image, kernel_like

MiB = 1 << 20
KERNEL_SIZES = (4096, 300_000, 5 * MiB, 40 * MiB)


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("pool")
    (directory / "xen").write_bytes(arm64_image(1_000_000, 2_000_000))
    for index, size in enumerate(KERNEL_SIZES):
        (directory / f"k{index}").write_bytes(arm64_image(size, size * 2, bytes([index + 1])))
    (directory / "initrd").write_bytes(b"070701" + b"0" * 100_000)
    kernel_like(directory / "like", 2 * MiB, 3 * MiB)
    return directory


regions = st.builds(
    lambda start, size: {"address": 0x40000000 + start * MiB, "size": size * MiB},
    st.integers(0, 2100),
    st.integers(1, 300),
)
domains = st.lists(
    st.fixed_dictionaries(
        {
            "kernel": st.integers(0, len(KERNEL_SIZES) - 1),
            "memory": st.integers(1, 700),
            "ramdisk": st.booleans(),
            "static": st.one_of(st.none(), regions),
        }
    ),
    min_size=1,
    max_size=10,
)
systems = st.fixed_dictionaries(
    {
        "domains": domains,
        "align": st.sampled_from(["4K", "64K", "2M", "32M"]),
        "load_region": st.one_of(st.none(), regions),
        "script": st.one_of(st.none(), st.integers(0, 2047).map(lambda m: 0x40000000 + m * MiB)),
        "reserve": st.sampled_from(["0", "16M", "64M", "512M"]),
    }
)


def document(pool: Path, case: dict) -> dict:
    doms = []
    for index, item in enumerate(case["domains"]):
        entry = {
            "name": f"d{index}",
            "kernel": str(pool / f"k{item['kernel']}"),
            "memory": f"{item['memory']}M",
        }
        if item["ramdisk"]:
            entry["ramdisk"] = str(pool / "initrd")
        if item["static"]:
            entry["static_memory"] = [item["static"]]
            entry["memory"] = item["static"]["size"]
        doms.append(entry)
    boot: dict = {"align": case["align"]}
    if case["load_region"]:
        boot["load_region"] = case["load_region"]
    if case["script"] is not None:
        boot["script_address"] = case["script"]
    return {
        "version": 1,
        "xen": {"image": str(pool / "xen"), "version": "4.17"},
        "host": {"dtb": str(QEMU_DTB), "uboot_reserve": case["reserve"]},
        "boot": boot,
        "domains": doms,
    }


def planned(path: Path) -> Optional[Plan]:
    """check's plan of ``path``, or None when it refused it in lines naming the file."""
    try:
        plan = check(path)
    except UserError as error:
        event("refused")
        assert error.lines and all(p.startswith(str(path)) for p in error.lines)
        return None
    event("planned")
    return plan


def assert_apart(plan: Plan, rooms: list[Region]) -> None:
    """Each room inside a RAM bank, clear of every other and of what must be left alone."""
    banks = plan.host.memory_banks
    for index, region in enumerate(rooms):
        assert any(b.address <= region.address and region.end <= b.end for b in banks)
        for other in rooms[index + 1 :]:
            assert not region.overlaps(other), (region, other)
        for excluded in plan.excluded:
            assert not region.overlaps(excluded.region), (region, excluded)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(systems)
def test_plans_without_overlap_or_fails_cleanly(pool, tmp_path, case):
    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(document(pool, case)))
    plan = planned(path)
    if plan is None:
        return
    assert plan.staging is None
    assert_apart(plan, [b.region for b in plan.blobs])
    assert_in_load_region(plan.blobs, case)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(systems)
def test_a_compressed_script_path_plans_without_overlap_or_fails_cleanly(pool, tmp_path, case):
    """With boot.compression U-Boot loads each compressed file into one staging area and
    decompresses it from there into its blob's room: the staging area, as large as the
    largest compressed file, is a room like the others."""
    document_ = document(pool, case)
    document_["boot"]["compression"] = "gzip"
    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(document_))
    plan = planned(path)
    if plan is None:
        return
    compressed = [b for b in plan.blobs if b.compression]
    assert plan.xen in compressed and plan.staging is not None
    assert plan.staging.span == max(b.stored_size for b in compressed)
    loaded = [*plan.blobs, plan.staging]
    assert_apart(plan, [b.region for b in loaded])
    assert_in_load_region(loaded, case)


def assert_in_load_region(loaded: list[Blob], case: dict) -> None:
    """Everything loaded (but a script at its fixed address) inside boot.load_region."""
    narrowed = case["load_region"]
    if not narrowed:
        return
    for blob in loaded:
        if blob.role == "script" and case["script"] is not None:
            continue
        assert narrowed["address"] <= blob.address
        assert blob.region.end <= narrowed["address"] + narrowed["size"]


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(systems)
def test_a_compressed_fit_plans_without_overlap_or_fails_cleanly(pool, tmp_path, case):
    """boot.itb stays where U-Boot loaded it until Xen starts (the DTB and the images
    stored as they are used in it), and bootm decompresses Xen and the kernel that shrinks
    2:1 each to a room of its own: none of those rooms may overlap another, the script, or
    what must be left alone."""
    document_ = document(pool, case)
    document_["boot"].update(format="fit", compression="gzip")
    document_["domains"][0]["kernel"] = str(pool / "like")
    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(document_))
    plan = planned(path)
    if plan is None:
        return
    assert plan.fit is not None and plan.xen.compression == "gzip"
    assert plan.domains["d0"].kernel.compression == "gzip"
    assert_apart(plan, [b.region for b in plan.blobs if not plan.packed(b) or b.compression])
    for blob in plan.packed_blobs():
        if not blob.compression:
            assert (
                plan.fit.address < blob.address and blob.address + blob.size <= plan.fit.region.end
            )
