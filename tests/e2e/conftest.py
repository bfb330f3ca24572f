"""Fixtures for the boot tests: Debian's arm64 binaries, QEMU's DTB, build-then-boot.

Only a host QEMU cannot serve is skipped; missing tools or inputs fail with
the setup command to run, because CI is expected to have run it.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import pytest
import yaml
from xen_dom0less_harness import debian_inputs, runner, tools
from xen_dom0less_harness.guests import baremetal, initramfs
from xen_dom0less_harness.machine import Machine

from xen_dom0less.errors import UserError
from xen_dom0less.generator.pipeline import build
from xen_dom0less.xenbuild import BuildResult

SUPPORTED_HOSTS = {("Linux", "x86_64"), ("Linux", "aarch64")}


@pytest.fixture(scope="session")
def guest_inputs() -> debian_inputs.GuestInputs:
    if (platform.system(), platform.machine()) not in SUPPORTED_HOSTS:
        pytest.skip("boot tests need a Linux x86_64 or aarch64 host")
    missing = tools.missing_packages()
    if missing:
        pytest.fail(f"host packages missing: {' '.join(missing)}: run `dom0less setup`")
    try:
        return debian_inputs.fetch()
    except UserError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def virt_dtb(guest_inputs, tmp_path_factory) -> Path:
    """QEMU's own DTB for the default machine most tests boot."""
    return Machine().dumpdtb(tmp_path_factory.mktemp("machine") / "virt.dtb")


class Workspace:
    """A test's directory: guests written into it, a description built and booted from it."""

    def __init__(
        self,
        root: Path,
        found: debian_inputs.GuestInputs,
        dtb: Path,
        machine: Optional[Machine] = None,
        xen_version: str = "4.17",
        built: Optional[BuildResult] = None,
    ):
        self.root = root
        self.inputs = found
        self.dtb = dtb
        self.machine = machine or Machine()
        self.xen_version = xen_version
        self.built = built  # a Xen built from source instead of Debian's binary

    def bare(self, name: str, program: baremetal.Program) -> Path:
        return baremetal.write(program, self.root / f"{name}.bin")

    def initrd(self, name: str, marker: str) -> Path:
        return initramfs.write(marker, self.inputs.busybox, self.root / f"{name}.cpio")

    def description(self, domains: list[dict], **sections) -> dict:
        """A description for the default machine; ``sections`` override or add top-level keys."""
        if self.built is None:
            xen = {"image": str(self.inputs.xen_release(self.xen_version))}
        else:
            xen = {"image": str(self.built.xen), "config": str(self.built.config)}
        document = {
            "version": 1,
            "xen": {
                **xen,
                "version": self.xen_version,
                "extra_bootargs": "console_timestamps=boot",
            },
            "host": {"dtb": str(self.dtb)},
            "boot": {"load": "virtio 0:1", "script_address": 0x40200000},
            "domains": domains,
        }
        document.update(sections)
        return document

    def with_linux_dom0(self, domains: list[dict], marker: str) -> tuple[dict, dict]:
        """A description of ``domains`` beside a Linux dom0 on hvc0 whose initramfs prints
        ``marker``, and that dom0 entry (for a test to give it another ramdisk)."""
        dom0 = {
            "kernel": str(self.inputs.kernel),
            "ramdisk": str(self.initrd("dom0", marker)),
            "cmdline": "console=hvc0 quiet",
            "memory": "512M",
        }
        host = {"dtb": str(self.dtb), "disable": ["/pl061@9030000"]}
        return self.description(domains, dom0=dom0, host=host), dom0

    def build(self, document: dict) -> Path:
        path = self.root / "system.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        outdir = self.root / "out"
        build(path, outdir)
        return outdir

    def boot(
        self,
        document: dict,
        expect: list[str],
        timeout: float = 60,
        floor: bool = False,
        keys: runner.Keys = (),
        edit: Optional[Callable[[Path], None]] = None,
    ) -> runner.BootResult:
        """Build and boot ``document``; fails the test with the console unless all appeared.
        ``edit`` changes the output directory first: what checks refuse, shown on Xen."""
        outdir = self.build(document)
        if edit is not None:
            edit(outdir)
        result = runner.boot(
            outdir,
            expect,
            timeout=timeout,
            floor=floor,
            machine=self.machine,
            work=self.root / "qemu",
            keys=keys,
        )
        assert result.ok, f"{result.reason}\n--- console ---\n{result.console[-6000:]}"
        if document["xen"]["version"] == self.xen_version:  # the release asked for booted
            assert f"Xen version {self.xen_version}." in result.console
        return result


@pytest.fixture
def workspace(tmp_path, guest_inputs, virt_dtb) -> Workspace:
    return Workspace(tmp_path, guest_inputs, virt_dtb)


#: The releases the core scenarios boot: Debian's bookworm and trixie binaries, and the
#: newest release built from its source (``xen_422_build``, a xenbuild test).
CORE_XENS = ["4.17", "4.20", pytest.param("4.22", marks=pytest.mark.xenbuild)]


@pytest.fixture(params=CORE_XENS, ids=["xen4.17", "xen4.20", "xen4.22"])
def each_xen(request, tmp_path, guest_inputs, virt_dtb) -> Workspace:
    """A workspace booting each release in turn (the core scenarios)."""
    built = request.getfixturevalue("xen_422_build") if request.param == "4.22" else None
    return Workspace(tmp_path, guest_inputs, virt_dtb, xen_version=request.param, built=built)


@pytest.fixture
def ws422(tmp_path, guest_inputs, virt_dtb, xen_422_build) -> Workspace:
    """A workspace booting Xen 4.22 built from its release source (tests/xen-features.cfg)."""
    return Workspace(tmp_path, guest_inputs, virt_dtb, xen_version="4.22", built=xen_422_build)
