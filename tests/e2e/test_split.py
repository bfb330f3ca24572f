"""The 4.21+ split of dom0's powers, booted on Xen 4.22: no dom0.

A hardware domain (capabilities control, hardware and xenstore; docs/cooperation.md says
why control too) runs the generated services with Xen 4.22's tools built from the release
source, then ``xl list``. A separate control domain (capabilities: [control], xenstore
enabled) waits until the services introduced it, then runs ``xl list`` too. Each listing
must name every domain: the hardware domain, the control domain and an enhanced Linux domU
(xenstore: enabled), each with its memory and vCPUs. The evidence is read from each
domain's own console lines.
"""

from __future__ import annotations

import os
import re

import pytest
from xen_dom0less_harness.guests import split

from xen_dom0less import outputs

from .conftest import Workspace

pytestmark = pytest.mark.e2e

#: One line of ``xl list``: name, domid, memory (MiB), vCPUs.
XL_LIST_LINE = r"^{name}\s+{domid}\s+{memory}\s+1\s"


def linux(ws: Workspace, name: str, memory: str, **keys) -> dict:
    marker = f"{name}: init running"
    ramdisk = str(ws.initrd(name, marker))
    cmdline = "console=ttyAMA0 quiet"
    return {
        "name": name,
        "kernel": str(ws.inputs.kernel),
        "ramdisk": ramdisk,
        "cmdline": cmdline,
        "memory": memory,
        **keys,
    }


def boot_split(ws: Workspace, tools, expect: list[str], asks_early: bool = False):
    """Boot the split: the hardware domain runs the services and lists the domains, the
    control domain lists them too (after asking xenstore too early, if ``asks_early``)."""
    hardware = linux(
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
    control = linux(ws, "control", "192M", capabilities=["control"], xenstore="enabled")
    domu = linux(ws, "linux", "128M", xenstore="enabled")
    document = ws.description(
        [hardware, control, domu], host={"dtb": str(ws.dtb), "disable": ["/pl061@9030000"]}
    )
    services = ws.build(document) / outputs.SERVICES_SCRIPT
    assert "xen-init-dom0" not in services.read_text()
    hardware["ramdisk"] = str(
        split.write_hardware(
            services, "hwdom: listed", ws.inputs.kernel, tools, ws.root / "hw.cpio"
        )
    )
    control["ramdisk"] = str(
        split.write_control(
            ["hwdom", "control", "linux"],
            "control: listed",
            ws.inputs.kernel,
            tools,
            ws.root / "control.cpio",
            asks_early=asks_early,
        )
    )
    result = ws.boot(document, expect, timeout=300)
    return result.console.replace("\r", "")


def test_a_hardware_domain_runs_the_services_and_lists_every_domain_without_dom0(
    ws422: Workspace, xen_422_tools
):
    expect = ["linux: init running", "dom0less-services: ready", "hwdom: listed"]
    console = boot_split(ws422, xen_422_tools, [*expect, "control: listed"])
    listing = console.split("dom0less-services: ready", 1)[1].split("hwdom: listed", 1)[0]
    own = "\n".join(re.findall(r"DOM2: (.*)", console))  # the control domain's, as Xen prints them
    for name, domid, memory in (("hwdom", 1, 256), ("control", 2, 192), ("linux", 3, 128)):
        line = XL_LIST_LINE.format(name=name, domid=domid, memory=memory)
        assert re.search(line, listing, re.MULTILINE), f"{name} not listed:\n{listing[:2000]}"
        assert re.search(line, own, re.MULTILINE), f"{name} not listed by control:\n{own[-3000:]}"
    assert "ERROR" not in console


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
    expect = ["dom0less-services: ready", stuck, "xenbus_probe_thread+"]
    console = boot_split(ws422, xen_422_tools, expect, asks_early=True)
    waits = console.split(stuck, 1)[1]
    assert re.search(r"DOM2: \[<0>\] xs_talkv\+.*\n.*DOM2: \[<0>\] xs_single\+", waits), waits
    assert re.search(r"DOM2: \[<0>\] xs_init\+.*\n.*DOM2: \[<0>\] xenbus_probe\+", waits), waits
    assert "control: listed" not in console
