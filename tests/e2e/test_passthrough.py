"""A virt platform device given to a bare-metal domU answers at the guest address we chose."""

from __future__ import annotations

import pytest
from xen_dom0less_harness.guests.baremetal import Program

pytestmark = pytest.mark.e2e

HOST_GPIO = 0x9030000
#: A guest address unlike the host one, so a read there proves Xen's xen,reg mapping.
GUEST_GPIO = 0x23000000
#: PrimeCell ID registers: peripheral ID 0-3 then cell ID 0-3.
ID_OFFSETS = range(0xFE0, 0x1000, 4)
PL061_IDS = (0x61, 0x10, 0x04, 0x00, 0x0D, 0xF0, 0x05, 0xB1)

PARTIAL_DTS = f"""/dts-v1/;

/ {{
    #address-cells = <2>;
    #size-cells = <2>;

    gic: gic {{
        #interrupt-cells = <3>;
        interrupt-controller;
    }};

    passthrough {{
        compatible = "simple-bus";
        ranges;
        #address-cells = <2>;
        #size-cells = <2>;

        gpio@{GUEST_GPIO:x} {{
            compatible = "arm,pl061", "arm,primecell";
            reg = <0x0 {GUEST_GPIO:#x} 0x0 0x1000>;
            interrupt-parent = <&gic>;
            interrupts = <0 7 4>;
            xen,reg = <0x0 {HOST_GPIO:#x} 0x0 0x1000 0x0 {GUEST_GPIO:#x}>;
            xen,path = "/pl061@{HOST_GPIO:x}";
            xen,force-assign-without-iommu;
        }};
    }};
}};
"""


def pl061_reader(ws) -> tuple[str, list[str]]:
    """A bare-metal guest reading the PL061's ID registers at GUEST_GPIO, and what it prints."""
    reads = tuple(GUEST_GPIO + offset for offset in ID_OFFSETS)
    guest = ws.bare("io", Program("io: reading PL061 IDs", reads=reads))
    lines = [f"read 0x{address:016x} = 0x{value:016x}" for address, value in zip(reads, PL061_IDS)]
    return str(guest), ["io: reading PL061 IDs", *lines]


def io_domain_given_the_partial_tree(ws, kernel: str, **more) -> dict:
    """The description of the 'io' domain given PARTIAL_DTS for QEMU's PL061."""
    partial = ws.root / "io.dts"
    partial.write_text(PARTIAL_DTS)
    domain = {
        "name": "io",
        "kernel": kernel,
        "device_tree": str(partial),
        "passthrough": [f"/pl061@{HOST_GPIO:x}"],
        **more,
        "memory": "16M",
    }
    return ws.description([domain])


def test_pl061_passthrough_to_baremetal_domu(each_xen):
    ws = each_xen
    guest, expect = pl061_reader(ws)
    result = ws.boot(io_domain_given_the_partial_tree(ws, guest), expect, timeout=30)
    assert "Failed to assign device" not in result.console
    assert "is already used by domain" not in result.console


def test_generated_passthrough_to_baremetal_domu(each_xen):
    """No device_tree: the partial tree is generated from QEMU's own PL061 node."""
    ws = each_xen
    guest, expect = pl061_reader(ws)
    device = {"path": f"/pl061@{HOST_GPIO:x}", "guest_address": GUEST_GPIO}
    document = ws.description(
        [{"name": "io", "kernel": guest, "passthrough": [device], "memory": "16M"}]
    )
    result = ws.boot(document, expect, timeout=30)
    assert "Failed to assign device" not in result.console
