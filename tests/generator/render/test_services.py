"""dom0less-services.sh and its unit: written only when domains cooperate, and as described."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from xen_dom0less import outputs
from xen_dom0less.errors import UserError
from xen_dom0less.generator.pipeline import build, services

from ..check.test_cooperation import DISK, NET, pv, with_dom0
from ..check.test_rules import both


def test_a_true_dom0less_system_gets_no_services(describe, tmp_path):
    build(describe(), tmp_path / "out")
    assert not (tmp_path / "out" / outputs.SERVICES_SCRIPT).exists()
    assert not (tmp_path / "out" / outputs.SERVICES_UNIT).exists()


def test_the_script_names_the_domains_and_attaches_each_device(describe, tmp_path):
    mac = {**NET, "mac": "00:16:3e:00:00:01"}
    build(describe(both(with_dom0, pv(network=[mac], block=[DISK]))), tmp_path / "out")
    script = (tmp_path / "out" / outputs.SERVICES_SCRIPT).read_text()
    subprocess.run(["sh", "-n", tmp_path / "out" / outputs.SERVICES_SCRIPT], check=True)
    body = script.split("\nname 1 ", 1)[1]
    assert body.splitlines()[:5] == [
        "rtos",
        "name 2 linux",
        "bridge xenbr0",
        # xl network-attach takes each setting as its own argument (one "bridge=x,mac=y"
        # became the bridge's name in a real boot and the vif's hotplug failed)
        "attach 'linux: network on bridge xenbr0' network-attach linux bridge=xenbr0"
        " mac=00:16:3e:00:00:01",
        "disk 'linux: disk xvda from /srv/linux.img' /srv/linux.img block-attach linux"
        " format=raw,vdev=xvda,access=rw,target=/srv/linux.img",
    ]
    assert script.index("init-dom0less") < script.index("\nname 1 rtos")
    unit = (tmp_path / "out" / outputs.SERVICES_UNIT).read_text()
    assert f"ExecStart={outputs.SERVICES_INSTALL_PATH}" in unit


def test_a_failing_step_names_its_device_and_the_script_goes_on(describe, tmp_path):
    """Run for real with stand-ins for Xen's tools: the failing attach and the disk whose
    file is missing are named (xl is not asked for that one), exit 1."""
    image = tmp_path / "linux.img"
    image.write_bytes(b"")
    missing = {"target": str(tmp_path / "missing.img"), "vdev": "xvdb"}
    disks = [{**DISK, "target": str(image)}, missing]
    build(describe(both(with_dom0, pv(network=[NET], block=disks))), tmp_path / "out")
    tools = tmp_path / "bin"
    tools.mkdir()
    xl = f'echo "$@" >>{tmp_path}/xl\ncase $1 in network-attach) exit 1;; esac'
    for name, status in (("xl", xl), ("pidof", "")):
        (tools / name).write_text(f"#!/bin/sh\n{status}\nexit 0\n")
    for name in (
        "xenstored",
        "xen-init-dom0",
        "xenconsoled",
        "init-dom0less",
        "xenstore-write",
        "ip",
        "brctl",
    ):
        (tools / name).write_text("#!/bin/sh\nexit 0\n")
    for tool in tools.iterdir():
        tool.chmod(0o755)
    run = subprocess.run(
        ["sh", tmp_path / "out" / outputs.SERVICES_SCRIPT],
        env={"PATH": f"{tools}:/usr/bin:/bin", "XEN_BIN": str(tools)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "dom0less-services: ERROR linux: network on bridge xenbr0: xl network-attach failed"
        " (xl's reason is above)",
        f"dom0less-services: ERROR linux: disk xvdb from {missing['target']}:"
        f" {missing['target']} does not exist in dom0",
    ]
    assert f"dom0less-services: linux: disk xvda from {image}: attached" in run.stdout
    assert [line.split()[0] for line in (tmp_path / "xl").read_text().splitlines()] == [
        "network-attach",
        "block-attach",
    ]
    assert "ready" not in run.stdout


def test_services_alone_are_what_the_build_writes_with_no_other_file_at_hand(describe, tmp_path):
    """An image holding them is built before the boot files (which wait for it): they may
    read neither an image nor the board's tree."""
    system = describe(both(with_dom0, pv(network=[NET], block=[DISK])))
    build(system, tmp_path / "out")
    names = (outputs.SERVICES_SCRIPT, outputs.SERVICES_UNIT)
    built = {name: (tmp_path / "out" / name).read_bytes() for name in names}
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.copy(system, moved / system.name)  # its inputs and host.dtb no longer beside it
    text = (moved / system.name).read_text()
    (moved / system.name).write_text(text.replace(str(tmp_path), "/nowhere"))
    alone = services(moved / system.name)
    assert alone == built


def test_services_alone_are_none_for_a_true_dom0less_system(describe):
    assert services(describe()) == {}


def test_services_alone_refuse_what_the_services_cannot_serve(describe):
    no_xenstore = both(with_dom0, pv(network=[NET]), lambda d: d["domains"][1].pop("xenstore"))
    with pytest.raises(UserError) as error:
        services(describe(no_xenstore))
    assert [line.split(": ", 1)[1] for line in error.value.lines] == [
        "domains[1] (linux).pv: PV devices are set up through xenstore, which this domain "
        "does not have: set xenstore: enabled"
    ]
