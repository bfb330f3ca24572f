"""The ImageBuilder config bench/boot_time.py boots beside our build describes the same system.

CI has no ImageBuilder checkout (the bench skips its rows there), but our importer reads
ImageBuilder's configuration: imported back, the config must give each domain the same
kernel, ramdisk, memory and command line in the same order, and Xen the same command line.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

from xen_dom0less.cli import main

from ..conftest import QEMU_DTB, ROOT


def load_bench_module():
    spec = importlib.util.spec_from_file_location("bench_ib", ROOT / "bench" / "imagebuilder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_imported_back_the_config_is_the_benchs_system(tmp_path: Path, inputs: Path):
    bench = load_bench_module()
    linux = {
        "name": "linux",
        "kernel": str(inputs / "Image"),
        "ramdisk": str(inputs / "initrd.cpio"),
        "cmdline": "console=ttyAMA0 quiet",
        "memory": "256M",
    }
    document = {
        "xen": {"image": str(inputs / "xen")},
        "host": {"dtb": str(QEMU_DTB)},
        "domains": [
            {"name": "rtos", "kernel": str(inputs / "rtos.bin"), "memory": "16M"},
            linux,
            dict(linux, name="linux2", ramdisk=str(inputs / "initrd.cpio.gz"), memory="1G"),
        ],
    }
    bootargs = "console=dtuart dtuart=/pl011@9000000 console_timestamps=boot"
    for name in ("xen", "rtos.bin", "Image", "initrd.cpio", "initrd.cpio.gz"):
        (tmp_path / name).symlink_to(inputs / name)
    (tmp_path / QEMU_DTB.name).symlink_to(QEMU_DTB)
    config = tmp_path / "config"
    config.write_text(bench.config(document, bootargs))
    imported = tmp_path / "imported.yaml"
    assert main(["import", "imagebuilder", str(config), "-o", str(imported)]) == 0
    got = yaml.safe_load(imported.read_text())
    assert got["xen"]["bootargs"] == bootargs
    assert got["boot"]["load_region"] == {"address": "0x40000000", "size": "0x80000000"}
    assert Path(got["host"]["dtb"]).name == QEMU_DTB.name
    assert Path(got["xen"]["image"]).name == "xen"
    assert len(got["domains"]) == len(document["domains"])
    for mine, theirs in zip(document["domains"], got["domains"]):
        for key in ("kernel", "ramdisk"):
            assert Path(theirs.get(key, "-")).name == Path(mine.get(key, "-")).name, key
        assert theirs["memory"] in (mine["memory"], f"{bench.mebibytes(mine['memory'])}M")
        assert theirs.get("cmdline", "console=ttyAMA0") == mine.get("cmdline", "console=ttyAMA0")
