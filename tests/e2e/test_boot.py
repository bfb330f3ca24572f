"""Generated artefacts boot for real: U-Boot sources boot.scr, Xen starts every guest."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import pytest
from xen_dom0less_harness import manifest, runner
from xen_dom0less_harness.guests.baremetal import Program
from xen_dom0less_harness.machine import Machine

from .conftest import Workspace

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def domain_of(result: runner.BootResult, marker: str) -> str:
    """The Xen domain number that printed ``marker``.

    Xen prefixes a domU's lines with DOMn except for the domain holding console
    input, whose output is raw: dom0 if there is one, else DOM0 on 4.17 (which
    lacks one) but the first domU from 4.20 ('Serial input to DOM1').
    """
    line = result.hits[marker].line
    if "DOM" in line:
        return line.split("DOM", 1)[1].split(":", 1)[0]
    focus = re.findall(r"\*\*\* Serial input to DOM(\d+) ", result.console)
    return focus[-1] if focus else "raw"


def two_rtos(ws, **sections) -> tuple[dict, list[str]]:
    markers = ["rtos-a: up", "rtos-b: up"]
    domains = [
        {"name": f"rtos{i}", "kernel": str(ws.bare(f"rtos{i}", Program(m))), "memory": "16M"}
        for i, m in enumerate(markers)
    ]
    return ws.description(domains, **sections), markers


def test_true_dom0less_two_baremetal_domus(each_xen):
    document, markers = two_rtos(each_xen)
    result = each_xen.boot(document, markers, timeout=30)
    assert [domain_of(result, m) for m in markers] == ["1", "2"]
    assert all(result.hits[m].xen is not None for m in markers)


def test_gicv2_machine(guest_inputs, tmp_path):
    """A GICv2 board (the ZCU102's GIC-400): an RTOS and a Linux, whose timer needs the vGICv2."""
    machine = Machine(gic=2)
    ws = Workspace(tmp_path, guest_inputs, machine.dumpdtb(tmp_path / "virt-gicv2.dtb"), machine)
    markers = ["rtos: up", "linux: init running"]
    domains = [
        {"name": "rtos", "kernel": str(ws.bare("rtos", Program(markers[0]))), "memory": "16M"},
        {
            "name": "linux",
            "kernel": str(ws.inputs.kernel),
            "ramdisk": str(ws.initrd("linux", markers[1])),
            "cmdline": "console=ttyAMA0 quiet",
            "memory": "256M",
        },
    ]
    result = ws.boot(ws.description(domains), markers, timeout=120)
    assert [domain_of(result, m) for m in markers] == ["1", "2"]
    assert "GICv2 initialization" in result.console and "GICv3" not in result.console


def boot_two_linux_domus(ws: Workspace, kernel: Path, timeout: int) -> runner.BootResult:
    """Two Linux domUs on one kernel file, each with its own marker; both must start."""
    markers = ["linux-a: init running", "linux-b: init running"]
    domains = [
        {
            "name": f"linux{i}",
            "kernel": str(kernel),
            "ramdisk": str(ws.initrd(f"linux{i}", m)),
            "cmdline": "console=ttyAMA0 quiet",
            "memory": "256M",
        }
        for i, m in enumerate(markers)
    ]
    result = ws.boot(ws.description(domains), markers, timeout=timeout)
    assert sorted(domain_of(result, m) for m in markers) == ["1", "2"]
    return result


def test_true_dom0less_two_linux_domus(each_xen):
    boot_two_linux_domus(each_xen, each_xen.inputs.kernel, timeout=120)


def test_two_linux_domus_on_one_gzip_kernel(each_xen):
    """Xen decompresses a gzip domU kernel into new pages and frees its module, so a second
    domain naming that module found none ("Missing kernel boot module?", a panic): each
    domain's copy is loaded on its own, and both start."""
    ws = each_xen
    kernel = ws.root / "Image.gz"
    kernel.write_bytes(gzip.compress(ws.inputs.kernel.read_bytes(), compresslevel=1, mtime=0))
    result = boot_two_linux_domus(ws, kernel, timeout=180)
    assert "Missing kernel boot module" not in result.console


def test_linux_dom0_and_domu(each_xen):
    ws = each_xen
    domu = [
        {
            "name": "guest",
            "kernel": str(ws.inputs.kernel),
            "ramdisk": str(ws.initrd("guest", "guest: up")),
            "cmdline": "console=ttyAMA0 quiet",
            "memory": "256M",
        }
    ]
    document, _ = ws.with_linux_dom0(domu, "dom0: up")
    result = ws.boot(document, ["dom0: up", "guest: up"], timeout=120)
    assert domain_of(result, "guest: up") == "1"


def test_fdt_commands_boots_like_patched(each_xen):
    document, markers = two_rtos(each_xen)
    document["boot"]["device_tree"] = "fdt-commands"
    result = each_xen.boot(document, markers, timeout=30)
    assert [domain_of(result, m) for m in markers] == ["1", "2"]


def test_file_names_with_spaces_and_shell_characters_load_literally(workspace):
    """Names that would split or end a command unquoted: U-Boot loads each file as named.

    Proves the quoting (issue 13) in both places it matters, the load lines and,
    in fdt-commands mode, the fdt commands; without it U-Boot would load "rtos"
    and run "reset".
    """
    ws = workspace
    markers = ["rtos-a: up", "rtos-b: up"]
    names = ["rtos a;reset.bin", "rtos $b # c&d.bin"]
    domains = []
    for i, (marker, name) in enumerate(zip(markers, names)):
        kernel = ws.bare(f"rtos{i}", Program(marker)).rename(ws.root / name)
        domains.append({"name": f"rtos{i}", "kernel": str(kernel), "memory": "16M"})
    document = ws.description(domains)
    document["boot"]["device_tree"] = "fdt-commands"
    result = ws.boot(document, markers, timeout=30)
    assert [domain_of(result, m) for m in markers] == ["1", "2"]
    assert all(f"dom0less: loaded {name} (kernel" in result.console for name in names)


def test_tftp(workspace):
    document, markers = two_rtos(workspace)
    document["boot"]["load"] = "tftp"
    result = workspace.boot(document, markers, timeout=60)
    assert "TFTP from server" in result.console


def test_floor_boots_without_uboot(workspace):
    document, markers = two_rtos(workspace)
    result = workspace.boot(document, markers, timeout=30, floor=True)
    assert "U-Boot" not in result.console


def test_cli_exit_status(workspace):
    document, markers = two_rtos(workspace)
    outdir = workspace.build(document)
    command = [sys.executable, str(ROOT / "scripts" / "dom0less"), "run-qemu", str(outdir)]
    ok = subprocess.run(
        [*command, "--expect", markers[0], "--timeout", "30"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert f"{markers[0]!r} after" in ok.stderr
    missing = subprocess.run(
        [*command, "--expect", "never printed", "--timeout", "5"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1
    assert "timed out after 5 s waiting for 'never printed'" in missing.stderr


def test_broken_xen_fails_fast(workspace):
    document, markers = two_rtos(workspace)
    outdir = workspace.build(document)
    xen = manifest.read(outdir).role("xen").file
    xen.write_bytes(bytes(xen.stat().st_size))
    result = runner.boot(outdir, markers, timeout=60, work=workspace.root / "qemu")
    assert not result.ok
    assert result.elapsed < 20
    assert "Bad Linux ARM64 Image magic" in result.console
