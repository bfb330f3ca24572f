"""The host tree checked as Xen's boot code reads it (generator/check/host_rules.py).

Each case changes QEMU's virt tree in one way Xen cannot boot on (the Xen function
that panics or gives up is named in the rule) and asserts the exact problem list the
rules add; without the rule the list is empty and the case fails. The last tests
build the three trees of issue 27 through the CLI: one line each, exit 1, no output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import fdt
import pytest

from xen_dom0less.cli import main

from ...conftest import QEMU_DTB
from .test_rules import beside_inputs, both, on_a_gicv2_board, set_key
from .test_validate import problems_of

GIC = "/intc@8000000"
UART = "/pl011@9000000"
MEMORY = "/memory@40000000"
GIB = 0x40000000


def board(*edits: Callable[[fdt.FDT], None]):
    """A change giving the description the QEMU tree with ``edits`` made to it."""

    def change(doc: dict) -> None:
        tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
        for edit in edits:
            edit(tree)
        target = beside_inputs(doc, "board.dtb")
        target.write_bytes(tree.to_dtb(version=17))
        doc["host"]["dtb"] = str(target)

    return change


def set_prop(path: str, name: str, value) -> Callable[[fdt.FDT], None]:
    return lambda tree: tree.set_property(name, value, path=path)


def drop_prop(path: str, name: str) -> Callable[[fdt.FDT], None]:
    return lambda tree: tree.get_node(path).remove_property(name)


def drop_node(path: str) -> Callable[[fdt.FDT], None]:
    parent, _, name = path.rpartition("/")
    return lambda tree: tree.remove_node(name, parent or "/")


def rename_node(path: str, name: str) -> Callable[[fdt.FDT], None]:
    def edit(tree: fdt.FDT) -> None:
        tree.get_node(path).set_name(name)

    return edit


def banks(*pairs: tuple[int, int]) -> Callable[[fdt.FDT], None]:
    return set_prop(MEMORY, "reg", [w for a, s in pairs for w in (0, a, 0, s)])


def cpus_without(name: str, *indices: int) -> list[Callable[[fdt.FDT], None]]:
    return [drop_prop(f"/cpus/cpu@{i}", name) for i in indices]


NO_GIC = (
    "host.dtb: no interrupt controller Xen drives (a node with interrupt-controller and "
    "compatible arm,gic-v3 or arm,gic-400 or arm,cortex-a15-gic or arm,cortex-a7-gic): Xen "
    "panics 'Unable to find compatible interrupt controller': give the board's full DTB"
)
PANIC = "Xen panics 'Unable to find compatible interrupt controller'"
SILENT = "so Xen's driver skips it and Xen boots printing nothing"
FIRMWARE = "; if the firmware adds it at boot, give the DTB it passes on (/sys/firmware/fdt)"
TWICE = (
    "Xen would take it as more RAM than the board has and hand the same pages out "
    "twice: list each bank once"
)

CASES = [
    # (id, change, exact problems)
    ("no-gic", board(drop_node(GIC)), [NO_GIC]),
    (
        "gic-xen-has-no-driver-for",  # cortex-a9-gic is not in DT_MATCH_GIC_V2
        board(set_prop(GIC, "compatible", "arm,cortex-a9-gic")),
        [NO_GIC],
    ),
    (
        "gic-disabled",
        board(set_prop(GIC, "status", "disabled")),
        [f'host.dtb: {GIC} (the GIC) is disabled: {PANIC}: set its status to "okay"'],
    ),
    (
        "gic-not-an-interrupt-controller",
        board(drop_prop(GIC, "interrupt-controller")),
        [f"host.dtb: {GIC} is a GIC without the interrupt-controller property: {PANIC}: add it"],
    ),
    (
        "gic-for-passthrough",
        board(set_prop(GIC, "xen,passthrough", None)),
        [f"host.dtb: {GIC} (the GIC) is marked xen,passthrough: {PANIC}: remove that property"],
    ),
    (
        "gicv2-three-regions",
        both(
            on_a_gicv2_board,
            board(set_prop(GIC, "compatible", "arm,gic-400"), set_prop(GIC, "reg", [0, 1] * 6)),
        ),
        [
            f"host.dtb: {GIC} (GICv2) has 3 of the 4 reg regions Xen reads (distributor, "
            "CPU, hypervisor and virtual CPU interfaces) and panics 'Cannot find a valid "
            "address': give them all"
        ],
    ),
    (
        "gicv3-redistributor-regions",
        board(set_prop(GIC, "#redistributor-regions", 2)),
        [
            f"host.dtb: {GIC} (GICv3) has 2 of the 3 reg regions Xen reads (distributor and "
            "redistributor regions) and panics 'Cannot find a valid address': give them all"
        ],
    ),
    (
        "gic-distributor-unaligned",
        board(set_prop(GIC, "reg", [0, 0x8000800, 0, 0x10000, 0, 0x80A0000, 0, 0xF60000])),
        [
            f"host.dtb: {GIC} (GICv3) region at 0x08000800 is not 4 KiB aligned and Xen "
            "panics on it: fix the node's reg"
        ],
    ),
    (
        "gic-without-maintenance-interrupt",
        board(drop_prop(GIC, "interrupts")),
        [
            f"host.dtb: {GIC} (GICv3) has no maintenance interrupt wired to itself and Xen "
            "panics 'Cannot find the maintenance IRQ': add interrupts = <1 9 4> (PPI 9)"
        ],
    ),
    (
        "memory-bank-repeated-and-inside",  # issue 27: the same 2 GiB twice, a bank inside
        board(banks((GIB, 2 * GIB), (GIB, 2 * GIB), (0x50000000, 0x10000000))),
        [
            f"host.dtb: {MEMORY} reg lists RAM twice (0x40000000-0xc0000000 repeats "
            "0x40000000-0xc0000000; 0x50000000-0x60000000 overlaps 0x40000000-0xc0000000): " + TWICE
        ],
    ),
    (
        "memory-node-overlapping-another",
        board(
            lambda tree: tree.add_item(fdt.Node("memory@80000000"), "/"),
            set_prop("/memory@80000000", "device_type", "memory"),
            set_prop("/memory@80000000", "reg", [0, 0x80000000, 0, GIB]),
        ),
        [
            "host.dtb: /memory@80000000 reg lists RAM twice (0x80000000-0xc0000000 overlaps "
            f"0x40000000-0xc0000000 of {MEMORY}): " + TWICE
        ],
    ),
    (
        "memory-node-misnamed",  # early_scan_node matches "memory" and "memory@..." only
        board(rename_node(MEMORY, "ram@40000000")),
        [
            "host.dtb: /ram@40000000 has device_type memory, but Xen reads RAM only from "
            "nodes named memory or memory@ADDRESS and would not use it: rename the node"
        ],
    ),
    (
        "memory-node-disabled",
        board(
            lambda tree: tree.add_item(fdt.Node("memory@c0000000"), "/"),
            set_prop("/memory@c0000000", "device_type", "memory"),
            set_prop("/memory@c0000000", "reg", [0, 0xC0000000, 0, GIB]),
            set_prop("/memory@c0000000", "status", "disabled"),
        ),
        [
            "host.dtb: /memory@c0000000 is disabled, so Xen leaves its RAM out: set its "
            'status to "okay" or delete the node'
        ],
    ),
    (
        "memory-node-without-reg",
        board(
            lambda tree: tree.add_item(fdt.Node("memory@c0000000"), "/"),
            set_prop("/memory@c0000000", "device_type", "memory"),
        ),
        [
            "host.dtb: /memory@c0000000 has no reg and Xen panics 'Early FDT parsing "
            "failed': give its banks or delete the node"
        ],
    ),
    (
        "console-disabled",  # issue 27: the boot printed nothing and timed out
        board(set_prop(UART, "status", "disabled")),
        [
            f"host.dtb: Xen's console {UART} is disabled, {SILENT}: set its status to "
            '"okay" or choose another UART (xen.console)'
        ],
    ),
    (
        "console-for-passthrough",
        board(set_prop(UART, "xen,passthrough", None)),
        [
            f"host.dtb: Xen's console {UART} is marked xen,passthrough, {SILENT}: remove "
            "that property or choose another UART (xen.console)"
        ],
    ),
    (
        "console-without-reg",
        board(drop_prop(UART, "reg")),
        [
            f"host.dtb: Xen's console {UART} has no registers Xen can map (reg), {SILENT}: "
            "fix its reg or choose another UART (xen.console)"
        ],
    ),
    (
        "console-without-interrupt",
        board(drop_prop(UART, "interrupts")),
        [
            f"host.dtb: Xen's console {UART} has no interrupt wired to the GIC, {SILENT}: "
            "fix its interrupts or choose another UART (xen.console)"
        ],
    ),
    (
        "console-named-by-xen-console",
        both(board(set_prop(UART, "status", "fail")), set_key("xen.console", UART)),
        [
            f"xen.console: Xen's console {UART} is disabled, {SILENT}: set its status to "
            '"okay" or choose another UART (xen.console)'
        ],
    ),
    (
        "secondary-cpus-without-enable-method",
        board(*cpus_without("enable-method", 1, 2, 3)),
        [
            "host.dtb: /cpus/cpu@1, /cpus/cpu@2, /cpus/cpu@3: no enable-method, so Xen "
            'leaves it off: add enable-method = "psci" (or "spin-table" with '
            "cpu-release-addr)" + FIRMWARE
        ],
    ),
    (
        "cpu-unknown-enable-method",
        board(set_prop("/cpus/cpu@2", "enable-method", "arm,rpi-spin")),
        [
            'host.dtb: /cpus/cpu@2: enable-method "arm,rpi-spin", which Xen does not know '
            "(only psci and spin-table), so Xen leaves it off: use one of those"
        ],
    ),
    (
        "spin-table-without-release-address",
        board(set_prop("/cpus/cpu@3", "enable-method", "spin-table")),
        [
            "host.dtb: /cpus/cpu@3: spin-table without a non-zero 64-bit cpu-release-addr, so Xen "
            "leaves it off: add the release address the firmware spins on"
        ],
    ),
    (
        "psci-by-hvc",  # Xen runs at EL2: psci_is_smc_method refuses anything but smc
        board(set_prop("/psci", "method", "hvc")),
        [
            "host.dtb: /cpus/cpu@1, /cpus/cpu@2, /cpus/cpu@3: started with PSCI, but /psci "
            "has method 'hvc', and Xen calls PSCI only with smc, so Xen leaves it off: fix it"
            + FIRMWARE
        ],
    ),
    (
        "no-psci-node",
        board(drop_node("/psci")),
        [
            "host.dtb: /cpus/cpu@1, /cpus/cpu@2, /cpus/cpu@3: started with PSCI, but the "
            "tree has no PSCI node (compatible arm,psci-1.0), so Xen leaves it off: fix it"
            + FIRMWARE
        ],
    ),
    (
        "cpus-address-cells-wider-than-reg",
        board(set_prop("/cpus", "#address-cells", 2)),
        [
            f"host.dtb: /cpus/cpu@{i} reg is missing or shorter than #address-cells = <2> "
            "of /cpus, so Xen skips this CPU: fix its reg or /cpus #address-cells"
            for i in range(4)
        ],
    ),
    (
        "cpu-duplicate-reg",
        board(set_prop("/cpus/cpu@3", "reg", 1)),
        [
            "host.dtb: /cpus/cpu@3 has the reg of /cpus/cpu@1 (0x1), so Xen skips this CPU: "
            "give each CPU its own MPIDR in reg"
        ],
    ),
    (
        "cpu-reg-not-an-mpidr",
        board(set_prop("/cpus/cpu@1", "reg", 0x1000001)),
        [
            "host.dtb: /cpus/cpu@1 reg 0x1000001 is not an MPIDR affinity (bits 24-31 or "
            "above 39 set), so Xen skips this CPU: fix its reg"
        ],
    ),
    (
        "no-timer",
        board(drop_node("/timer")),
        [
            "host.dtb: no timer node (compatible arm,armv7-timer or arm,armv8-timer): Xen "
            "panics 'Unable to find a compatible timer in the device tree': give the "
            "board's full DTB"
        ],
    ),
    (
        "timer-clock-frequency-below-1khz",
        board(set_prop("/timer", "clock-frequency", 100)),
        [
            "host.dtb: /timer clock-frequency = <100> is below 1 kHz and Xen panics 'Timer "
            "frequency is less than 1 KHz': give the counter's frequency or drop it"
        ],
    ),
    (
        "timer-three-interrupts",
        board(set_prop("/timer", "interrupts", [1, 13, 4, 1, 14, 4, 1, 11, 4])),
        [
            "host.dtb: /timer has no hyp-phys interrupt Xen's GIC can read and Xen panics "
            "'Timer: Unable to retrieve IRQ': give its four PPIs (secure, non-secure "
            "physical, virtual and hypervisor timers)"
        ],
    ),
    (
        "timer-interrupt-names-without-virt",  # 4.20+: platform_get_irq_byname looks names up
        both(
            set_key("xen.version", "4.20"),
            board(
                set_prop("/timer", "interrupt-names", ["sec-phys", "phys", "hyp-virt", "hyp-phys"])
            ),
        ),
        [
            "host.dtb: /timer has no virt interrupt Xen's GIC can read and Xen panics "
            "'Timer: Unable to retrieve IRQ': give its four PPIs (secure, non-secure "
            "physical, virtual and hypervisor timers)"
        ],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in CASES], ids=[i for i, _, _ in CASES]
)
def test_host_rule_gives_exactly(describe, change, expected):
    assert problems_of(describe, change) == expected


CASES.append(
    (
        "timer-interrupt-names-out-of-order-on-4.17",  # 4.17 reads them by position
        board(set_prop("/timer", "interrupt-names", ["phys", "sec-phys", "virt", "hyp-phys"])),
        [
            "host.dtb: /timer interrupt-names (phys, sec-phys, virt, hyp-phys) are not in the "
            "order sec-phys, phys, virt, hyp-phys, and Xen 4.17 takes the timer's interrupts "
            "by position, so it would wait on the wrong PPIs: put them in that order"
        ],
    )
)

ACCEPTED = [
    # trees Xen boots on that the rules must not refuse
    ("gicv2", on_a_gicv2_board),
    ("first-cpu-without-enable-method", board(*cpus_without("enable-method", 0))),
    (
        "spin-table",
        board(
            *[set_prop(f"/cpus/cpu@{i}", "enable-method", "spin-table") for i in range(4)],
            *[set_prop(f"/cpus/cpu@{i}", "cpu-release-addr", [0, 0x400000F8]) for i in range(4)],
            drop_node("/psci"),
        ),
    ),
    ("psci-0.1-with-cpu-on", board(set_prop("/psci", "compatible", "arm,psci"))),
    ("armv7-timer", board(set_prop("/timer", "compatible", "arm,armv7-timer"))),
    (
        "timer-interrupts-by-name-on-4.20",
        both(
            set_key("xen.version", "4.20"),
            board(
                set_prop("/timer", "interrupts", [1, 10, 4, 1, 11, 4, 1, 14, 4, 1, 13, 4]),
                set_prop("/timer", "interrupt-names", ["hyp-phys", "virt", "phys", "sec-phys"]),
            ),
        ),
    ),
    (
        "timer-interrupt-names-in-order-on-4.17",
        board(set_prop("/timer", "interrupt-names", ["sec-phys", "phys", "virt", "hyp-phys"])),
    ),
    ("console-status-ok", board(set_prop(UART, "status", "ok"))),
    (
        "console-interrupt-through-a-nexus",  # dt_irq_map_raw follows interrupt-map to the GIC
        board(
            lambda tree: tree.add_item(fdt.Node("nexus"), "/"),
            set_prop("/nexus", "phandle", 0x9000),
            set_prop("/nexus", "#address-cells", 0),
            set_prop("/nexus", "#interrupt-cells", 1),
            set_prop("/nexus", "interrupt-map", [0, 0x8005, 0, 0, 0, 1, 4]),
            set_prop(UART, "interrupt-parent", 0x9000),
            set_prop(UART, "interrupts", 0),
        ),
    ),
    ("adjacent-banks", board(banks((GIB, GIB), (2 * GIB, GIB)))),
]


@pytest.mark.parametrize("change", [c for _, c in ACCEPTED], ids=[i for i, _ in ACCEPTED])
def test_host_rules_accept(describe, change):
    assert problems_of(describe, change) == []


@pytest.mark.parametrize(
    ("case", "line"),
    [("no-gic", NO_GIC), ("memory-bank-repeated-and-inside", TWICE), ("console-disabled", SILENT)],
)
def test_issue_trees_refused_by_build(describe, tmp_path: Path, capsys, case, line):
    """Issue 27's trees: `build` exits 1 with one line naming the problem and writes nothing."""
    change = dict((i, c) for i, c, _ in CASES)[case]
    out = tmp_path / "out"
    assert main(["build", str(describe(change)), "-o", str(out)]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and line in errors[0]
    assert not out.exists()
