"""Domains that cooperate: a dom0 running the generated services manages the dom0less domains.

The seed's reason for keeping a dom0: monitor the system, stop and start domains. dom0 runs
the dom0less-services.sh the build wrote (xenstored, init-dom0less, names), then ``xl list``
must name both dom0less domUs with their memory and vCPUs, ``xl destroy`` stops one, and
``xl create`` starts a third domain from dom0.
"""

from __future__ import annotations

import re

import pytest
from xen_dom0less_harness.guests import xl_dom0
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
    dom0 = {
        "kernel": str(ws.inputs.kernel),
        "ramdisk": str(ws.initrd("dom0", "placeholder")),
        "cmdline": "console=hvc0 quiet",
        "memory": "512M",
    }
    document = ws.description(
        domains, dom0=dom0, host={"dtb": str(ws.dtb), "disable": ["/pl061@9030000"]}
    )
    services = ws.build(document) / outputs.SERVICES_SCRIPT
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
