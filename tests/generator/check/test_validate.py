"""One case per rule of generator/check/rules.py, each asserting the exact problem list.

The rules run on their own (rules.check on the loaded description and the
board's tree), so a case shows what its rule adds and nothing else: an extra,
missing or duplicated problem fails it. Each change breaks the valid base
description (tests/conftest.py) in one way Xen would punish at boot.
"""

from __future__ import annotations

from pathlib import Path

import fdt
import pytest

from xen_dom0less.errors import Problems
from xen_dom0less.generator.check import rules
from xen_dom0less.generator.read import description
from xen_dom0less.generator.read.host_input import load_host

from ...conftest import QEMU_DTB
from .test_rules import (
    STATIC,
    beside_inputs,
    both,
    config_without,
    direct_mapped,
    on_a_board_with_an_smmu,
    on_a_gicv2_board,
    set_key,
)

RTOS = "domains[0] (rtos)"
LINUX = "domains[1] (linux)"
RAM = "0x40000000-0xc0000000"


def board_without(*edits: tuple[str, str]):
    """A change giving the description the QEMU board with nodes or properties removed."""

    def change(doc: dict) -> None:
        tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
        for kind, path in edits:
            if kind == "node":
                tree.remove_node(path.rsplit("/", 1)[1], path.rsplit("/", 1)[0] or "/")
            else:
                node, _, name = path.rpartition("/")
                tree.get_node(node).remove_property(name)
        target = beside_inputs(doc, "board.dtb")
        target.write_bytes(tree.to_dtb(version=17))
        doc["host"]["dtb"] = str(target)

    return change


def board_with_empty_memory_node(doc: dict) -> None:
    """A board whose firmware fills the memory node's size in at boot (reg size 0)."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    tree.set_property("reg", [0, 0x40000000, 0, 0], path="/memory@40000000")
    target = beside_inputs(doc, "board.dtb")
    target.write_bytes(tree.to_dtb(version=17))
    doc["host"]["dtb"] = str(target)


def board_named(name: str):
    def change(doc: dict) -> None:
        target = beside_inputs(doc, name)
        target.write_bytes(QEMU_DTB.read_bytes())
        doc["host"]["dtb"] = str(target)

    return change


def board_with_control_char_in_stdout_path(doc: dict) -> None:
    """The board's stdout-path with a DEL byte (the fdt library refuses to write one)."""
    data = QEMU_DTB.read_bytes()
    assert data.count(b"/pl011@9000000\0") == 1
    target = beside_inputs(doc, "board.dtb")
    target.write_bytes(data.replace(b"/pl011@9000000\0", b"/pl011@900000\x7f\0"))
    doc["host"]["dtb"] = str(target)


def with_partial_dt(index: int):
    def change(doc: dict) -> None:
        path = beside_inputs(doc, "partial.dtb")
        path.write_bytes(fdt.FDT().to_dtb(version=17))
        doc["domains"][index]["device_tree"] = str(path)

    return change


def with_smmu_v3_driver(doc: dict) -> None:
    """A xen.config with what the cases need and Xen's SMMUv3 driver (ARM_SMMU_V3)."""
    config_without()(doc)
    path = Path(doc["xen"]["config"])
    path.write_text(path.read_text() + "CONFIG_ARM_SMMU_V3=y\n")


#: What a hardware domain Xen would panic on is told (sharing_rules.hardware_domain).
NEEDS_IOMMU = (
    "domains[0] (rtos).capabilities: the hardware domain is not direct-mapped and the "
    "board has no IOMMU Xen drives (or xen's command line turns it off), and Xen panics "
    "'non-direct mapped hardware domain requires iommu': give it static_memory and "
    "direct_map: true (without LLC colouring, which Xen refuses with static memory), or "
    "enable the board's SMMU (an SMMUv3 needs CONFIG_ARM_SMMU_V3=y in xen.config: "
    "Xen's defconfig builds no driver for it)"
)


def on_421(*changes):
    return both(set_key("xen.version", "4.21"), *changes)


def region(ident: str, size: str = "4M", host=None) -> dict:
    found = {"id": ident, "size": size}
    if host is not None:
        found["host_address"] = host
    return found


def use(ident: str, guest: int, role=None) -> dict:
    found = {"id": ident, "guest_address": guest}
    if role:
        found["role"] = role
    return found


CASES = [
    # (id, change, exact problems)
    (
        "feature-too-new",
        set_key("domains.0.sve", 256),
        [
            f"{RTOS}.sve: SVE vector length needs Xen 4.18 or later, but xen.version is 4.17: "
            "upgrade Xen or drop this key"
        ],
    ),
    (
        "no-memory-node",
        board_without(("node", "/memory@40000000")),
        [
            'host.dtb: the device tree has no memory node (device_type = "memory"): give '
            "the board's full DTB or the banks in host.memory",
        ],
    ),
    (
        "memory-node-empty",
        board_with_empty_memory_node,
        [
            "host.dtb: /memory@40000000 has no RAM (a reg of size 0): the board's "
            "firmware fills it in at boot (as the Raspberry Pi's does); give the banks in"
            " host.memory, e.g. memory: [{address: 0x0, size: 0x3b400000}]",
        ],
    ),
    (
        "host-memory-without-node",
        both(
            board_without(("node", "/memory@40000000")),
            set_key("host.memory", [{"address": 0x40000000, "size": "2G"}]),
        ),
        [
            'host.memory: the device tree has no memory node (device_type = "memory") to '
            "write the banks into: give the board's full DTB",
        ],
    ),
    (
        "host-memory-unaligned",
        set_key("host.memory", [{"address": 0x40000100, "size": "1G"}]),
        [
            "host.memory[0]: address and size must be non-zero multiples of 4 KiB",
        ],
    ),
    (
        "host-memory-overlap",
        set_key(
            "host.memory",
            [{"address": 0x40000000, "size": "1G"}, {"address": 0x60000000, "size": "1G"}],
        ),
        [
            "host.memory[0]: overlaps 0x60000000-0xa0000000: banks are disjoint",
        ],
    ),
    (
        "no-cpus",
        board_without(*[("node", f"/cpus/cpu@{i}") for i in range(4)]),
        [
            "host.dtb: the device tree has no /cpus/cpu@N nodes: give the board's full DTB",
        ],
    ),
    (
        "no-stdout-path",
        board_without(("prop", "/chosen/stdout-path")),
        [
            "host.dtb: /chosen has no stdout-path, so Xen's console is unknown: add "
            "stdout-path to the DTB or set xen.bootargs (console=dtuart dtuart=...)",
        ],
    ),
    (
        "host-disable-missing",
        set_key("host.disable", ["/nope"]),
        [
            "host.disable[0]: no node /nope in the host device tree",
        ],
    ),
    (
        "static-heap-unaligned",
        set_key("xen.static_heap", [{"address": 0x70001000, "size": "512M"}]),
        [
            "xen.static_heap[0]: address and size must be 64 KiB aligned",
        ],
    ),
    (
        "static-heap-outside-ram",
        set_key("xen.static_heap", [{"address": 0x10000000, "size": "512M"}]),
        [
            "xen.static_heap[0]: 0x10000000-0x30000000 is not inside one RAM bank of the "
            "board (0x40000000-0xc0000000)",
        ],
    ),
    (
        "static-heap-too-small",
        set_key("xen.static_heap", [{"address": 0x80000000, "size": "256M"}]),
        [
            "xen.static_heap: 256M in all, but the domains' RAM alone takes 272M of it "
            "(Xen allocates it from the static heap only): make the heap larger or the "
            "domains smaller"
        ],
    ),
    (
        "xen-colors-backwards",
        both(set_key("xen.version", "4.20"), set_key("xen.llc_coloring", {"xen_colors": "3-1"})),
        [
            "xen.llc_coloring.xen_colors: '3-1': range 3-1 runs backwards",
        ],
    ),
    (
        "boot-load-empty",
        set_key("boot.load", " "),
        [
            "boot.load: is empty: give tftp, a device such as 'mmc 0:1', or a command run"
            " as 'CMD ADDR FILE'",
        ],
    ),
    (
        "boot-load-no-partition",
        set_key("boot.load", "mmc"),
        [
            "boot.load: 'mmc' needs a device and partition, e.g. 'mmc 0:1'",
        ],
    ),
    (
        "boot-align",
        set_key("boot.align", 12288),
        [
            "boot.align: 12288 must be a power of two of at least 4K",
        ],
    ),
    (
        "boot-load-region-outside-ram",
        set_key("boot.load_region", {"address": 0x10000000, "size": "16M"}),
        [
            "boot.load_region: 0x10000000-0x11000000 is not inside one RAM bank of the "
            "board (0x40000000-0xc0000000)",
        ],
    ),
    (
        "script-address-unaligned",
        set_key("boot.script_address", 0x40200100),
        [
            "boot.script_address: must be 4 KiB aligned",
        ],
    ),
    (
        "fdt-set-string",
        both(
            set_key("boot.device_tree", "fdt-commands"),
            set_key("domains.1.cmdline", "console=ttyAMA0 it's"),
        ),
        [
            "domains[1] (linux).cmdline: holds a single quote ('), which U-Boot's script "
            "parser cannot take literally inside a quoted word (boot.device_tree is "
            "fdt-commands): change it or use boot.device_tree: patched",
        ],
    ),
    (
        "fdt-set-dtb-name",
        both(set_key("boot.device_tree", "fdt-commands"), board_named("virt's.dtb")),
        [
            "host.dtb: the file name \"virt's.dtb\" holds a single quote ('), which "
            "U-Boot's script parser cannot take literally inside a quoted word: rename "
            "the file",
        ],
    ),
    (
        "stdout-path-not-ascii",
        board_with_control_char_in_stdout_path,
        [
            "host.dtb: /chosen stdout-path '/pl011@900000\\\\x7f' holds the control "
            "character U+007F at character 14: only printable ASCII can go into the "
            "device tree and the boot script: fix the DTB or set xen.bootargs "
            "(console=dtuart dtuart=...)",
            "host.dtb: Xen's console /pl011@900000\x7f is neither a node nor an alias of the "
            "host device tree: give a UART's path or alias, or none",
        ],
    ),
    (
        "duplicate-name",
        set_key("domains.1.name", "rtos"),
        [
            "domains: the name 'rtos' is used by 2 domains: names must be unique",
        ],
    ),
    (
        "reserved-name",
        set_key("domains.0.name", "dom0"),
        [
            "domains: 'dom0' is reserved for the control domain: rename that domU",
        ],
    ),
    (
        "duplicate-pool",
        set_key("cpupools", [{"name": "a", "cpus": [1]}, {"name": "a", "cpus": [2]}]),
        [
            "cpupools: the pool name 'a' is used 2 times",
        ],
    ),
    (
        "duplicate-shm-id",
        set_key("shared_memory", [region("x", host=0x70000000), region("x", host=0x71000000)]),
        [
            "shared_memory: the id 'x' is defined 2 times",
        ],
    ),
    (
        "dom0-memory",
        lambda d: d.update(dom0={"kernel": d["domains"][1]["kernel"], "memory": "8M"}),
        [
            "dom0.memory: 8M is too little for a Linux dom0: give at least 16M",
        ],
    ),
    (
        "dom0-vcpus",
        lambda d: d.update(
            dom0={"kernel": d["domains"][1]["kernel"], "memory": "512M", "vcpus": 8}
        ),
        [
            "dom0.vcpus: 8 vCPUs but the board has 4 CPUs: Xen caps dom0 at one vCPU per CPU",
        ],
    ),
    (
        "dom0-colors-backwards",
        both(
            set_key("xen.version", "4.20"),
            set_key("xen.llc_coloring", {}),
            lambda d: d.update(
                dom0={"kernel": d["domains"][1]["kernel"], "memory": "512M", "llc_colors": "5-2"}
            ),
        ),
        [
            "dom0.llc_colors: '5-2': range 5-2 runs backwards",
        ],
    ),
    (
        "dom0-colours-without-colouring",
        both(
            set_key("xen.version", "4.20"),
            lambda d: d.update(
                dom0={"kernel": d["domains"][1]["kernel"], "memory": "512M", "llc_colors": "0-3"}
            ),
        ),
        [
            "dom0.llc_colors: Xen panics on LLC colours while colouring is off: add "
            "xen.llc_coloring (it turns llc-coloring=on)",
        ],
    ),
    (
        "cmdline-too-long",
        set_key("domains.1.cmdline", "x" * 1100),
        [
            "domains[1] (linux).cmdline: 1100 characters, but Xen 4.17 takes at most 1024"
            " (BOOTMOD_MAX_CMDLINE) and panics 'command line too long': shorten it",
        ],
    ),
    (
        "vcpus-too-many",
        set_key("domains.0.vcpus", 200),
        [
            "domains[0] (rtos).vcpus: 200 vCPUs is more than Xen's virtual GIC supports "
            "(128): lower it",
        ],
    ),
    (
        "direct-map-without-static",
        set_key("domains.0.direct_map", True),
        [
            "domains[0] (rtos).direct_map: direct-map needs static_memory: give the host "
            "RAM the guest is mapped 1:1 onto",
        ],
    ),
    (
        "static-memory-unaligned",
        both(
            set_key("domains.0.static_memory", [{"address": 0x60000100, "size": "16M"}]),
            lambda d: d["domains"][0].pop("memory"),
        ),
        [
            "domains[0] (rtos).static_memory[0]: address and size must be non-zero "
            "multiples of 4 KiB",
        ],
    ),
    (
        "static-memory-outside-ram",
        both(
            set_key("domains.0.static_memory", [{"address": 0x10000000, "size": "16M"}]),
            lambda d: d["domains"][0].pop("memory"),
        ),
        [
            "domains[0] (rtos).static_memory[0]: 0x10000000-0x11000000 is not inside one "
            "RAM bank of the board (0x40000000-0xc0000000)",
        ],
    ),
    (
        "colours-backwards",
        both(
            set_key("xen.version", "4.20"),
            set_key("xen.llc_coloring", {}),
            set_key("domains.0.llc_colors", "9-8"),
        ),
        [
            "domains[0] (rtos).llc_colors: '9-8': range 9-8 runs backwards",
        ],
    ),
    (
        "colours-without-colouring",
        both(set_key("xen.version", "4.20"), set_key("domains.0.llc_colors", "0-3")),
        [
            "domains[0] (rtos).llc_colors: Xen panics on LLC colours while colouring is "
            "off: add xen.llc_coloring (it turns llc-coloring=on)",
        ],
    ),
    (
        "colouring-with-static-memory",
        both(
            set_key("xen.version", "4.20"),
            set_key("xen.llc_coloring", {}),
            set_key("domains.0.static_memory", STATIC),
        ),
        [
            "domains[0] (rtos).static_memory: Xen panics on static memory while LLC "
            "colouring is on (xen.llc_coloring): drop one of them",
        ],
    ),
    (
        "espi-on-gicv2",
        on_421(on_a_gicv2_board, set_key("domains.0.nr_spis", 4096)),
        [
            "domains[0] (rtos).nr_spis: 4096 needs extended SPIs, which a GICv2 lacks: "
            "use 960 or fewer",
        ],
    ),
    (
        "espi-gap",
        on_421(set_key("domains.0.nr_spis", 2000)),
        [
            "domains[0] (rtos).nr_spis: 2000 is neither a plain SPI count (at most 960) "
            "nor in the extended-SPI range 4033-5088",
        ],
    ),
    (
        "espi-too-new",
        set_key("domains.0.nr_spis", 4096),
        [
            "domains[0] (rtos).nr_spis: nr_spis above 960 (GICv3.1 extended SPIs) needs "
            "Xen 4.21 or later, but xen.version is 4.17: upgrade Xen or drop this key",
        ],
    ),
    (
        "mpu-without-direct-map",
        both(set_key("xen.version", "4.22"), set_key("domains.0.v8r_el1_msa", "mpu")),
        [
            "domains[0] (rtos).v8r_el1_msa: Xen gives an MPU (PMSA) guest only "
            "direct-mapped static memory: add static_memory and direct_map, or use mmu",
        ],
    ),
    (
        "xenstore-without-dom0",
        set_key("domains.1.xenstore", "enabled"),
        [
            "domains[1] (linux).xenstore: Xen 4.17 runs xenstore only in dom0, and there "
            "is none: add a dom0 or use 'no-xenstore'",
        ],
    ),
    (
        "xenstore-domain-missing",
        on_421(set_key("domains.1.xenstore", "enabled")),
        [
            "domains[1] (linux).xenstore: no domain runs xenstore: add a dom0 or give one"
            " domU capabilities: [xenstore]",
        ],
    ),
    (
        "affinity-vcpu-missing",
        on_421(set_key("domains.0.vcpu_affinity", {"3": "1"})),
        [
            "domains[0] (rtos).vcpu_affinity.3: vCPU 3 does not exist: the domain has 1 "
            "vCPU(s), numbered from 0",
        ],
    ),
    (
        "affinity-cpu-missing",
        on_421(set_key("domains.0.vcpu_affinity", {"0": "2-5"})),
        [
            "domains[0] (rtos).vcpu_affinity.0: CPU 4 does not exist: the board has 4 CPUs (0-3)",
        ],
    ),
    (
        "affinity-backwards",
        on_421(set_key("domains.0.vcpu_affinity", {"0": "3-1"})),
        [
            "domains[0] (rtos).vcpu_affinity.0: '3-1': range 3-1 runs backwards",
        ],
    ),
    (
        "critical-not-first",
        set_key("xen.critical", "linux"),
        [
            "xen.critical: 'linux' is not the first domain: Xen starts the domUs in the order "
            "listed, so move it first (now 'rtos'), or write none",
        ],
    ),
    (
        "critical-unknown",
        set_key("xen.critical", "rots"),
        [
            "xen.critical: 'rots' is not a domain in domains: Xen starts the domUs in the "
            "order listed, so move it first (now 'rtos'), or write none",
        ],
    ),
    (
        "fdt-set-dom0-cmdline",
        both(
            set_key("boot.device_tree", "fdt-commands"),
            lambda d: d.update(
                dom0={"kernel": d["domains"][1]["kernel"], "memory": "512M", "cmdline": "<1>"}
            ),
        ),
        [
            "dom0.cmdline: starts with '<', which U-Boot's fdt set reads as numbers, "
            "not text (boot.device_tree is fdt-commands): change it or use "
            "boot.device_tree: patched"
        ],
    ),
    (
        "cpupool-unknown",
        set_key("domains.0.cpupool", "rt"),
        [
            "domains[0] (rtos).cpupool: no cpupool named 'rt' in cpupools",
        ],
    ),
    (
        "passthrough-missing-node",
        both(with_partial_dt(0), set_key("domains.0.passthrough", ["/nope@0"])),
        [
            "domains[0] (rtos).passthrough[0]: no node /nope@0 in the host device tree: "
            "check the path (dtc -I dtb -O dts shows them)",
        ],
    ),
    (
        "passthrough-console",
        both(with_partial_dt(0), set_key("domains.0.passthrough", ["/pl011@9000000"])),
        [
            "domains[0] (rtos).passthrough[0]: /pl011@9000000 gives 'rtos' 0x09000000-"
            "0x09001000, which overlaps Xen's console UART /pl011@9000000 0x09000000-0x09001000 "
            "at 0x09000000-0x09001000: the guest would drive Xen's own hardware; pass through "
            "another device",
        ],
    ),
    (
        "passthrough-needs-mmio",
        set_key("domains.0.passthrough", ["/psci"]),
        [
            "domains[0] (rtos).passthrough[0]: /psci has no reg Xen could map (none, or a "
            "bus without ranges): pass through a memory-mapped device",
        ],
    ),
    (
        "nr-spis-zero",
        set_key("domains.0.nr_spis", 0),
        [
            "domains[0] (rtos).nr_spis: 0 SPIs leaves the vpl011 console without its "
            "interrupt (SPI 0; the guest runs silently): raise nr_spis to at least 1 or "
            "drop it",
        ],
    ),
    (
        "nr-spis-below-device",
        both(
            with_partial_dt(0),
            set_key("domains.0.passthrough", ["/pl031@9010000"]),
            set_key("domains.0.nr_spis", 2),
        ),
        [
            "domains[0] (rtos).nr_spis: 2 SPIs, but the passed-through /pl031@9010000 "
            "uses SPI 2 (Xen fails to route it and does not build the domain): raise "
            "nr_spis to at least 3 or drop it",
        ],
    ),
    (
        "memory-missing",
        lambda d: d["domains"][0].pop("memory"),
        [
            "domains[0] (rtos): missing 'memory': give the guest's RAM, e.g. memory: 256M",
        ],
    ),
    (
        "memory-zero",
        set_key("domains.0.memory", 0),
        [
            "domains[0] (rtos).memory: must be at least 4K: Xen cannot build a domain without RAM",
        ],
    ),
    (
        "memory-not-kib",
        set_key("domains.0.memory", 5000),
        [
            "domains[0] (rtos).memory: must be a whole number of KiB (Xen's unit)",
        ],
    ),
    (
        "static-memory-mismatch",
        set_key("domains.0.static_memory", [{"address": 0x60000000, "size": "32M"}]),
        [
            "domains[0] (rtos).memory: 16M differs from the static_memory total 32M: make"
            " them equal or drop memory",
        ],
    ),
    (
        "cpupool-cpu-missing",
        set_key("cpupools", [{"name": "rt", "cpus": [7]}]),
        [
            "cpupools[0] (rt).cpus[0]: CPU 7 does not exist: the board has 4 CPUs",
        ],
    ),
    (
        "cpupool-cpu-path-missing",
        set_key("cpupools", [{"name": "rt", "cpus": ["/cpus/cpu@9"]}]),
        [
            "cpupools[0] (rt).cpus[0]: no CPU node /cpus/cpu@9 under /cpus in the host device tree",
        ],
    ),
    (
        "cpupool-cpu-twice",
        set_key("cpupools", [{"name": "a", "cpus": [1]}, {"name": "b", "cpus": ["/cpus/cpu@1"]}]),
        [
            "cpupools[1] (b).cpus[0]: CPU 1 is already in pool 'a': a CPU belongs to one pool only",
        ],
    ),
    (
        "passthrough-twice",
        both(
            with_partial_dt(0),
            with_partial_dt(1),
            set_key("domains.0.passthrough", ["/pl031@9010000"]),
            set_key("domains.1.passthrough", ["/pl031@9010000"]),
        ),
        [
            "domains[1] (linux).passthrough[0]: /pl031@9010000 is already given to "
            "'rtos': a device belongs to one domain only",
        ],
    ),
    (
        "hardware-twice",
        on_421(
            set_key("domains.0.capabilities", ["hardware"]),
            set_key("domains.0.vpl011", False),
            direct_mapped(0),
            set_key("domains.1.capabilities", ["hardware", "control"]),
            set_key("domains.1.vpl011", False),
            direct_mapped(1),
        ),
        [
            "domains: only one domain may have the hardware capability, not rtos, linux",
        ],
    ),
    (
        "hardware-domain-needs-iommu-or-direct-map",
        on_421(set_key("domains.0.capabilities", ["hardware"]), set_key("domains.0.vpl011", False)),
        [
            NEEDS_IOMMU,
        ],
    ),
    (
        "hardware-domain-beside-an-smmu",
        on_421(
            set_key("domains.0.capabilities", ["hardware"]),
            set_key("domains.0.vpl011", False),
            on_a_board_with_an_smmu,
            with_smmu_v3_driver,
        ),
        [],
    ),
    (
        # ARM_SMMU_V3 is EXPERT and off by default (drivers/passthrough/Kconfig): no driver,
        # no iommu_enabled, and the same panic
        "hardware-domain-beside-an-smmu-v3-xen-has-no-driver-for",
        on_421(
            set_key("domains.0.capabilities", ["hardware"]),
            set_key("domains.0.vpl011", False),
            on_a_board_with_an_smmu,
        ),
        [
            NEEDS_IOMMU,
        ],
    ),
    (
        "hardware-domain-beside-an-smmu-xen-turns-off",
        on_421(
            set_key("domains.0.capabilities", ["hardware"]),
            set_key("domains.0.vpl011", False),
            on_a_board_with_an_smmu,
            set_key("xen.extra_bootargs", "iommu=no"),
        ),
        [
            NEEDS_IOMMU,
        ],
    ),
    (
        "xenstore-twice",
        on_421(
            set_key("domains.0.capabilities", ["xenstore"]),
            set_key("domains.1.capabilities", ["xenstore"]),
        ),
        [
            "domains: only one domain may have the xenstore capability, not rtos, linux",
        ],
    ),
    (
        "hardware-domain-devices",
        on_421(
            set_key("domains.0.capabilities", ["hardware"]),
            with_partial_dt(0),
            set_key("domains.0.passthrough", ["/pl031@9010000"]),
            set_key("domains.0.nr_spis", 64),
            set_key("domains.0.iommu", True),
            direct_mapped(0),
        ),
        [
            "domains[0] (rtos).passthrough: the hardware domain owns the host's devices "
            "and Xen takes no partial device tree for it: drop it",
            "domains[0] (rtos).device_tree: the hardware domain owns the host's devices "
            "and Xen panics on its partial device tree: drop it",
            "domains[0] (rtos).nr_spis: the hardware domain owns the host's devices and "
            "Xen panics on nr_spis for it: drop it",
            "domains[0] (rtos).iommu: the hardware domain owns the host's devices and Xen"
            " panics on its passthrough property: drop it",
            "domains[0] (rtos).vpl011: the hardware domain owns the host's devices and "
            "Xen ignores vpl011 for it (it uses the host's UART): set vpl011: false",
        ],
    ),
    (
        "evtchn-self",
        set_key("domains.0.event_channels", [{"port": 10, "peer": "rtos", "peer_port": 11}]),
        [
            "domains[0] (rtos).event_channels[0]: a static event channel connects two "
            "different domains",
        ],
    ),
    (
        "evtchn-unknown-peer",
        set_key("domains.0.event_channels", [{"port": 10, "peer": "ghost", "peer_port": 11}]),
        [
            "domains[0] (rtos).event_channels[0]: no domain named 'ghost'",
        ],
    ),
    (
        "evtchn-port-range",
        set_key("domains.0.event_channels", [{"port": 2000, "peer": "linux", "peer_port": 11}]),
        [
            "domains[0] (rtos).event_channels[0]: domUs have event-channel ports 1-1023: "
            "use a lower port",
        ],
    ),
    (
        "evtchn-port-reused",
        set_key(
            "domains.0.event_channels",
            [
                {"port": 10, "peer": "linux", "peer_port": 11},
                {"port": 10, "peer": "linux", "peer_port": 12},
            ],
        ),
        [
            "event_channels: port 10 of 'rtos' is used by 2 channels: each end needs its own port",
        ],
    ),
    (
        "shm-size",
        set_key("shared_memory", [region("x", "5K", 0x70000000)]),
        [
            "shared_memory[0] (x): size must be a non-zero multiple of 4 KiB",
        ],
    ),
    (
        "shm-host-unaligned",
        set_key("shared_memory", [region("x", "4M", 0x70000100)]),
        [
            "shared_memory[0] (x).host_address: must be 4 KiB aligned",
        ],
    ),
    (
        "shm-host-outside-ram",
        set_key("shared_memory", [region("x", "4M", 0x10000000)]),
        [
            "shared_memory[0] (x): 0x10000000-0x10400000 is not inside one RAM bank of "
            "the board (0x40000000-0xc0000000)",
        ],
    ),
    (
        "shm-unknown-id",
        set_key("domains.0.shared_memory", [use("x", 0x50000000)]),
        [
            "domains[0] (rtos).shared_memory[0]: no shared_memory region with id 'x'",
        ],
    ),
    (
        "shm-guest-unaligned",
        both(
            set_key("shared_memory", [region("x", host=0x70000000)]),
            set_key("domains.0.shared_memory", [use("x", 0x50000100)]),
        ),
        [
            "domains[0] (rtos).shared_memory[0].guest_address: must be 4 KiB aligned",
        ],
    ),
    (
        "shm-two-owners",
        both(
            set_key("shared_memory", [region("x", host=0x70000000)]),
            set_key("domains.0.shared_memory", [use("x", 0x50000000, "owner")]),
            set_key("domains.1.shared_memory", [use("x", 0x50000000, "owner")]),
        ),
        [
            "shared_memory: region 'x' has 2 owners: at most one",
        ],
    ),
    (
        "shm-borrower-without-owner",
        both(
            set_key("shared_memory", [region("x", host=0x70000000)]),
            set_key("domains.0.shared_memory", [use("x", 0x50000000, "borrower")]),
        ),
        [
            "domains[0] (rtos).shared_memory[0].role: region 'x' has a borrower but no "
            "owner: give one domain role: owner, or leave role out everywhere so Xen owns"
            " it",
        ],
    ),
    (
        "shm-direct-map-address",
        both(
            set_key("xen.version", "4.19"),
            set_key("shared_memory", [region("x", host=0x70000000)]),
            set_key("domains.0.static_memory", STATIC),
            set_key("domains.0.direct_map", True),
            set_key("domains.0.shared_memory", [use("x", 0x50000000)]),
        ),
        [
            "domains[0] (rtos).shared_memory[0].guest_address: a direct-mapped domain "
            "sees host addresses: make guest_address equal 0x70000000",
        ],
    ),
    (
        "shm-direct-map-address-before-4.19",
        both(
            set_key("xen.version", "4.18"),
            set_key("shared_memory", [region("x", host=0x70000000)]),
            set_key("domains.0.static_memory", STATIC),
            set_key("domains.0.direct_map", True),
            set_key("domains.0.shared_memory", [use("x", 0x50000000)]),
        ),
        [],
    ),
    (
        "shm-direct-map-no-host",
        both(
            set_key("xen.version", "4.19"),
            set_key("shared_memory", [region("x")]),
            set_key("domains.0.static_memory", STATIC),
            set_key("domains.0.direct_map", True),
            set_key("domains.0.shared_memory", [use("x", 0x60000000)]),
        ),
        [
            "domains[0] (rtos).shared_memory[0]: region 'x' has no host_address, but a "
            "direct-mapped domain needs one (Xen maps it 1:1): give it a host_address",
        ],
    ),
    (
        "arinc653-without-a-control-domain",
        both(
            set_key("cpupools", [{"name": "rt", "cpus": [3], "scheduler": "arinc653"}]),
            set_key("domains.0.cpupool", "rt"),
        ),
        [
            "domains[0] (rtos): runs under the arinc653 scheduler, but there is no control "
            "domain: Xen's arinc653 puts only the control domain's vCPUs in its boot "
            "schedule and only the control domain can install another, so this domain would "
            "never run: choose another scheduler for its pool, or add a dom0 to install the "
            "schedule",
        ],
    ),
    (
        "arinc653-default-without-a-control-domain-on-4.21",
        on_421(set_key("xen.extra_bootargs", "sched=arinc653")),
        [
            f"{name}: runs under the arinc653 scheduler, but there is no control domain: "
            "Xen's arinc653 puts only the control domain's vCPUs in its boot schedule and "
            "only the control domain can install another, so this domain would never run: "
            "choose another scheduler for its pool, or add a dom0 (or give a domU "
            "capabilities: [control]) to install the schedule"
            for name in (RTOS, LINUX)
        ],
    ),
    (
        "xenstore-on-static-memory-before-4.21",
        both(
            set_key("domains.0.static_memory", STATIC),
            lambda d: d["domains"][0].pop("memory"),
            set_key("domains.0.xenstore", "no-xenstore"),
            set_key("domains.1.xenstore", "enabled"),
            set_key("domains.1.static_memory", [{"address": 0x70000000, "size": "256M"}]),
            set_key("domains.1.direct_map", True),
            set_key("dom0", {"kernel": "${DOM0LESS_INPUTS}/Image", "memory": "512M"}),
        ),
        [
            "domains[1] (linux).xenstore: Xen 4.17 cannot give a direct-mapped domain its "
            "xenstore page (init-dom0less asks for one more page after boot, and such a "
            "domain has none to give): use 'no-xenstore' or 'disabled', or target Xen "
            "4.21+, which allocates it at boot",
        ],
    ),
    (
        "xenstore-legacy-on-static-memory-from-4.21",
        on_421(
            set_key("domains.1.xenstore", "legacy"),
            set_key("domains.1.static_memory", [{"address": 0x70000000, "size": "256M"}]),
            set_key("domains.0.capabilities", ["xenstore"]),
        ),
        [
            "domains[1] (linux).xenstore: 'legacy' leaves the xenstore page to init-dom0less "
            "after boot, which a static-memory domain cannot give (booting.txt: not "
            "compatible with static-mem guests): use 'enabled', with which Xen allocates "
            "the page at boot",
        ],
    ),
    (
        "xenstore-legacy-on-4.22",
        both(
            set_key("xen.version", "4.22"),
            set_key("domains.1.xenstore", "legacy"),
            set_key("domains.0.capabilities", ["xenstore"]),
        ),
        [
            "domains[1] (linux).xenstore: Xen 4.22 gives a 'legacy' domain no xenstore at "
            "all (no event channel, no page for init-dom0less to fill: its guest reads 0 for "
            "both): use 'enabled', with which Xen allocates the page at boot, or 'no-xenstore'",
        ],
    ),
    (
        "vcpus-beyond-the-host-redistributors",
        both(
            set_key("xen.version", "4.22"),
            set_key("domains.0.static_memory", STATIC),
            lambda d: d["domains"][0].pop("memory"),
            set_key("domains.0.direct_map", True),
            set_key("domains.0.vcpus", 124),
        ),
        [
            "domains[0] (rtos).vcpus: 124 vCPUs but direct-mapped, it uses the host's GICv3 "
            "layout, whose redistributor regions (/intc@8000000) hold 123: Xen fails "
            "'Could not set up domain' for a vCPU without one; give it at most 123",
        ],
    ),
    (
        "static-memory-overlap",
        both(
            set_key("domains.0.static_memory", STATIC),
            lambda d: d["domains"][0].pop("memory"),
            set_key("domains.1.static_memory", STATIC),
            set_key("domains.1.memory", "16M"),
        ),
        [
            "domains[0] (rtos).static_memory[0]: 0x60000000-0x61000000 overlaps "
            "domains[1] (linux).static_memory[0] (0x60000000-0x61000000): move one of "
            "them",
        ],
    ),
]


def problems_of(describe, change) -> list[str]:
    path = describe(change)
    system = description.load(path)
    problems = Problems("FILE")
    rules.check(system, load_host(system), problems)
    return [str(item).removeprefix("FILE: ") for item in problems.items]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in CASES], ids=[i for i, _, _ in CASES]
)
def test_rule_gives_exactly(describe, change, expected):
    assert problems_of(describe, change) == expected


def test_the_base_description_breaks_no_rule(describe):
    assert problems_of(describe, None) == []


@pytest.mark.parametrize(
    "change",
    [
        both(
            set_key("xen.version", "4.22"),
            set_key("domains.0.static_memory", STATIC),
            lambda d: d["domains"][0].pop("memory"),
            set_key("domains.0.direct_map", True),
            set_key("domains.0.vcpus", 123),
        ),
        on_421(
            set_key("domains.1.xenstore", "enabled"),
            set_key("domains.1.static_memory", [{"address": 0x70000000, "size": "256M"}]),
            set_key("domains.1.direct_map", True),
            set_key("domains.0.capabilities", ["xenstore"]),
        ),
        both(
            set_key("cpupools", [{"name": "rt", "cpus": [3], "scheduler": "arinc653"}]),
            set_key("domains.0.cpupool", "rt"),
            set_key("dom0", {"kernel": "${DOM0LESS_INPUTS}/Image", "memory": "512M"}),
        ),
    ],
    ids=["123-vcpus-direct-mapped", "xenstore-enabled-direct-mapped-4.21", "arinc653-with-dom0"],
)
def test_what_xen_takes_at_the_edge_of_the_new_rules(describe, change):
    assert problems_of(describe, change) == []
