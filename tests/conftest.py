"""Shared fixtures: synthetic inputs, a description writer, one purpose-built Xen.

The real hypervisor build takes minutes, so the build tests and the boot
tests share one per session: the partitioned example's, which enables every
feature they exercise.

Layout: tests/<package>/ mirrors lib/xen_dom0less (generator/{read,check,place,render},
importer, xenbuild, cli, shared modules in shared/) and lib/harness (harness/); project/
holds rules over the whole repository. Four folders are tiers, not packages: e2e (boots
under QEMU), yocto (BitBake and kas), packaging (the wheels in fresh venvs) and boards
(real boards' trees from Debian's kernel package).

Tiers of a run: ``-m fast`` is the inner loop (under 30 s on 2 cores): every test but the
e2e, yocto and packaging folders, the Xen builds and what is marked ``slow`` (a browser, a
child pytest, 1 GiB hashed, a real timeout). Hypothesis runs the ``dev`` profile (few examples)
unless CI=true or HYPOTHESIS_PROFILE=ci, as .ci/run sets.
"""

from __future__ import annotations

import os
import random
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import pytest
import yaml
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from xen_dom0less.xenbuild import BuildResult

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lib"), str(ROOT / "lib" / "harness")]

TESTS = ROOT / "tests"
EXAMPLES = ROOT / "examples"
QEMU_DTB = EXAMPLES / "qemu-virt.dtb"
#: Needs STATIC_MEMORY, BOOT_TIME_CPUPOOLS, STATIC_SHM and SCHED_NULL (all + UNSUPPORTED).
PARTITIONED = EXAMPLES / "qemu-partitioned.yaml"
EPOCH = "1700000000"


#: Property tests draw few examples in the inner loop and many in CI; deadlines are off
#: because a shared 2-core machine makes any single example's time meaningless.
settings.register_profile(
    "dev", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")
)


def arm64_image(size: int, image_size: int = 0, fill: bytes = b"\0") -> bytes:
    """A file with a valid arm64 Image header, as Xen and booti check it: the one fake
    every test and bench script writes (``image_size`` is the header's, BSS included)."""
    header = bytearray(64)
    struct.pack_into("<Q", header, 0x10, image_size or size)
    header[0x38:0x3C] = b"ARM\x64"
    return bytes(header) + fill * (size - 64)


def kernel_like(path: Path, size: int, image_size: int) -> Path:
    """An arm64 Image that compresses about 2:1, as a real kernel does (the fakes of one
    repeated byte shrink over 20 times, past what bootm decompresses a FIT loadable into)."""
    rng = random.Random(size)
    body = b"".join(rng.randbytes(4096) + bytes(4096) for _ in range(size // 8192))
    path.write_bytes(arm64_image(64, image_size) + body)
    return path


def write_inputs(directory: Path) -> Path:
    """The synthetic binaries the examples name through ${DOM0LESS_INPUTS}."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "xen").write_bytes(arm64_image(1_100_000, 2_400_000))
    (directory / "rtos.bin").write_bytes(arm64_image(4096, 65536, b"\x01"))
    (directory / "rtos-direct.bin").write_bytes(arm64_image(4096, 65536, b"\x04"))
    (directory / "Image").write_bytes(arm64_image(3_000_000, 4_000_000, b"\x02"))
    (directory / "initrd.cpio.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x03" * 2000)
    (directory / "initrd.cpio").write_bytes(b"070701" + b"0" * 600)
    (directory / "xenpolicy").write_bytes(b"\x8c\xff\x7c\xf9" + b"\x05" * 1000)  # FLASK magic
    return directory


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = write_inputs(tmp_path / "inputs")
    monkeypatch.setenv("DOM0LESS_INPUTS", str(directory))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    return directory


def base_description(inputs: Path) -> dict:
    """A small valid system: two domUs on QEMU virt, true dom0less."""
    return {
        "version": 1,
        "xen": {"image": str(inputs / "xen"), "version": "4.17"},
        "host": {"dtb": str(QEMU_DTB)},
        "boot": {"load": "virtio 0:1", "script_address": 0x40200000},
        "domains": [
            {"name": "rtos", "kernel": str(inputs / "rtos.bin"), "memory": "16M"},
            {
                "name": "linux",
                "kernel": str(inputs / "Image"),
                "ramdisk": str(inputs / "initrd.cpio"),
                "cmdline": "console=ttyAMA0 quiet",
                "memory": "256M",
                "vcpus": 2,
            },
        ],
    }


@pytest.fixture
def describe(tmp_path: Path, inputs: Path):
    """Write a description (the base one, changed by a function) and return its path."""

    def write(change=None, name: str = "system.yaml") -> Path:
        document = base_description(inputs)
        if change is not None:
            change(document)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return write


@pytest.fixture(scope="session")
def xen_source() -> Path:
    """The Xen 4.20 release tree the examples target (the shared tarball, extracted once)."""
    from xen_dom0less.xenbuild import locate

    return locate("4.20", SHARED_XEN_SOURCES).root


@pytest.fixture(scope="session")
def debian_xen_source() -> Path:
    """Debian 12's Xen 4.17 source package, fetched and extracted once."""
    from xen_dom0less.xenbuild import debian

    return debian.fetch()


@pytest.fixture(scope="session")
def build_environ(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    inputs = write_inputs(tmp_path_factory.mktemp("inputs"))
    return {**os.environ, "DOM0LESS_INPUTS": str(inputs), "SOURCE_DATE_EPOCH": EPOCH}


def build_partitioned(source: Path, outdir: Path, environ: dict[str, str]) -> BuildResult:
    """Xen's hypervisor with the options the partitioned example asks for (and those of
    FEATURES_FRAGMENT: the same .config as ``xen_420_build``'s)."""
    from xen_dom0less.xenbuild import build_hypervisor

    return build_hypervisor(
        source,
        outdir,
        description=PARTITIONED,
        fragments=[FEATURES_FRAGMENT],
        environ=environ,
        progress=lambda line: None,
    )


@pytest.fixture(scope="session")
def partitioned_build(build_environ: dict[str, str]) -> BuildResult:
    """The partitioned example's Xen 4.20, from the cache when built before."""
    return release_build("4.20", build_environ, description=PARTITIONED)


#: The options every boot of a newer feature needs, in one build per release.
FEATURES_FRAGMENT = ROOT / "tests" / "xen-features.cfg"
#: The project's Xen release tarballs beside the checkout, with their SHA256SUMS (CI
#: has them too); DOM0LESS_XEN_SOURCE_<X>_<Y> or the release download where absent.
SHARED_XEN_SOURCES = ROOT.parent / "shared" / "xen-src"


def release_build(
    version: str, environ: dict[str, str], description: Optional[Path] = None
) -> BuildResult:
    """Xen ``version`` from its release source with FEATURES_FRAGMENT, built once and cached
    (by source checksum and Kconfig) for this and later sessions."""
    from xen_dom0less.xenbuild import build_release, locate

    return build_release(
        locate(version, SHARED_XEN_SOURCES),
        [FEATURES_FRAGMENT],
        description=description,
        environ=environ,
        progress=lambda line: None,
    )


#: Xen 4.17's share of FEATURES_FRAGMENT (it has no LLC colouring; SVE came in 4.18).
FEATURES_4_17 = ROOT / "tests" / "xen-4.17-features.cfg"


@pytest.fixture(scope="session")
def xen_417_build(debian_xen_source: Path, build_environ: dict[str, str]) -> BuildResult:
    """Debian 12's Xen 4.17 source with FEATURES_4_17, built once and cached."""
    from xen_dom0less.xenbuild import ReleaseSource, build_release, release

    found = ReleaseSource(
        "4.17", debian_xen_source, debian_xen_source, release.tree_digest(debian_xen_source)
    )
    return build_release(found, [FEATURES_4_17], environ=build_environ, progress=lambda line: None)


@pytest.fixture(scope="session")
def xen_420_build(partitioned_build: BuildResult) -> BuildResult:
    """Xen 4.20 with FEATURES_FRAGMENT: the partitioned example's build, one build for both
    (the example's options are all in the fragment)."""
    return partitioned_build


@pytest.fixture(scope="session")
def xen_422_build(build_environ: dict[str, str]) -> BuildResult:
    return release_build("4.22", build_environ)


@pytest.fixture(scope="session")
def xen_422_tools():
    """Xen 4.22's toolstack (xl, xenstored, init-dom0less), cross-built from the release
    source xen_422_build is built from, once and cached: Debian packages no 4.22 tools."""
    from xen_dom0less_harness import toolstack

    from xen_dom0less.xenbuild import locate

    return toolstack.build(locate("4.22", SHARED_XEN_SOURCES))


#: Fixtures that compile Xen (its hypervisor, or its tools): a test using one is a xenbuild
#: test. (Finding a source, ``xen_source``, is not: the layer's stub test reads it under
#: ``yocto``.)
XEN_BUILDING = frozenset(
    {"partitioned_build", "xen_417_build", "xen_420_build", "xen_422_build", "xen_422_tools"}
)

#: Folders whose tests are never in the fast tier (see the module docstring).
SLOW_TIERS = frozenset({"e2e", "yocto", "packaging"})


def is_fast(item: pytest.Item) -> bool:
    """In the inner loop: outside the slow tiers, building no Xen, not marked slow."""
    tier = item.path.relative_to(TESTS).parts[0]
    return tier not in SLOW_TIERS and not any(
        item.get_closest_marker(name) for name in ("slow", "xenbuild", "e2e")
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that builds Xen ``xenbuild`` and the inner loop's ``fast``; a ``-m``
    that does not name xenbuild leaves the builds out, so ``-m e2e`` boots without compiling
    Xen first (``-m "e2e or xenbuild"`` or no ``-m`` at all, as CI runs, includes them)."""
    for item in items:
        if XEN_BUILDING & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xenbuild)
        if is_fast(item):
            item.add_marker(pytest.mark.fast)
    expression = config.getoption("markexpr") or ""
    if not expression or "xenbuild" in expression:
        return
    dropped = [item for item in items if item.get_closest_marker("xenbuild")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("xenbuild")]
