"""The 4.21+ split: the hardware domain that serves xenstore and runs the generated services
needs the control capability too (init-dom0less, booted in tests/e2e/test_split.py)."""

from __future__ import annotations

import subprocess

from xen_dom0less import outputs
from xen_dom0less.generator.pipeline import build

from .test_cooperation import DISK, NET, pv, with_dom0
from .test_rules import both, direct_mapped, set_key
from .test_validate import problems_of


def split(*capabilities: str):
    """Xen 4.22, no dom0: rtos the hardware domain with ``capabilities``, linux in xenstore."""
    return both(
        set_key("xen.version", "4.22"),
        set_key("domains.0.capabilities", list(capabilities)),
        set_key("domains.0.vpl011", False),
        direct_mapped(0),
        set_key("domains.1.xenstore", "enabled"),
    )


def test_a_hardware_and_xenstore_domain_without_control_is_refused(describe):
    assert problems_of(describe, split("hardware", "xenstore")) == [
        "domains[0] (rtos).capabilities: the hardware domain runs the generated services, "
        "whose init-dom0less lists the domains and reads their xenstore event channels, "
        "which Xen lets only a control domain do: add control"
    ]


def test_with_control_it_passes(describe):
    assert problems_of(describe, split("control", "hardware", "xenstore")) == []


def test_without_dom0_the_services_skip_xen_init_dom0_and_let_control_domains_read_names(
    describe, tmp_path
):
    """xen-init-dom0 would wait for a dom0 that does not exist; a control domain's xl reads
    each domain's name, so each name is made readable to it (domain 2 here)."""
    change = both(
        split("control", "hardware", "xenstore"),
        set_key("domains.1.capabilities", ["control"]),
    )
    build(describe(change), tmp_path / "out")
    path = tmp_path / "out" / outputs.SERVICES_SCRIPT
    subprocess.run(["sh", "-n", path], check=True)
    script = path.read_text()
    assert "xen-init-dom0" not in script
    assert script.index("\nname 2 linux\n") < script.index("\nreadable 1 r2\nreadable 2 r2\n")
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("xenstored", "xenconsoled", "init-dom0less", "xenstore-write", "pidof"):
        (tools / name).write_text("#!/bin/sh\nexit 0\n")
    (tools / "xenstore-chmod").write_text(f'#!/bin/sh\necho "$@" >>{tmp_path}/chmod\n')
    for tool in tools.iterdir():
        tool.chmod(0o755)
    run = subprocess.run(
        ["sh", path],
        env={"PATH": f"{tools}:/usr/bin:/bin", "XEN_BIN": str(tools)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (run.returncode, run.stderr) == (0, "")
    assert (tmp_path / "chmod").read_text().splitlines() == [
        "/local/domain/1/name n1 r2",
        "/local/domain/2/name n2 r2",
    ]


def test_without_dom0_the_hardware_domain_says_who_it_is_and_serves_each_device(describe, tmp_path):
    """libxl in a domain other than dom0 reads its own domid from xenstore (nothing else
    writes it there) and xl's default backend is domain 0: both booted in
    tests/e2e/test_split.py, where without them every attach failed."""
    devices = pv(network=[NET], block=[DISK])
    build(describe(both(split("control", "hardware", "xenstore"), devices)), tmp_path / "out")
    script = (tmp_path / "out" / outputs.SERVICES_SCRIPT).read_text()
    assert '"$(tool xenstore-write)" /local/domain/1/domid 1' in script
    assert script.index("/local/domain/1/domid") < script.index("\nattach ")
    assert "network-attach linux bridge=xenbr0 backend=rtos\n" in script
    assert "block-attach linux format=raw,vdev=xvda,access=rw,backend=rtos,target=" in script


def test_dom0_still_puts_itself_into_xenstore_and_reads_every_name(describe, tmp_path):
    build(describe(both(with_dom0, set_key("domains.1.xenstore", "enabled"))), tmp_path / "out")
    script = (tmp_path / "out" / outputs.SERVICES_SCRIPT).read_text()
    assert '"$(tool xen-init-dom0)"' in script
    assert "readable" not in script
