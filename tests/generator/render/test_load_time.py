"""``dom0less plan --storage``: the bytes U-Boot reads before Xen and the time they cost.

The bytes are checked against what `build` writes and the script loads (a file left out or
counted at its estimated size fails), the rates against their units.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xen_dom0less.cli import main
from xen_dom0less.errors import InputFileError
from xen_dom0less.generator import pipeline
from xen_dom0less.generator.facts import storage
from xen_dom0less.generator.place import compression
from xen_dom0less.generator.render import load_time

from ...conftest import kernel_like

MB = 1_000_000


def loaded_by_script(outdir: Path) -> list[str]:
    """boot.scr, then each file boot.cmd loads, as U-Boot would read them."""
    return [
        "boot.scr",
        *re.findall(r"^if load \S+ \S+ \S+ (\S+);", (outdir / "boot.cmd").read_text(), re.M),
    ]


@pytest.mark.parametrize("fit", [False, True])
def test_bytes_before_xen_are_the_files_the_script_loads(describe, tmp_path: Path, fit: bool):
    path = describe(lambda d: d["boot"].update(format="fit") if fit else None)
    outdir = tmp_path / "out"
    pipeline.build(path, outdir)
    plan, files = pipeline.check_and_render(path)
    reads = load_time.reads(plan, files)
    assert [r.file for r in reads] == loaded_by_script(outdir)
    assert [r.size for r in reads] == [(outdir / r.file).stat().st_size for r in reads]
    if fit:
        assert [r.file for r in reads] == ["boot.scr", "boot.itb"]


def rest(plan, copied: int) -> float:
    """The estimate besides reading and decompressing: U-Boot, Xen, and its building each
    domain and copying ``copied`` bytes of kernels and ramdisks into them."""
    domains = len(plan.domains) + (plan.dom0 is not None)
    building = domains * storage.XEN_DOMAIN_S + copied / storage.XEN_COPY_RATE
    return storage.UBOOT_S + storage.XEN_BOOT_S + building


def test_estimate_adds_the_read_time_to_the_measured_rest(describe, inputs: Path):
    plan, files = pipeline.check_and_render(describe())
    total = sum(r.size for r in load_time.reads(plan, files))
    medium = storage.Storage("slow", 1 * MB, "a test rate")
    copied = sum((inputs / name).stat().st_size for name in ("rtos.bin", "Image", "initrd.cpio"))
    expected = total / MB + rest(plan, copied)
    assert load_time.domus_start(plan, files, medium) == pytest.approx(expected)
    text = load_time.table(plan, files, medium)
    assert f"Estimated time from reset to the domUs starting: {expected:.3f} s" in text
    assert f"({total} bytes)" in text


@pytest.mark.parametrize(
    ("value", "rate"),
    [("20MB/s", 20e6), ("18.4MiB/s", 18.4 * 2**20), ("100Mbit/s", 12.5e6), ("1 GB/s", 1e9)],
)
def test_rates(value: str, rate: float):
    assert storage.storage(value).rate == pytest.approx(rate)


@pytest.mark.parametrize("value", ["fast", "0MB/s", "20MB", "-5MB/s"])
def test_a_rate_that_is_none_is_refused_naming_the_classes(value: str):
    with pytest.raises(ValueError, match="give sd, emmc, qspi, tftp or a read rate"):
        storage.storage(value)


def test_every_class_states_its_source():
    for name, medium in storage.STORAGE.items():
        assert medium.name == name and medium.rate > 0 and len(medium.source) > 40


def test_plan_storage_on_the_command_line(describe, capsys):
    path = describe()
    assert main(["plan", str(path), "--storage", "sd"]) == 0
    out = capsys.readouterr().out
    assert "Before Xen starts, U-Boot reads" in out and "on sd at 18.4 MB/s" in out
    assert main(["plan", str(path), "--storage", "fast"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--storage 'fast'" in err[0]


def test_a_gzip_kernel_costs_its_decompression_by_xen(describe, inputs: Path):
    """Fewer bytes to read, but Xen decompresses the kernel before it starts any domain: the
    estimate adds gzip's output size (its trailer) at the measured rate."""
    image = (inputs / "Image").read_bytes()
    (inputs / "Image.gz").write_bytes(gzip.compress(image, mtime=0))
    path = describe(lambda d: d["domains"][1].update(kernel=str(inputs / "Image.gz")))
    plan, files = pipeline.check_and_render(path)
    medium = storage.Storage("slow", 1 * MB, "a test rate")
    total = sum(r.size for r in load_time.reads(plan, files))
    gunzip = len(image) / storage.XEN_GUNZIP_RATE
    copied = len(image) + sum((inputs / n).stat().st_size for n in ("rtos.bin", "initrd.cpio"))
    expected = total / MB + rest(plan, copied) + gunzip
    assert load_time.domus_start(plan, files, medium) == pytest.approx(expected)
    assert f"Xen decompressing gzip kernels     {gunzip:.3f} s" in load_time.table(
        plan, files, medium
    )


def test_a_gzip_kernel_gone_before_the_estimate_is_one_line(describe, inputs: Path):
    """The estimate reads the gzip trailer after the checks: a file gone by then is the
    user's input error, not a traceback."""
    (inputs / "Image.gz").write_bytes(gzip.compress((inputs / "Image").read_bytes(), mtime=0))
    path = describe(lambda d: d["domains"][1].update(kernel=str(inputs / "Image.gz")))
    plan, _ = pipeline.check_and_render(path)
    (inputs / "Image.gz").unlink()
    with pytest.raises(InputFileError, match=r"Image\.gz"):
        load_time.decompressing(plan)


def test_xen_copies_a_shared_kernel_for_each_domain(describe, inputs: Path):
    """Read once, but Xen copies a kernel into every domain that runs it: a second Linux
    domU on the same Image adds no file to read (a longer script and DTB) and one more
    domain's build."""

    def second(doc):
        doc["domains"].append(dict(doc["domains"][1], name="linux2"))

    one, one_files = pipeline.check_and_render(describe())
    two, two_files = pipeline.check_and_render(describe(second, "two.yaml"))
    medium = storage.Storage("slow", 1 * MB, "a test rate")
    one_reads, two_reads = load_time.reads(one, one_files), load_time.reads(two, two_files)
    assert [r.file for r in two_reads] == [r.file for r in one_reads]
    grown = sum(r.size for r in two_reads) - sum(r.size for r in one_reads)
    assert 0 < grown < 4096
    linux = sum((inputs / name).stat().st_size for name in ("Image", "initrd.cpio"))
    added = grown / MB + storage.XEN_DOMAIN_S + linux / storage.XEN_COPY_RATE
    assert load_time.domus_start(two, two_files, medium) == pytest.approx(
        load_time.domus_start(one, one_files, medium) + added
    )
    assert f"Xen building the domains           {load_time.building(two):.3f} s" in (
        load_time.table(two, two_files, medium)
    )


@pytest.mark.parametrize(
    ("signing", "passes"),
    [(None, 1), ({}, 2), ({"uboot_version": "2023.04"}, 1)],
    ids=["unsigned", "images-signed", "configurations-signed"],
)
def test_a_fit_costs_bootm_hashing_its_images(describe, tmp_path: Path, signing, passes):
    """bootm hashes every image of boot.itb before Xen: once, or twice when each image is
    signed too (U-Boot before 2023.04); the script path hashes nothing."""
    if signing is not None and shutil.which("mkimage") is None:
        pytest.skip("signing needs mkimage (u-boot-tools): run `dom0less setup`")
    if signing is not None:
        key = tmp_path / "dev.key"
        pem = subprocess.run(["openssl", "genrsa", "2048"], check=True, capture_output=True)
        key.write_bytes(pem.stdout)
        signing = {**signing, "key": str(key)}

    def fit(doc: dict) -> None:
        doc["boot"]["format"] = "fit"
        if signing is not None:
            doc["boot"]["signing"] = signing

    medium = storage.Storage("slow", 1 * MB, "a test rate")
    assert load_time.checking(pipeline.check_and_render(describe())[0]) == 0
    plan, files = pipeline.check_and_render(describe(fit))
    hashed = sum(b.span if b.role == "dtb" else b.size for b in plan.packed_blobs())
    expected = passes * hashed / storage.UBOOT_FIT_CHECK_RATE
    assert load_time.checking(plan) == pytest.approx(expected)
    assert f"U-Boot checking the FIT's hashes   {expected:.3f} s" in load_time.table(
        plan, files, medium
    )


def test_a_compressed_fit_costs_hashing_its_stored_bytes(describe, inputs):
    """bootm hashes what boot.itb holds: a compressed image's stored bytes, fewer than it
    decompresses to; the decompressing is counted on its own."""

    def compressed_fit(doc: dict) -> None:
        doc["boot"].update(format="fit", compression="gzip")
        image = kernel_like(inputs / "Image-2to1", 3_000_000, 4_000_000)
        doc["domains"][1]["kernel"] = str(image)

    plan = pipeline.check(describe(compressed_fit))
    stored = [b for b in plan.packed_blobs() if b.compression]
    assert len(stored) == 2  # Xen and the kernel
    hashed = sum(b.span if b.role == "dtb" else b.stored_size for b in plan.packed_blobs())
    assert hashed < sum(b.span if b.role == "dtb" else b.size for b in plan.packed_blobs())
    assert load_time.checking(plan) == pytest.approx(hashed / storage.UBOOT_FIT_CHECK_RATE)
    unpacked = sum(b.size / storage.UBOOT_DECOMPRESS_RATE["gzip"] for b in stored)
    assert load_time.uncompressing(plan) == pytest.approx(unpacked)


def compared(out: str) -> dict[str, str]:
    """The block plan --storage prints after its table: each boot.compression's line."""
    block = out[out.index("With each boot.compression") :].splitlines()
    return {line.split()[0]: line for line in block[1:4]} | {"soonest": block[4]}


@pytest.mark.parametrize(
    ("rate", "fmt"), [("1MB/s", "script"), ("100000MB/s", "script"), ("1MB/s", "fit")]
)
def test_plan_storage_gives_each_compression_and_the_soonest(describe, capsys, rate, fmt):
    """Each value's estimate is the description planned with it (its compressed files), the
    soonest is named: on slow storage a compression (the fakes shrink), on one read in no
    time none, as described; a FIT compresses too."""
    path = describe(lambda d: d["boot"].update(format=fmt))
    assert main(["plan", str(path), "--storage", rate]) == 0
    lines = compared(capsys.readouterr().out)
    medium = storage.storage(rate)
    expected = {
        method: load_time.domus_start(*pipeline.check_and_render(path, compression=method), medium)
        for method in ("none", "gzip", "lz4")
    }
    assert len(set(expected.values())) == 3  # each value changes what is read or decompressed
    for method, seconds in expected.items():
        assert lines[method].split()[1] == f"{seconds:.3f}"
    assert lines["none"].endswith("(described)")
    best = min(expected, key=expected.get)
    assert (best == "none") == (rate == "100000MB/s")
    if best == "none":
        assert lines["soonest"] == f"Soonest on {medium.name}: keep boot.compression: none."
    else:
        assert f'(put "compression: {best}" under boot: in the description)' in lines["soonest"]


def test_a_value_that_cannot_be_planned_says_why(describe, capsys, monkeypatch):
    """lz4 missing on the host: its line says so, the others are still compared."""
    monkeypatch.setattr(compression.hosttools, "which", lambda name: None)
    assert main(["plan", str(describe()), "--storage", "1MB/s"]) == 0
    lines = compared(capsys.readouterr().out)
    assert "not estimated:" in lines["lz4"] and "'lz4' is not installed" in lines["lz4"]
    assert "gzip" in lines["soonest"]


def test_uefi_has_no_compression_to_compare(describe, capsys, inputs: Path):
    """Xen's EFI loader reads each file as it is: one line, no value planned again."""
    (inputs / "xen.efi").write_bytes(b"MZ" + bytes(4094))
    path = describe(lambda d: d["boot"].update(format="uefi"))
    assert main(["plan", str(path), "--storage", "sd"]) == 0
    out = capsys.readouterr().out
    assert "boot.format uefi reads the files as they are: no boot.compression to compare." in out
    assert "With each boot.compression" not in out
