"""Features newer than 4.17, booted on Xen 4.20 from Debian trixie, each with its proof.

Those Debian's build lacks (LLC colouring, SVE, static memory and shared memory,
cpupools) boot on Xen 4.20.4 built from its release source with tests/xen-features.cfg
(``xen_420_build``, cached between sessions); the others on Debian's own 4.20.
What QEMU cannot show is said where it matters.
"""

from __future__ import annotations

import re

import pytest
from xen_dom0less_harness import example_inputs, runner
from xen_dom0less_harness.guests.baremetal import Program
from xen_dom0less_harness.machine import Machine

from .conftest import Workspace
from .test_passthrough import io_domain_given_the_partial_tree, pl061_reader

pytestmark = pytest.mark.e2e

SWITCH_INPUT = b"\x01" * 3
#: From 4.20 a dom0less Xen gives console input to DOM1 first; three Ctrl-a move it on to
#: DOM2, then to Xen, whose debug keys then dump state.
TO_XEN_THEN = (
    ("Serial input to DOM1", SWITCH_INPUT),
    ("Serial input to DOM2", SWITCH_INPUT),
)


#: Xen 4.17 gives console input to DOM0 first even with no dom0.
CONSOLE_TO_XEN = {
    "4.17": (("Serial input to DOM0", SWITCH_INPUT), *TO_XEN_THEN),
    "4.20": TO_XEN_THEN,
    "4.22": TO_XEN_THEN,
}


def on_built_xen(ws: Workspace, document: dict, build) -> dict:
    document["xen"].update(image=str(build.xen), config=str(build.config), version="4.20")
    return document


@pytest.fixture
def ws420(tmp_path, guest_inputs, virt_dtb) -> Workspace:
    return Workspace(tmp_path, guest_inputs, virt_dtb, xen_version="4.20")


def test_llc_colours_xen_reports_for_each_domain(ws420, xen_420_build):
    """Xen's 'q' dump lists the colours each domain got (QEMU has no cache to measure)."""
    ws = ws420
    domains = [
        {"name": "a", "kernel": str(ws.bare("a", Program("a: up"))), "memory": "16M"},
        {"name": "b", "kernel": str(ws.bare("b", Program("b: up"))), "memory": "16M"},
    ]
    domains[0]["llc_colors"] = "1-3"
    domains[1]["llc_colors"] = "4-7,9"
    document = ws.description(domains)
    # QEMU's caches report no geometry Xen can use: give it, 2 MiB 16-way = 32 colours.
    document["xen"]["llc_coloring"] = {"size": "2M", "ways": 16, "xen_colors": "0"}
    result = ws.boot(
        on_built_xen(ws, document, xen_420_build),
        ["a: up", "b: up", "3 LLC colors: { 1-3 }", "5 LLC colors: { 4-7, 9 }"],
        timeout=60,
        keys=(*TO_XEN_THEN, ("Serial input to Xen", b"q")),
    )
    assert "Number of LLC colors supported: 32" in result.console or "LLC" in result.console


def test_static_heap_is_where_xen_takes_its_heap(ws420, xen_420_build):
    """Xen builds domains from xen,static-heap only.

    A domain cannot see its host pages, and Xen's 'Checking for static heap' line is
    printed before its console exists, so the proof is capacity: with the heap confined
    to 64 MiB at 0x80000000 a 16 MiB domain boots and a 62 MiB one (which the generator
    lets through: it fits, but not with Xen's own allocations) cannot be allocated
    (the board has 2 GiB).
    """
    ws = ws420
    kernel = str(ws.bare("a", Program("a: up")))

    def system(memory: str) -> dict:
        document = ws.description([{"name": "a", "kernel": kernel, "memory": memory}])
        document["xen"]["static_heap"] = [{"address": 0x80000000, "size": "64M"}]
        return on_built_xen(ws, document, xen_420_build)

    ws.boot(system("16M"), ["a: up"], timeout=60)
    refused = runner.boot(
        ws.build(system("62M")), ["a: up"], timeout=60, machine=ws.machine, work=ws.root / "q2"
    )
    assert not refused.ok
    assert "Failed to allocate requested domain memory" in refused.console, refused.console[-3000:]


def test_shared_memory_without_a_host_address(ws420, xen_420_build):
    """4.19+: Xen picks the host pages; the borrower reads what the owner wrote."""
    ws = ws420
    owner_view, borrower_view, word = 0x50000000, 0x51000000, 0x600DF00D
    owner = ws.bare("owner", Program("shm owner: up", write=(owner_view, word)))
    borrower = ws.bare("borrower", Program("shm borrower: up", poll=borrower_view))
    document = ws.description(
        [
            {
                "name": "owner",
                "kernel": str(owner),
                "memory": "16M",
                "shared_memory": [{"id": "ring", "guest_address": owner_view, "role": "owner"}],
            },
            {
                "name": "borrower",
                "kernel": str(borrower),
                "memory": "16M",
                "shared_memory": [
                    {"id": "ring", "guest_address": borrower_view, "role": "borrower"}
                ],
            },
        ],
        shared_memory=[{"id": "ring", "size": "4K"}],
    )
    ws.boot(
        on_built_xen(ws, document, xen_420_build),
        ["shm owner: up", f"read 0x{borrower_view:016x} = 0x{word:016x}"],
        timeout=60,
    )


def test_sve_vector_length_seen_by_linux(guest_inputs, xen_420_build, tmp_path):
    """QEMU's 'max' CPU has SVE; the domU's Linux reports the 256-bit length Xen gave it."""
    machine = Machine(cpu="max")
    ws = Workspace(tmp_path, guest_inputs, machine.dumpdtb(tmp_path / "max.dtb"), machine, "4.20")
    marker = "sve guest: init running"
    domains = [
        {
            "name": "linux",
            "kernel": str(ws.inputs.kernel),
            "ramdisk": str(ws.initrd("linux", marker)),
            "cmdline": "console=ttyAMA0",  # not quiet: the SVE line is informational
            "memory": "256M",
            "sve": 256,
        }
    ]
    result = ws.boot(on_built_xen(ws, ws.description(domains), xen_420_build), [marker], 180)
    assert "SVE: maximum available vector length 32 bytes per vector" in result.console


@pytest.fixture(params=["4.17", "4.20", "4.22"], ids=["xen4.17", "xen4.20", "xen4.22"])
def built_ws(request, tmp_path, guest_inputs, virt_dtb) -> Workspace:
    """A workspace booting each release built from source (tests/xen-features.cfg), in turn."""
    built = request.getfixturevalue(f"xen_{request.param.replace('.', '')}_build")
    return Workspace(tmp_path, guest_inputs, virt_dtb, xen_version=request.param, built=built)


@pytest.mark.xenbuild
def test_cpupool_and_direct_mapped_static_memory(built_ws, monkeypatch):
    """The partitioned example on 4.17, 4.20 and 4.22: the direct-mapped guest runs at its
    host bank, and Xen's 'r' dump puts its vCPU on its pool's CPU under the null scheduler."""
    ws = built_ws
    inputs = example_inputs.write_inputs(ws.inputs)
    monkeypatch.setenv("DOM0LESS_INPUTS", str(inputs))
    rtos = str(inputs / "rtos-direct.bin")
    document = ws.description(
        [
            {
                "name": "rtos",
                "kernel": rtos,
                "static_memory": [{"address": 0x60000000, "size": "16M"}],
                "direct_map": True,
                "cpupool": "rt",
            },
            {"name": "b", "kernel": str(ws.bare("b", Program("b: up"))), "memory": "16M"},
        ],
        cpupools=[{"name": "rt", "cpus": [3], "scheduler": "null"}],
    )
    loaded = "load address 0x0000000060000000"
    result = ws.boot(
        document,
        [example_inputs.RTOS_MARKER, loaded, "unit=d1v0"],
        timeout=60,
        # Switching console input makes Xen print between the focused guest's raw characters,
        # which split its line ('DOM1: d address ...' was seen): no key before the line is out.
        keys=((loaded, b""), *CONSOLE_TO_XEN[ws.xen_version], ("Serial input to Xen", b"r")),
    )
    pool = result.console[result.console.index("Cpupool 1:") :]
    assert re.search(r"Scheduler: null Scheduler", pool), pool
    assert re.search(r"CPU\[03\] sibling=.*, unit=d1v0", pool), pool


def test_passthrough_property_on_debian_xen(ws420):
    """passthrough = "disabled" (4.19+) with a device given without an IOMMU.

    QEMU's virt machine has no SMMU, so "enabled" and "disabled" cannot differ here; the
    proof is that Xen takes the property and the PL061 still answers at the guest address.
    """
    ws = ws420
    guest, expect = pl061_reader(ws)
    document = io_domain_given_the_partial_tree(ws, guest, iommu=False)
    result = ws.boot(document, expect, timeout=30)
    assert "Failed to assign device" not in result.console


def test_grant_limits_are_read_by_xen(ws420):
    """A bare-metal guest cannot query its grant table, so Xen's refusal is the proof:
    with Xen's own limit lowered to version 1 (gnttab=max_ver:1), a domain asking for
    max_grant_version 1 boots and one asking for 2 is refused."""
    ws = ws420
    kernel = str(ws.bare("g", Program("g: up")))

    def system(version: int) -> dict:
        grant = {"version": version, "frames": 4, "maptrack_frames": 8}
        document = ws.description(
            [{"name": "g", "kernel": kernel, "memory": "16M", "grant": grant}]
        )
        document["xen"]["extra_bootargs"] += " gnttab=max_ver:1"
        return document

    ws.boot(system(1), ["g: up"], timeout=30)
    refused = runner.boot(
        ws.build(system(2)), ["g: up"], timeout=30, machine=ws.machine, work=ws.root / "q2"
    )
    assert not refused.ok
    assert "Error creating domain g" in refused.console, refused.console[-3000:]
