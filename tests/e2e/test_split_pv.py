"""PV devices in the 4.21+ split, booted on Xen 4.22: no dom0.

The hardware domain (capabilities control, hardware and xenstore; docs/cooperation.md says
why control too) runs the generated services with Xen 4.22's tools built from the release
source and their own hotplug scripts, and serves the PV devices with the kernel's backends:
an enhanced Linux domU's netfront ``eth0`` pings it over the generated bridge and its
blkfront disk, a file in the hardware domain, is mounted and read. A second domU's disk
names a file the hardware domain does not have, and the services say so on the console.
The evidence is read from inside the guests.
"""

from __future__ import annotations

import re

import pytest
from xen_dom0less_harness.guests import frontend, xl_dom0

from xen_dom0less import outputs

from .conftest import Workspace
from .test_cooperation import BRIDGE, GUEST_ADDRESS, MISSING

pytestmark = pytest.mark.e2e

DISK = xl_dom0.Disk("/srv/linux1.img", "hello", "served by the hardware domain through blkback")
HW_ADDRESS = "192.168.77.1"


def test_an_enhanced_domu_uses_pv_devices_the_hardware_domain_serves(
    ws422: Workspace, xen_422_tools
):
    ws = ws422
    kernel = ws.inputs.kernel
    hardware = {
        "name": "hwdom",
        "kernel": str(kernel),
        "ramdisk": str(ws.initrd("hwdom", "placeholder")),
        "cmdline": "console=hvc0 quiet",
        "memory": "256M",
        "capabilities": ["control", "hardware", "xenstore"],
        "vpl011": False,
        # Without an IOMMU Xen builds the hardware domain only on the host's layout.
        "static_memory": [{"address": 0x60000000, "size": "256M"}],
        "direct_map": True,
    }
    linux1 = frontend.write(
        "linux1",
        f"{GUEST_ADDRESS}/24",
        HW_ADDRESS,
        "xvda",
        DISK.file,
        ws.inputs.busybox,
        kernel,
        ws.root / "linux1.cpio",
    )
    domus = [
        {
            "name": "linux1",
            "kernel": str(kernel),
            "ramdisk": str(linux1),
            "cmdline": "console=ttyAMA0 quiet",
            "memory": "128M",
            "xenstore": "enabled",
            "pv": {
                "network": [{"bridge": BRIDGE, "mac": "00:16:3e:00:00:01"}],
                "block": [{"target": DISK.path, "vdev": "xvda"}],
            },
        },
        {
            "name": "linux2",
            "kernel": str(kernel),
            "ramdisk": str(ws.initrd("linux2", "linux2: init running")),
            "cmdline": "console=ttyAMA0 quiet",
            "memory": "128M",
            "xenstore": "enabled",
            "pv": {"block": [{"target": MISSING, "vdev": "xvdb"}]},
        },
    ]
    document = ws.description(
        [hardware, *domus], host={"dtb": str(ws.dtb), "disable": ["/pl061@9030000"]}
    )
    services = ws.build(document) / outputs.SERVICES_SCRIPT
    hardware["ramdisk"] = str(
        xl_dom0.write_backend(
            services,
            DISK,
            BRIDGE,
            f"{HW_ADDRESS}/24",
            "hwdom: services done",
            kernel,
            xen_422_tools,
            ws.root / "hw-backend.cpio",
        )
    )
    net_attached = f"dom0less-services: linux1: network on bridge {BRIDGE}: attached"
    disk_attached = f"dom0less-services: linux1: disk xvda from {DISK.path}: attached"
    failed = f"dom0less-services: ERROR linux2: disk xvdb from {MISSING}: {MISSING} does not exist"
    expect = [
        "linux1: init running",
        "linux2: init running",
        net_attached,
        disk_attached,
        failed,
        "hwdom: services done",
        "linux1: eth0 from netfront, 00:16:3e:00:00:01",
        f"linux1: pinged {HW_ADDRESS} over the bridge",
        f"linux1: xvda from blkfront holds: {DISK.text}",
    ]
    result = ws.boot(document, expect, timeout=400)
    console = result.console.replace("\r", "")
    assert f"{failed} in hwdom\n" in console
    assert "ERROR" not in console.replace(failed, ""), console[-6000:]
    reply = re.search(rf"bytes from {re.escape(HW_ADDRESS)}: seq=\d+ ttl=64", console)
    assert reply and console.index(net_attached) < reply.start()
    assert console.index(disk_attached) < console.index(expect[-1])
