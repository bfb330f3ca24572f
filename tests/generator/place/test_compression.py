"""boot.compression: which files are stored compressed, where U-Boot stages them, and the
script that decompresses each into place (booted for real in tests/e2e/test_compression.py)."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest

from xen_dom0less.cli import main
from xen_dom0less.generator import pipeline
from xen_dom0less.generator.facts import storage
from xen_dom0less.generator.place import compression
from xen_dom0less.generator.render import load_time, memory_map

METHODS = ("gzip", "lz4")


def compressed_by(method: str):
    return lambda document: document["boot"].update(compression=method)


def decompress(path: Path, method: str) -> bytes:
    if method == "gzip":
        return gzip.decompress(path.read_bytes())
    return subprocess.run(["lz4", "-d", "-c", str(path)], capture_output=True, check=True).stdout


@pytest.mark.parametrize("method", METHODS)
def test_xen_and_the_image_stored_compressed_and_decompressed_are_the_inputs(
    describe, inputs: Path, tmp_path: Path, method: str
):
    outdir = tmp_path / "out"
    pipeline.build(describe(compressed_by(method)), outdir)
    suffix = compression.SUFFIX[method]
    artefacts = {
        a["file"]: a for a in json.loads((outdir / "manifest.json").read_text())["artefacts"]
    }
    for name in ("xen", "Image"):
        stored = outdir / (name + suffix)
        assert decompress(stored, method) == (inputs / name).read_bytes()
        assert not (outdir / name).exists()
        listed = artefacts[stored.name]
        assert listed["compression"] == method
        assert listed["size"] == (inputs / name).stat().st_size  # in RAM, decompressed
    # too small to gain (under MIN_SAVING): stored as they are, listed without compression
    for name in ("rtos.bin", "initrd.cpio"):
        assert (outdir / name).read_bytes() == (inputs / name).read_bytes()
        assert "compression" not in artefacts[name]


@pytest.mark.parametrize("method", METHODS)
def test_the_same_inputs_give_the_same_bytes(describe, tmp_path: Path, method: str):
    path = describe(compressed_by(method))
    first, second = tmp_path / "a", tmp_path / "b"
    pipeline.build(path, first)
    pipeline.build(path, second)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)


@pytest.mark.parametrize("method", METHODS)
def test_each_compressed_file_is_staged_clear_of_everything_and_decompressed_in_place(
    describe, method: str
):
    plan, files = pipeline.check_and_render(describe(compressed_by(method)))
    staged = [b for b in plan.blobs if b.compression]
    assert {b.role for b in staged} == {"xen", "kernel"}
    staging = plan.staging
    assert staging is not None and staging not in plan.blobs
    assert staging.span == max(len(b.data) for b in staged)
    assert not any(staging.region.overlaps(b.region) for b in plan.blobs)
    assert not any(staging.region.overlaps(e.region) for e in plan.excluded)
    staged_row = f"0x{staging.address:08x}  0x{staging.region.end:08x}  (staging)"
    assert staged_row in memory_map.tables(plan)
    script = files["boot.cmd"].decode()
    command = {"gzip": "unzip", "lz4": "unlz4"}[method]
    for blob in staged:
        assert f"0x{staging.address:x} {blob.file};" in script
        decompressing = (
            f"if {command} 0x{staging.address:x} 0x{blob.address:x} 0x{blob.size:x} "
            f'&& test "${{filesize}}" = "{blob.size:x}"; then'
        )
        line = next(line for line in script.splitlines() if line.startswith(decompressing))
        assert "dom0less: ERROR: cannot decompress" in line
        assert line.endswith("setenv dom0less_error 1; exit; fi")
        # loaded into the staging area just before: each file in turn reuses it
        lines = script.splitlines()
        loading = lines[lines.index(line) - 1]
        assert loading.startswith(f"if load virtio 0:1 0x{staging.address:x} {blob.file};")
        assert '; else echo "dom0less: ERROR: cannot load' in loading


def test_without_compression_nothing_is_staged(describe):
    plan, files = pipeline.check_and_render(describe())
    assert plan.staging is None and not any(b.compression for b in plan.blobs)
    assert b"unlz4" not in files["boot.cmd"] and b"unzip" not in files["boot.cmd"]


def test_files_already_compressed_are_left_as_they_are(describe, inputs: Path):
    kernel = inputs / "Image.gz"
    kernel.write_bytes(gzip.compress((inputs / "Image").read_bytes(), mtime=0))

    def change(document):
        document["boot"]["compression"] = "lz4"
        document["domains"][1].update(kernel=str(kernel), ramdisk=str(inputs / "initrd.cpio.gz"))

    plan, _ = pipeline.check_and_render(describe(change))
    assert [b.role for b in plan.blobs if b.compression] == ["xen"]


@pytest.mark.parametrize(
    ("size", "stored", "method", "worth"),
    [
        # Debian's 6.1 arm64 Image and the bench's busybox initramfs, as measured
        (32956352, 13643465, "lz4", True),
        (32956352, 11237279, "gzip", True),
        (1847708, 1130024, "lz4", False),  # 39.0 ms less reading, 39.4 ms decompressing
        (1847708, 989103, "gzip", True),
        (100 * 1024, 10 * 1024, "gzip", True),
        (100 * 1024, 40 * 1024, "gzip", False),  # 60 KiB saved: under MIN_SAVING
    ],
)
def test_a_file_is_compressed_when_that_gains_time_on_sd(size, stored, method, worth):
    assert compression.worthwhile(size, stored, method) is worth


def test_the_uefi_format_refuses_it_in_one_line(describe, capsys):
    """Xen's EFI loader reads each file itself and decompresses none (the FIT format
    decompresses in bootm: tests/generator/render/test_fit.py)."""

    def change(document):
        document["boot"].update(format="uefi", compression="lz4")

    assert main(["check", str(describe(change))]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "boot.compression" in line]
    message = "format uefi: Xen's EFI loader reads each file itself and decompresses none"
    assert len(errors) == 1 and message in errors[0]


def test_a_missing_lz4_is_one_line_naming_the_package(describe, capsys, monkeypatch, tmp_path):
    path = describe(compressed_by("lz4"))
    monkeypatch.setattr(compression.hosttools, "which", lambda name: None)
    assert main(["build", str(path), "-o", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "'lz4' is not installed: install lz4 (apt-get install lz4)" in error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("method", METHODS)
def test_plan_reads_the_compressed_bytes_and_adds_decompressing(
    describe, tmp_path: Path, method: str
):
    path = describe(compressed_by(method))
    outdir = tmp_path / "out"
    pipeline.build(path, outdir)
    plan, files = pipeline.check_and_render(path)
    reads = load_time.reads(plan, files)
    assert [r.size for r in reads] == [(outdir / r.file).stat().st_size for r in reads]
    plain, plain_files = pipeline.check_and_render(describe())
    medium = storage.STORAGE["sd"]
    rate = storage.UBOOT_DECOMPRESS_RATE[method]
    decompressing = sum(b.size for b in plan.blobs if b.compression) / rate
    read_less = sum(r.size for r in load_time.reads(plain, plain_files)) - sum(
        r.size for r in reads
    )
    expected = load_time.domus_start(plain, plain_files, medium) - read_less / medium.rate
    assert load_time.domus_start(plan, files, medium) == pytest.approx(expected + decompressing)
    assert "U-Boot decompressing the files" in load_time.table(plan, files, medium)


def test_no_room_to_stage_is_one_line_naming_the_key(describe, capsys):
    """The modules fit the load region, the staging area for their compressed files not."""

    def change(document):
        document["boot"].update(
            compression="gzip", load_region={"address": 0x40000000, "size": "16M"}
        )

    assert main(["check", str(describe(change))]) == 1
    error = capsys.readouterr().err
    assert "boot.compression: no room to load the compressed files (" in error
    assert error.rstrip().endswith("or set boot.compression: none")


def test_a_compressed_name_taken_by_another_input_gets_its_own(describe, inputs, tmp_path):
    """The Image stored as Image.gz beside a gzip initramfs named Image.gz: neither is lost."""
    ramdisk = tmp_path / "elsewhere" / "Image.gz"
    ramdisk.parent.mkdir()
    ramdisk.write_bytes((inputs / "initrd.cpio.gz").read_bytes())

    def change(document):
        document["boot"]["compression"] = "gzip"
        document["domains"][1]["ramdisk"] = str(ramdisk)

    outdir = tmp_path / "out"
    pipeline.build(describe(change), outdir)
    assert (outdir / "Image.gz").read_bytes() == ramdisk.read_bytes()
    assert (
        gzip.decompress((outdir / "linux-Image.gz").read_bytes()) == (inputs / "Image").read_bytes()
    )
