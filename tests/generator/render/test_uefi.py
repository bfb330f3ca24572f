"""The UEFI format: Xen's EFI binary, its xen.cfg, and a DTB whose modules name their files."""

from __future__ import annotations

import os

import fdt
import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.generator.pipeline import build

#: What Xen's EFI binary starts with, and what a plain arm64 Image does not.
FAKE_EFI = b"MZ" + bytes(4094)


def as_uefi(efi=None):
    def change(doc: dict) -> None:
        doc["boot"]["format"] = "uefi"
        if efi is not None:
            doc["xen"]["efi"] = str(efi)

    return change


@pytest.fixture
def xen_efi(inputs):
    path = inputs / "xen.efi"
    path.write_bytes(FAKE_EFI)
    return path


def test_uefi_output_is_an_esp_for_xen(describe, tmp_path, xen_efi):
    out = tmp_path / "out"
    plan = build(describe(as_uefi(xen_efi)), out)
    assert (out / "BOOTAA64.EFI").read_bytes() == FAKE_EFI
    assert not (out / "xen").exists()  # the plain image is not what UEFI starts
    config = (out / "BOOTAA64.cfg").read_text().splitlines()
    assert config[1:] == [
        "[global]",
        "default=xen",
        "",
        "[xen]",
        f"options={plan.xen_bootargs}",
        "dtb=xen.dtb",
    ]
    tree = fdt.parse_dtb((out / "xen.dtb").read_bytes())
    modules = [m for d in tree.get_node("/chosen").nodes for m in d.nodes]
    files = sorted(m.get_property("xen,uefi-binary").value for m in modules)
    assert files == sorted(b.file for b in plan.blobs if b.role in ("kernel", "ramdisk"))
    assert all(m.get_property("reg") is None for m in modules)
    for name in files:
        assert (out / name).is_file()
    script = (out / "boot.cmd").read_text()
    assert "EFI/BOOT/BOOTAA64.EFI" in script and f"bootefi 0x{plan.xen.address:x}" in script


def test_uefi_output_is_byte_reproducible(describe, tmp_path, xen_efi):
    path = describe(as_uefi(xen_efi))
    build(path, tmp_path / "a")
    build(path, tmp_path / "b")
    for file in (tmp_path / "a").iterdir():
        assert file.read_bytes() == (tmp_path / "b" / file.name).read_bytes(), file.name


EXPECTED = {
    "missing": "does not exist",
    "not-pe": "is not an EFI binary",
    "fifo": "is a FIFO (named pipe), not a regular file: give xen.efi",
    "directory": "is a directory, not a regular file: give xen.efi",
}


def line_of(path, start: str) -> int:
    """The line of ``path`` that starts with ``start`` (a key of the description)."""
    return next(
        i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(start)
    )


@pytest.mark.parametrize("efi", sorted(EXPECTED))
def test_xen_without_an_efi_binary_is_one_line_and_writes_nothing(describe, tmp_path, efi):
    given = tmp_path / "xen-plain.efi"
    if efi == "not-pe":
        given.write_bytes(b"\0" * 4096)
    elif efi == "fifo":
        os.mkfifo(given)  # opened blocking, it would hang the build
    elif efi == "directory":
        given.mkdir()
    path = describe(as_uefi(given))
    with pytest.raises(UserError) as caught:
        build(path, tmp_path / "out")
    [line] = caught.value.lines
    assert line.startswith(f"{path}:{line_of(path, '  efi:')}: xen.efi: ")
    assert EXPECTED[efi] in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("key", ["bootargs", "extra_bootargs"])
def test_a_comment_sign_in_xens_options_is_refused(describe, tmp_path, xen_efi, key):
    """Xen's cfg parser would end the options line at '#' and drop the rest silently."""

    def change(doc: dict) -> None:
        as_uefi(xen_efi)(doc)
        doc["xen"][key] = "console=dtuart dtuart=serial0 loglvl=all #guest_loglvl=all"

    path = describe(change)
    with pytest.raises(UserError) as caught:
        build(path, tmp_path / "out")
    lines = [line for line in caught.value.lines if "starts a comment" in line]
    assert lines == [
        f"{path}:{line_of(path, f'  {key}:')}: xen.{key}: Xen's EFI loader reads its options "
        "from BOOTAA64.cfg, where '#' starts a comment and would cut them there: leave it out"
    ]
    assert not (tmp_path / "out").exists()
