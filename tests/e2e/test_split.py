"""The 4.21+ split of dom0's powers, booted on Xen 4.22 as one system: no dom0.

A hardware domain (capabilities control, hardware and xenstore; docs/cooperation.md says
why control too) runs the generated services with Xen 4.22's tools built from the release
source and their own hotplug scripts, and serves the PV devices with the kernel's backends.
A separate control domain (capabilities: [control], xenstore enabled) waits until the
services introduced it, then runs ``xl list``, which must name every domain with its memory
and vCPUs, as the hardware domain's own listing does. An enhanced Linux domU's netfront
``eth0`` pings the hardware domain over the generated bridge and its blkfront disk, a file
in the hardware domain, is mounted and read; a second domU's disk names a file the hardware
domain does not have, and the services say so. The evidence is read from each domain's own
console lines.
"""

from __future__ import annotations

import os
import re

import pytest
from xen_dom0less_harness.guests import split, xl_dom0

from xen_dom0less import outputs

from .conftest import Workspace
from .test_cooperation import listed, pv_domus, serve_and_boot

pytestmark = pytest.mark.e2e

DISK = xl_dom0.Disk("/srv/linux1.img", "hello", "served by the hardware domain through blkback")
#: Every domain in domid order, with its memory in MiB (one vCPU each).
DOMAINS = {"hwdom": 256, "control": 192, "linux1": 128, "linux2": 128}
#: The control domain's console lines, as Xen prints them (its domid is 2).
CONTROL_LINES = r"DOM2: (.*)"


def domain(ws: Workspace, name: str, memory: str, **keys) -> dict:
    """A Linux domain whose ramdisk is a placeholder until the test writes its own."""
    return {
        "name": name,
        "kernel": str(ws.inputs.kernel),
        "ramdisk": str(ws.initrd(name, "placeholder")),
        "cmdline": "console=ttyAMA0 quiet",
        "memory": memory,
        **keys,
    }


def boot_split(ws: Workspace, tools, also: list[str], asks_early: bool = False) -> str:
    """Boot the split: the hardware domain runs the services, serves the PV devices and
    lists the domains; the control domain lists them too (after asking xenstore too early,
    if ``asks_early``); the enhanced domUs use their PV devices. Returns the console."""
    hardware = domain(
        ws,
        "hwdom",
        "256M",
        cmdline="console=hvc0 quiet",
        capabilities=["control", "hardware", "xenstore"],
        vpl011=False,
        # Without an IOMMU Xen builds the hardware domain only on the host's layout.
        static_memory=[{"address": 0x60000000, "size": "256M"}],
        direct_map=True,
    )
    control = domain(ws, "control", "192M", capabilities=["control"], xenstore="enabled")
    document = ws.description(
        [hardware, control, *pv_domus(ws, DISK)],
        host={"dtb": str(ws.dtb), "disable": ["/pl061@9030000"]},
    )
    assert [d["name"] for d in document["domains"]] == list(DOMAINS)
    services = ws.build(document) / outputs.SERVICES_SCRIPT
    assert "xen-init-dom0" not in services.read_text()
    control["ramdisk"] = str(
        split.write_control(
            list(DOMAINS),
            "control: listed",
            ws.inputs.kernel,
            tools,
            ws.root / "control.cpio",
            asks_early=asks_early,
        )
    )
    return serve_and_boot(ws, document, services, hardware, "hwdom", DISK, tools, also)


def test_a_control_domain_lists_every_domain_the_hardware_domain_serves_without_dom0(
    ws422: Workspace, xen_422_tools
):
    console = boot_split(ws422, xen_422_tools, ["control: listed"])
    # the hardware domain's listing (hvc0: raw lines), before its marker
    own = console.split("hwdom: services done", 1)[0]
    control = "\n".join(re.findall(CONTROL_LINES, console))
    for domid, (name, memory) in enumerate(DOMAINS.items(), 1):
        assert listed(own, name, domid, memory) == 1, f"{name} not listed:\n{own[-3000:]}"
        assert listed(control, name, domid, memory) == 1, f"{name} not listed:\n{control[-3000:]}"


@pytest.mark.skipif(
    not os.environ.get("DOM0LESS_SPLIT_EARLY"),
    reason="by hand: shows why a guest waits for its introduction (docs/cooperation.md)",
)
def test_a_control_domain_asking_xenstore_before_its_introduction_never_connects(
    ws422: Workspace, xen_422_tools
):
    """Linux's xenbus_probe is started by the early request and waits for ever in xs_init
    for the answer xenstored dropped when it reset the ring at the introduction."""
    stuck = "control: ERROR xenbus not connected"
    console = boot_split(ws422, xen_422_tools, [stuck, "xenbus_probe_thread+"], asks_early=True)
    waits = console.split(stuck, 1)[1]
    assert re.search(r"DOM2: \[<0>\] xs_talkv\+.*\n.*DOM2: \[<0>\] xs_single\+", waits), waits
    assert re.search(r"DOM2: \[<0>\] xs_init\+.*\n.*DOM2: \[<0>\] xenbus_probe\+", waits), waits
    assert "control: listed" not in console
