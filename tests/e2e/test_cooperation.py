"""Domains that cooperate: a dom0 running the generated services manages the dom0less domains.

The seed's reason for keeping a dom0: monitor the system, stop and start domains. dom0 runs
the dom0less-services.sh the build wrote (xenstored, init-dom0less, names), then ``xl list``
must name both dom0less domUs with their memory and vCPUs, ``xl destroy`` stops one, and
``xl create`` starts a third domain from dom0. With PV devices, dom0 also serves them: a
domU's netfront and blkfront reach dom0 over the generated bridge and disk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from xen_dom0less_harness.guests import frontend, xl_dom0
from xen_dom0less_harness.guests.baremetal import Program

from xen_dom0less import outputs

from .conftest import Workspace

pytestmark = pytest.mark.e2e

#: One line of ``xl list``: name, domid, memory (MiB), vCPUs.
XL_LIST_LINE = r"^{name}\s+{domid}\s+{memory}\s+{vcpus}\s"


def listed(console: str, name: str, domid: int, memory: int, vcpus: int = 1) -> int:
    """How many ``xl list`` outputs on ``console`` show the domain so."""
    line = XL_LIST_LINE.format(name=name, domid=domid, memory=memory, vcpus=vcpus)
    return len(re.findall(line, console, re.MULTILINE))


def with_dom0(ws: Workspace, domains: list[dict]) -> tuple[dict, dict, Path]:
    """The description of ``domains`` beside a Linux dom0 on hvc0 (its ramdisk a placeholder
    until the test writes the one holding the generated services), the dom0 entry to give
    that ramdisk, and the services script the build wrote."""
    document, dom0 = ws.with_linux_dom0(domains, "placeholder")
    return document, dom0, ws.build(document) / outputs.SERVICES_SCRIPT


@pytest.mark.parametrize("release", sorted(xl_dom0.TOOLSTACKS), ids=lambda r: f"xen{r}")
def test_dom0_runs_the_generated_services_and_manages_the_dom0less_domains(
    release, tmp_path, guest_inputs, virt_dtb
):
    """On each release Debian ships the tools of (4.22's are not packaged: built from source,
    they are left for later), with that release's tools in dom0."""
    ws = Workspace(tmp_path, guest_inputs, virt_dtb, xen_version=release)
    markers = ["linux1: init running", "linux2: init running"]
    domains = [
        {
            "name": f"linux{i}",
            "kernel": str(ws.inputs.kernel),
            "ramdisk": str(ws.initrd(f"linux{i}", marker)),
            "cmdline": "console=ttyAMA0 quiet",
            "memory": "128M",
            "xenstore": "enabled",
        }
        for i, marker in enumerate(markers, 1)
    ]
    document, dom0, services = with_dom0(ws, domains)
    third = ws.bare("third", Program("third: started from dom0"))
    dom0["ramdisk"] = str(
        xl_dom0.write_managing(
            services,
            "linux1",
            third,
            16,
            "dom0: services done",
            ws.inputs.kernel,
            ws.root / "dom0-managing.cpio",
            release=ws.xen_version,
        )
    )
    expect = [
        *markers,
        "dom0less-services: ready",
        "dom0: services done",
        "dom0less: destroyed linux1",
        "third: started from dom0",
    ]
    result = ws.boot(document, expect, timeout=300)
    console = result.console.replace("\r", "")
    assert listed(console, "linux1", 1, 128) == 1  # listed before the destroy only
    assert listed(console, "linux2", 2, 128) == 2
    assert listed(console, xl_dom0.GUEST, 3, 16) == 1
    assert "ERROR" not in console.split("dom0: services done")[0]


#: The disk the backend dom0 prepares and serves, and the bridge its vifs join.
DISK = xl_dom0.Disk("/srv/linux1.img", "hello", "served by dom0 through blkback")
BRIDGE = "xenbr0"
#: A disk target the backend does not have: the services must say which device and why.
MISSING = "/srv/missing.img"
BACKEND_ADDRESS, GUEST_ADDRESS = "192.168.77.1", "192.168.77.2"


def pv_domus(ws: Workspace, disk: xl_dom0.Disk) -> list[dict]:
    """linux1, with a PV network interface on BRIDGE and ``disk`` as xvda, whose init
    checks both from inside (pings the backend, mounts and reads the disk), and linux2,
    whose disk names a file the backend does not have."""
    linux1 = frontend.write(
        "linux1",
        f"{GUEST_ADDRESS}/24",
        BACKEND_ADDRESS,
        "xvda",
        disk.file,
        ws.inputs.busybox,
        ws.inputs.kernel,
        ws.root / "linux1.cpio",
    )
    network = {"bridge": BRIDGE, "mac": "00:16:3e:00:00:01"}
    return [
        {
            "name": "linux1",
            "kernel": str(ws.inputs.kernel),
            "ramdisk": str(linux1),
            "cmdline": "console=ttyAMA0 quiet",
            "memory": "128M",
            "xenstore": "enabled",
            "pv": {"network": [network], "block": [{"target": disk.path, "vdev": "xvda"}]},
        },
        {
            "name": "linux2",
            "kernel": str(ws.inputs.kernel),
            "ramdisk": str(ws.initrd("linux2", "linux2: init running")),
            "cmdline": "console=ttyAMA0 quiet",
            "memory": "128M",
            "xenstore": "enabled",
            "pv": {"block": [{"target": MISSING, "vdev": "xvdb"}]},
        },
    ]


def serve_and_boot(
    ws: Workspace,
    document: dict,
    services: Path,
    backend: dict,
    name: str,
    disk: xl_dom0.Disk,
    stack: xl_dom0.Toolstack,
    also: Sequence[str] = (),
) -> str:
    """Give ``backend`` (dom0, or the hardware domain ``name``) an initramfs that runs the
    generated ``services`` with ``stack``'s tools and serves ``disk``, boot ``document``
    (pv_domus' domUs, and any other domain whose lines ``also`` are awaited too), and check
    the evidence: from inside linux1, its netfront ``eth0`` pings the backend over the
    generated bridge and its blkfront disk is mounted and read, each only after the services
    said the device was attached; for linux2, the services say its disk's file is missing in
    ``name``; no other ERROR than those awaited. Returns the console."""
    done = f"{name}: services done"
    backend["ramdisk"] = str(
        xl_dom0.write_backend(
            services,
            disk,
            BRIDGE,
            f"{BACKEND_ADDRESS}/24",
            done,
            ws.inputs.kernel,
            stack,
            ws.root / f"{name}-backend.cpio",
        )
    )
    net_attached = f"dom0less-services: linux1: network on bridge {BRIDGE}: attached"
    disk_attached = f"dom0less-services: linux1: disk xvda from {disk.path}: attached"
    failed = (
        f"dom0less-services: ERROR linux2: disk xvdb from {MISSING}: {MISSING} does not exist"
        f" in {name}"
    )
    holds = f"linux1: xvda from blkfront holds: {disk.text}"
    expect = [
        "linux1: init running",
        "linux2: init running",
        net_attached,
        disk_attached,
        failed,
        done,
        "linux1: eth0 from netfront, 00:16:3e:00:00:01",
        f"linux1: pinged {BACKEND_ADDRESS} over the bridge",
        holds,
        *also,
    ]
    result = ws.boot(document, expect, timeout=400)
    console = result.console.replace("\r", "")
    assert f"{failed}\n" in console
    unexpected = console
    for line in expect:
        unexpected = unexpected.replace(line, "")
    assert "ERROR" not in unexpected, console[-6000:]
    # the frontend connects only once the backend's hotplug script is done: the first reply
    # and the mounted disk come after the services said the device was attached
    reply = re.search(rf"bytes from {re.escape(BACKEND_ADDRESS)}: seq=\d+ ttl=64", console)
    assert reply and console.index(net_attached) < reply.start()
    assert console.index(disk_attached) < console.index(holds)
    return console


#: Debian's releases with their own tools, and 4.22 built from its source with the tools
#: built from the same source (a xenbuild test).
PV_RELEASES = ["4.17", "4.20", pytest.param("4.22", marks=pytest.mark.xenbuild)]


@pytest.mark.parametrize("release", PV_RELEASES, ids=lambda r: f"xen{r}")
def test_pv_network_and_block_reach_a_dom0less_domu(
    release, request, tmp_path, guest_inputs, virt_dtb
):
    """dom0 (the tools of the release, the kernel's backends, Xen's own hotplug scripts of
    the same release) runs the generated services: linux1's netfront ``eth0`` pings dom0
    over the generated bridge and its blkfront disk, a file in dom0, is mounted and read;
    linux2's disk names a file that does not exist, and the services say so on the
    console."""
    if release == "4.22":  # Xen and its tools built from the release source
        built, stack = (request.getfixturevalue(f) for f in ("xen_422_build", "xen_422_tools"))
    else:
        built, stack = None, xl_dom0.TOOLSTACKS[release]
    ws = Workspace(tmp_path, guest_inputs, virt_dtb, xen_version=release, built=built)
    document, dom0, services = with_dom0(ws, pv_domus(ws, DISK))
    serve_and_boot(ws, document, services, dom0, "dom0", DISK, stack)
