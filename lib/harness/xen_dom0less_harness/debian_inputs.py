"""The arm64 binaries the boot tests run: Debian's Xen, Linux kernel and busybox.

They are downloaded as packages and unpacked into the cache, never installed,
so the host stays an x86 machine and the versions are whatever Debian ships:
Xen 4.17, Linux and busybox from Debian 12, Xen 4.20 from Debian 13, each through a
private apt configuration. The host's sources and architectures stay untouched (no
root needed), and a Debian 13 or Ubuntu host gets the same guests as a Debian 12 one.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from xen_dom0less import hosttools
from xen_dom0less.cache import cache_dir
from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import debian

from . import progress

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
    """Download and unpack the arm64 packages (once)."""
    try:
        return installed()
    except UserError:
        pass
    root = cache_dir("arm64")
    kernel_package = _kernel_package()
    trees = {name: unpacked(name) for name in (XEN_PACKAGE, kernel_package, BUSYBOX_PACKAGE)}
    trees[XEN_TRIXIE_PACKAGE] = unpacked(XEN_TRIXIE_PACKAGE, debian.TRIXIE)
    inputs = GuestInputs(
        xen=_one(trees[XEN_PACKAGE], "boot/xen-*-arm64"),
        kernel=_one(trees[kernel_package], "boot/vmlinuz-*"),
        busybox=_one(trees[BUSYBOX_PACKAGE], "bin/busybox"),
        xen_4_20=_one(trees[XEN_TRIXIE_PACKAGE], "boot/xen-*-arm64"),
    )
    (root / STAMP).write_text(json.dumps({k: str(v) for k, v in vars(inputs).items()}, indent=1))
    return inputs


def kernel_dtbs(inputs: GuestInputs) -> Path:
    """The real boards' device trees the kernel's package ships (the examples' KERNEL_DTBS)."""
    version = inputs.kernel.name.removeprefix("vmlinuz-")
    return inputs.kernel.parent.parent / "usr" / "lib" / f"linux-image-{version}"


def _kernel_package() -> str:
    """The versioned kernel package linux-image-arm64 currently points at (its ABI moves):
    the first linux-image-* its Depends names."""
    with tempfile.TemporaryDirectory(prefix="dom0less-kernel-") as work:
        debian.download(KERNEL_META, debian.BOOKWORM, Path(work))
        (meta,) = Path(work).glob("*.deb")
        depends = hosttools.run(["dpkg-deb", "-f", str(meta), "Depends"], f"reading {meta.name}")
    for alternative in depends.replace("|", ",").split(","):
        name = alternative.split("(")[0].strip()
        if name.startswith("linux-image-"):
            return name
    raise UserError(
        f"{KERNEL_META} of {debian.BOOKWORM.suite} depends on no linux-image-*: "
        f"{depends.strip()!r}; check the Debian mirror"
    )


def unpacked(package: str, archive: debian.Archive = debian.BOOKWORM) -> Path:
    """``package`` for arm64 from ``archive``, downloaded and extracted once into the cache;
    another suite's libraries are kept apart from bookworm's, as they share names."""
    suffix = "" if archive == debian.BOOKWORM else f"-{archive.suite}"
    target = cache_dir(f"arm64{suffix}") / package
    if (target / ".unpacked").is_file():
        return target
    debs = cache_dir(f"debs{suffix}")
    existing = sorted(debs.glob(f"{package}_*_arm64.deb"))
    if not existing:
        progress.step(f"downloading {package} (arm64) from Debian {archive.suite}")
        with progress.percent_bar(package) as percent:
            debian.download(package, archive, debs, percent=percent)
        existing = sorted(debs.glob(f"{package}_*_arm64.deb"))
    if not existing:
        raise UserError(f"apt-get download {package}:arm64 produced no .deb in {debs}")
    progress.step(f"unpacking {existing[-1].name} ({existing[-1].stat().st_size / 1e6:.1f} MB)")
    hosttools.run(["dpkg-deb", "-x", str(existing[-1]), str(target)], f"unpacking {existing[-1]}")
    (target / ".unpacked").write_text(existing[-1].name + "\n")
    return target


def _one(tree: Path, pattern: str) -> Path:
    found = sorted(p for p in tree.glob(pattern) if p.is_file())
    if len(found) != 1:
        raise UserError(
            f"expected one {pattern} in {tree}, found {len(found)}: "
            f"delete {tree} and run `dom0less setup` again"
        )
    return found[0]
