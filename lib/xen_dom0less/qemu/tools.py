"""Host programs the QEMU harness runs, and the Debian package each comes from.

Looking a tool up here (rather than letting subprocess fail) turns a missing
program into one sentence telling the user what to install.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Optional

from ..errors import UserError

#: Program -> Debian package providing it.
HOST_TOOLS = {
    "qemu-system-aarch64": "qemu-system-arm",
    "mkimage": "u-boot-tools",
    "mkenvimage": "u-boot-tools",
    "dtc": "device-tree-compiler",
    "mcopy": "mtools",
    "mdir": "mtools",
    "mkfs.vfat": "dosfstools",
    "cpio": "cpio",
    "aarch64-linux-gnu-as": "binutils-aarch64-linux-gnu",
    "aarch64-linux-gnu-ld": "binutils-aarch64-linux-gnu",
    "aarch64-linux-gnu-objcopy": "binutils-aarch64-linux-gnu",
}

UBOOT_BIN = Path("/usr/lib/u-boot/qemu_arm64/u-boot.bin")
IPXE_ROM = Path("/usr/lib/ipxe/qemu/efi-virtio.rom")

#: Files (not programs) the harness needs, and their packages.
HOST_FILES = {
    UBOOT_BIN: "u-boot-qemu",
    IPXE_ROM: "ipxe-qemu",
}

SETUP_HINT = "run `sudo dom0less setup` (or apt-get install {package})"


def tool(name: str) -> str:
    """Absolute path of a host program, or a UserError saying which package provides it."""
    found = _which(name)
    if found is None:
        package = HOST_TOOLS[name]
        raise UserError(f"{name} is not installed: {SETUP_HINT.format(package=package)}")
    return found


def host_file(path: Path) -> Path:
    """A packaged host file that must exist, or a UserError naming its package."""
    if not path.is_file():
        package = HOST_FILES[path]
        raise UserError(f"{path} is missing: {SETUP_HINT.format(package=package)}")
    return path


def missing_packages() -> list[str]:
    """Host packages whose programs or files are absent."""
    missing = {pkg for name, pkg in HOST_TOOLS.items() if _which(name) is None}
    missing |= {pkg for path, pkg in HOST_FILES.items() if not path.is_file()}
    return sorted(missing)


def run(argv: list[str], what: str, cwd: Optional[Path] = None) -> str:
    """Run a host program; a failure becomes a UserError quoting its last line of output."""
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = lines[-1] if lines else f"exit status {result.returncode}"
        raise UserError(f"{what} failed ({Path(argv[0]).name}: {detail})")
    return result.stdout


def _which(name: str) -> Optional[str]:
    # mkfs.vfat lives in /usr/sbin, which is not on a normal user's PATH.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
