"""The arm64 binaries the boot tests run: Debian's Xen, Linux kernel and busybox.

They are downloaded as packages and unpacked into the cache, never installed,
so the host stays an x86 machine and the versions are whatever Debian ships:
Xen 4.17 from the host's bookworm, Xen 4.20 from trixie through a private apt
configuration (the host's sources untouched).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from xen_dom0less import hosttools
from xen_dom0less.cache import cache_dir
from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import debian

XEN_PACKAGE = "xen-hypervisor-4.17-arm64"
#: The newer Xen the core boots also run on, from Debian 13.
XEN_TRIXIE_PACKAGE = "xen-hypervisor-4.20-arm64"
KERNEL_META = "linux-image-arm64"
BUSYBOX_PACKAGE = "busybox-static"
STAMP = "inputs.json"


@dataclass(frozen=True)
class GuestInputs:
    """Paths of the unpacked arm64 binaries."""

    xen: Path
    kernel: Path
    busybox: Path
    xen_4_20: Path

    def xen_release(self, version: str) -> Path:
        """The hypervisor of Xen ``version`` ("4.17" or "4.20")."""
        return {"4.17": self.xen, "4.20": self.xen_4_20}[version]


def installed() -> GuestInputs:
    """The inputs `dom0less setup` unpacked, or a UserError telling the user to run it."""
    stamp = cache_dir("arm64") / STAMP
    hint = "run `dom0less setup` to download Xen, Linux and busybox for arm64"
    if not stamp.is_file():
        raise UserError(f"the arm64 guest binaries are not set up: {hint}")
    try:
        inputs = GuestInputs(**{k: Path(v) for k, v in json.loads(stamp.read_text()).items()})
    except (ValueError, TypeError, AttributeError):
        raise UserError(f"{stamp} is from another version or damaged: {hint}") from None
    for path in vars(inputs).values():
        if not path.is_file():
            raise UserError(f"{path} has disappeared from the cache: {hint}")
    return inputs


def fetch() -> GuestInputs:
    """Download and unpack the arm64 packages (once); needs the arm64 apt architecture."""
    try:
        return installed()
    except UserError:
        pass
    root = cache_dir("arm64")
    kernel_package = _kernel_package()
    trees = {name: _unpack(name, root) for name in (XEN_PACKAGE, kernel_package, BUSYBOX_PACKAGE)}
    trees[XEN_TRIXIE_PACKAGE] = _unpack(XEN_TRIXIE_PACKAGE, root, debian.TRIXIE)
    inputs = GuestInputs(
        xen=_one(trees[XEN_PACKAGE], "boot/xen-*-arm64"),
        kernel=_one(trees[kernel_package], "boot/vmlinuz-*"),
        busybox=_one(trees[BUSYBOX_PACKAGE], "bin/busybox"),
        xen_4_20=_one(trees[XEN_TRIXIE_PACKAGE], "boot/xen-*-arm64"),
    )
    (root / STAMP).write_text(json.dumps({k: str(v) for k, v in vars(inputs).items()}, indent=1))
    return inputs


def _kernel_package() -> str:
    """The versioned kernel package linux-image-arm64 currently points at (its ABI moves)."""
    out = hosttools.run(
        ["apt-cache", "depends", f"{KERNEL_META}:arm64"], f"looking up {KERNEL_META}:arm64"
    )
    for line in out.splitlines():
        key, _, value = line.strip().partition(": ")
        if key == "Depends" and value.startswith("linux-image-"):
            return value.split(":")[0]
    raise UserError(
        f"apt-cache does not know which kernel {KERNEL_META}:arm64 depends on: "
        "run `dpkg --add-architecture arm64 && apt-get update` as root"
    )


def unpacked(package: str) -> Path:
    """``package:arm64`` from the host's sources, downloaded and extracted once into the cache."""
    return _unpack(package, cache_dir("arm64"))


def _unpack(package: str, root: Path, archive: Optional[debian.Archive] = None) -> Path:
    """Download ``package:arm64`` (from ``archive``, else the host's sources) into the
    cache and extract it with dpkg-deb -x."""
    target = root / package
    if (target / ".unpacked").is_file():
        return target
    debs = cache_dir("debs")
    existing = sorted(debs.glob(f"{package}_*_arm64.deb"))
    if not existing:
        if archive is None:
            _download(package, debs)
        else:
            debian.download(package, archive, debs)
        existing = sorted(debs.glob(f"{package}_*_arm64.deb"))
    if not existing:
        raise UserError(f"apt-get download {package}:arm64 produced no .deb in {debs}")
    hosttools.run(["dpkg-deb", "-x", str(existing[-1]), str(target)], f"unpacking {existing[-1]}")
    (target / ".unpacked").write_text(existing[-1].name + "\n")
    return target


def _download(package: str, into: Path) -> None:
    # apt-get download drops privileges to _apt; a root-owned cache needs the sandbox off.
    argv = ["apt-get", "download", "-q", f"{package}:arm64"]
    if os.geteuid() == 0:
        argv[1:1] = ["-o", "APT::Sandbox::User=root"]
    hosttools.run(
        argv,
        f"downloading {package}:arm64 (it needs the network and "
        "`dpkg --add-architecture arm64 && apt-get update`)",
        cwd=into,
    )


def _one(tree: Path, pattern: str) -> Path:
    found = sorted(p for p in tree.glob(pattern) if p.is_file())
    if len(found) != 1:
        raise UserError(
            f"expected one {pattern} in {tree}, found {len(found)}: "
            f"delete {tree} and run `dom0less setup` again"
        )
    return found[0]
