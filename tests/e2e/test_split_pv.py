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

import pytest
from xen_dom0less_harness.guests import xl_dom0

from xen_dom0less import outputs

from .conftest import Workspace
from .test_cooperation import pv_domus, serve_and_boot

pytestmark = pytest.mark.e2e

DISK = xl_dom0.Disk("/srv/linux1.img", "hello", "served by the hardware domain through blkback")


def test_an_enhanced_domu_uses_pv_devices_the_hardware_domain_serves(
    ws422: Workspace, xen_422_tools
):
    ws = ws422
    hardware = {
        "name": "hwdom",
        "kernel": str(ws.inputs.kernel),
        "ramdisk": str(ws.initrd("hwdom", "placeholder")),
        "cmdline": "console=hvc0 quiet",
        "memory": "256M",
        "capabilities": ["control", "hardware", "xenstore"],
        "vpl011": False,
        # Without an IOMMU Xen builds the hardware domain only on the host's layout.
        "static_memory": [{"address": 0x60000000, "size": "256M"}],
        "direct_map": True,
    }
    document = ws.description(
        [hardware, *pv_domus(ws, DISK)], host={"dtb": str(ws.dtb), "disable": ["/pl061@9030000"]}
    )
    services = ws.build(document) / outputs.SERVICES_SCRIPT
    serve_and_boot(ws, document, services, hardware, "hwdom", DISK, xen_422_tools)
