"""The shipped QEMU examples boot as they are, with the inputs `dom0less setup` prepares."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from xen_dom0less_harness import example_inputs, runner, tools

from xen_dom0less.generator.pipeline import build

from ..boards.conftest import kernel_dtbs
from ..conftest import ROOT
from ..project.documented import PAGES, dom0less_spans

pytestmark = pytest.mark.e2e
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEEDS = ("rng-seed", "kaslr-seed")
SWITCH_INPUT = b"\x01" * 3
#: With no dom0, Xen 4.20 (the examples' release) gives console input to DOM1 (which then
#: prints without the "DOM1: " prefix), then DOM2, then itself; once it has it, debug key
#: 'r' dumps every cpupool's scheduler and where vCPUs run.
TO_XEN_THEN_DUMP_POOLS = (
    (f"DOM2: {example_inputs.LINUX_MARKER}", SWITCH_INPUT),
    ("Serial input to DOM2", SWITCH_INPUT),
    ("Serial input to Xen", b"r"),
)


@pytest.fixture(scope="module")
def demo_inputs(guest_inputs) -> Path:
    return example_inputs.write_inputs(guest_inputs)


def boot_example(
    name: str, outdir: Path, expect: list[str], keys: runner.Keys = ()
) -> runner.BootResult:
    build(EXAMPLES / name, outdir)
    result = runner.boot(outdir, expect, timeout=120, keys=keys)
    assert result.ok, f"{result.reason}\n--- console ---\n{result.console[-6000:]}"
    return result


def without_seeds(dtb: Path) -> list[str]:
    text = subprocess.run(
        [tools.tool("dtc"), "-q", "-I", "dtb", "-O", "dts", str(dtb)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in text.splitlines() if not any(seed in line for seed in SEEDS)]


def test_example_dtb_is_the_default_machine(virt_dtb):
    assert without_seeds(EXAMPLES / "qemu-virt.dtb") == without_seeds(virt_dtb)


def test_true_dom0less_example(demo_inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("DOM0LESS_INPUTS", str(demo_inputs))
    boot_example(
        "qemu-dom0less.yaml",
        tmp_path / "out",
        [example_inputs.RTOS_MARKER, f"DOM2: {example_inputs.LINUX_MARKER}"],
    )


def test_dom0_example(demo_inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("DOM0LESS_INPUTS", str(demo_inputs))
    marker = example_inputs.LINUX_MARKER  # dom0 and the domU boot the same initramfs
    boot_example("qemu-dom0.yaml", tmp_path / "out", [f"DOM1: {marker}", f"^{marker}"])


@pytest.mark.xenbuild
def test_partitioned_example_on_a_purpose_built_xen(
    demo_inputs, partitioned_build, tmp_path, monkeypatch
):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for item in demo_inputs.iterdir():
        (inputs / item.name).symlink_to(item)
    (inputs / "xen").unlink()
    (inputs / "xen").symlink_to(partitioned_build.xen)
    monkeypatch.setenv("DOM0LESS_INPUTS", str(inputs))
    result = boot_example(
        "qemu-partitioned.yaml",
        tmp_path / "out",
        [
            example_inputs.RTOS_MARKER,
            "load address 0x0000000060000000",
            "unit=d1v0",
        ],
        keys=TO_XEN_THEN_DUMP_POOLS,
    )
    # The rtos's only vCPU runs on CPU 3, its pool's CPU, under the null scheduler.
    pool = result.console[result.console.index("Cpupool 1:") :]
    assert re.search(r"Scheduler: null Scheduler", pool), pool
    assert re.search(r"CPU\[03\] sibling=.*, unit=d1v0", pool), pool
    # Xen 4.18 dropped 4.17's 'allocate static shared memory BANK' line: the shared memory
    # itself is proven by test_xen_features.py on each release.


def test_zcu102_board_example_with_the_documented_command(demo_inputs, tmp_path):
    """examples/boards/zcu102.yaml as written, booted by the run-qemu command the docs give
    for the ZCU102 model: Xen on all four A53s, and each domU's first line."""
    (documented,) = {c.text for p in PAGES for c in dom0less_spans(p) if "--board zcu102" in c.text}
    environ = {
        **os.environ,
        "DOM0LESS_INPUTS": str(demo_inputs),
        "KERNEL_DTBS": str(kernel_dtbs()),
    }
    out = tmp_path / "out"
    build(EXAMPLES / "boards" / "zcu102.yaml", out, environ)
    argv = [word if word != "DIR" else str(out) for word in documented.split()[1:]]
    markers = [
        "(XEN) Brought up 4 CPUs",
        example_inputs.RTOS_MARKER,  # DOM1 holds Xen 4.20's console input: no prefix
        f"DOM2: {example_inputs.LINUX_MARKER}",
    ]
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "dom0less"), *argv, "--timeout", "180"]
        + [item for marker in markers for item in ("--expect", marker)],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )
    assert result.returncode == 0, f"{documented}\n{result.stdout[-6000:]}\n{result.stderr}"
