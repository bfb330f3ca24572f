"""Our newc writer must produce archives GNU cpio reads back exactly, deterministically."""

from __future__ import annotations

import subprocess

from xen_dom0less_harness import tools
from xen_dom0less_harness.guests import initramfs


def _archive(tmp_path, marker="hello initramfs"):
    busybox = tmp_path / "busybox"
    busybox.write_bytes(b"\x7fELF fake busybox")
    return initramfs.write(marker, busybox, tmp_path / "initrd.cpio")


def test_cpio_lists_every_member_with_root_owner(tmp_path):
    archive = _archive(tmp_path)
    listing = subprocess.run(
        [tools.tool("cpio"), "-itv", "--quiet", "-F", str(archive)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    names = [line.split()[-1] if "->" not in line else line.split()[-3] for line in listing]
    assert names == ["bin", "dev", "proc", "sys", "dev/console", "bin/busybox", "bin/sh", "init"]
    assert all(line.split()[2:4] == ["root", "root"] for line in listing)
    console = next(line for line in listing if line.endswith("dev/console"))
    assert console.startswith("crw-------") and "5," in console


def test_extracted_init_prints_marker(tmp_path):
    archive = _archive(tmp_path, "marker 42")
    into = tmp_path / "x"
    into.mkdir()
    subprocess.run(
        [
            tools.tool("cpio"),
            "-id",
            "--quiet",
            "--no-absolute-filenames",
            "-F",
            str(archive),
            "bin/busybox",
            "init",
            "bin/sh",
        ],
        cwd=into,
        check=True,
    )
    assert "echo 'marker 42'" in (into / "init").read_text()
    assert (into / "bin/busybox").read_bytes() == b"\x7fELF fake busybox"
    assert (into / "bin/sh").is_symlink()


def test_deterministic(tmp_path):
    assert _archive(tmp_path).read_bytes() == _archive(tmp_path).read_bytes()
