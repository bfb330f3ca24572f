"""Host programs and files the QEMU harness needs, found or named with their Debian package.

Looking a tool up here (rather than letting subprocess fail) turns a missing
program into one sentence telling the user what to install.
"""

from __future__ import annotations

from pathlib import Path

from xen_dom0less import hosttools
from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import debian

#: Programs the harness runs (their packages: hosttools.PACKAGES).
HOST_TOOLS = (
    "qemu-system-aarch64",
    "mkimage",
    "mkenvimage",
    "openssl",  # the boot tests make FIT signing keys with it
    "lz4",  # the boot tests build with boot.compression: lz4
    "dtc",
    "mcopy",
    "mdir",
    "mmd",
    "mkfs.vfat",
    "cpio",
    "aarch64-linux-gnu-as",
    "aarch64-linux-gnu-ld",
    "aarch64-linux-gnu-objcopy",
)

UBOOT_BIN = Path("/usr/lib/u-boot/qemu_arm64/u-boot.bin")
IPXE_ROM = Path("/usr/lib/ipxe/qemu/efi-virtio.rom")
#: EDK2 for QEMU's virt machine: the UEFI firmware UEFI outputs are also booted with.
EDK2_BIN = Path("/usr/share/qemu-efi-aarch64/QEMU_EFI.fd")

#: Files (not programs) the harness needs, and their packages (the keyring checks the
#: Debian archive the guests come from, on Ubuntu too).
HOST_FILES = {
    UBOOT_BIN: "u-boot-qemu",
    IPXE_ROM: "ipxe-qemu",
    EDK2_BIN: "qemu-efi-aarch64",
    debian.KEYRING: "debian-archive-keyring",
}

SETUP_HINT = "run `dom0less setup` (or apt-get install {package})"


def tool(name: str) -> str:
    """Absolute path of a host program, or a UserError saying which package provides it."""
    return hosttools.require(name, SETUP_HINT.format(package=hosttools.PACKAGES[name]))


def host_file(path: Path) -> Path:
    """A packaged host file that must exist, or a UserError naming its package."""
    if not path.is_file():
        package = HOST_FILES[path]
        raise UserError(f"{path} is missing: {SETUP_HINT.format(package=package)}")
    return path


def missing_packages() -> list[str]:
    """Host packages whose programs or files are absent."""
    return hosttools.missing_packages(HOST_TOOLS, HOST_FILES)


def given_file(path: Path, option: str) -> Path:
    """A file the user named with ``option``, or a UserError saying it is missing."""
    if not path.is_file():
        raise UserError(f"{option} {path}: no such file")
    return path
