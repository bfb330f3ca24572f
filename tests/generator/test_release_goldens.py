"""What CI cannot boot, rendered and checked: the releases no Debian suite ships (4.21, 4.22)
and the 4.20 features whose boots need 4.20's source (static heap, an XSM policy, a cpupool
on CPUs without phandles, sve: true).

Each example in examples/releases/ uses every binding of its release that can be
combined; the golden is the /chosen subtree Xen reads, the host nodes dom0less changed
and the Kconfig fragment, small enough to review line by line against that release's
docs/misc/arm/device-tree/booting.txt. UPDATE_GOLDENS=1 rewrites them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from xen_dom0less.generator.pipeline import build

from ..conftest import EXAMPLES
from .test_examples import GOLDEN, changed_host_nodes, compare, dts

RELEASES = sorted((EXAMPLES / "releases").glob("*.yaml"))


def chosen_subtree(tree_text: str) -> str:
    """The /chosen node of a decompiled tree, as a source dtc compiles on its own."""
    lines = tree_text.splitlines()
    start = lines.index("\tchosen {")
    end = lines.index("\t};", start)
    return "/dts-v1/;\n\n/ {\n" + "\n".join(lines[start : end + 1]) + "\n};\n"


def dtc_compiles(source: str) -> subprocess.CompletedProcess:
    """dtc with every check on but one: booting.txt itself names shared-memory and
    event-channel nodes shm@ADDR / evtchn@PORT without a reg property."""
    return subprocess.run(
        ["dtc", "-W", "no-unit_address_vs_reg", "-I", "dts", "-O", "dtb", "-o", "/dev/null", "-"],
        input=source,
        capture_output=True,
        text=True,
    )


def test_every_release_ci_cannot_boot_has_an_example():
    assert [r.stem for r in RELEASES] == ["xen-4.20", "xen-4.21", "xen-4.22"]


@pytest.mark.parametrize("example", RELEASES, ids=[r.stem for r in RELEASES])
def test_release_example_chosen_matches_golden(example: Path, inputs: Path, tmp_path: Path):
    out = tmp_path / "out"
    plan = build(example, out)
    chosen = chosen_subtree(dts(out / plan.dtb.file))
    compare(chosen, GOLDEN / "releases" / f"{example.stem}.chosen.dts")
    host = changed_host_nodes(out / plan.dtb.file, plan.system.host.dtb)
    compare(host, GOLDEN / "releases" / f"{example.stem}.host.dts")
    compare((out / "xen-kconfig.cfg").read_text(), GOLDEN / "releases" / f"{example.stem}.cfg")
    compiled = dtc_compiles(chosen)
    assert (compiled.returncode, compiled.stderr) == (0, ""), compiled.stderr


def test_dtc_check_of_the_subtree_can_fail():
    """The dtc check refuses a broken subtree (so a passing one means something)."""
    compiled = dtc_compiles("/dts-v1/;\n/ { chosen { cpus = <0x1 ; }; };\n")
    assert compiled.returncode != 0
