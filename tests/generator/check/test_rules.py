"""One failing description per validation rule, through the whole pipeline.

Each case changes the valid base description in one way that Xen would
otherwise punish at boot (panic, BUG, data abort or silence) and asserts the
exact problem list ``check`` reports: a second message, a lost one or a changed
word fails it. ``{inputs}`` in an expected line is the test's input directory and
``{here}`` this file.
"""

from __future__ import annotations

from pathlib import Path

import fdt
import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.generator.pipeline import check
from xen_dom0less.generator.read import description

from ...conftest import QEMU_DTB


def domain(doc: dict, index: int) -> dict:
    return doc["domains"][index]


def set_key(path: str, value):
    """A change that sets a dotted key (domains.0.memory) in the description."""

    def change(doc: dict) -> None:
        target = doc
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
        last = parts[-1]
        target[int(last) if last.isdigit() else last] = value

    return change


def both(*changes):
    def change(doc: dict) -> None:
        for item in changes:
            item(doc)

    return change


def beside_inputs(doc: dict, name: str) -> Path:
    """A path for a file the change writes, in the directory of the description's inputs."""
    return Path(doc["xen"]["image"]).parent / name


def write_file(name: str, data: bytes):
    def change(doc: dict) -> None:
        path = beside_inputs(doc, name)
        path.write_bytes(data)

    return change


def bad_kernel(doc: dict) -> None:
    path = beside_inputs(doc, "notakernel")
    path.write_bytes(b"#!/bin/sh\necho hi\n" * 10)
    domain(doc, 0)["kernel"] = str(path)


def xsm_policy_that_is_a_kernel(doc: dict) -> None:
    doc["xen"]["xsm_policy"] = domain(doc, 0)["kernel"]


#: What the base description and the cases' features need from Xen's .config.
CONFIG_NEEDED = (
    "SBSA_VUART_CONSOLE",
    "HAS_PL011",
    "UNSUPPORTED",
    "STATIC_MEMORY",
    "BOOT_TIME_CPUPOOLS",
    "SCHED_NULL",
    "SCHED_CREDIT",
)


def config_without(*options: str):
    """A xen.config with everything the cases need but ``options``, so only they are missed."""

    def change(doc: dict) -> None:
        path = beside_inputs(doc, "xen.config")
        lines = ["CONFIG_ARM_64=y"] + [
            f"# CONFIG_{o} is not set" if o in options else f"CONFIG_{o}=y" for o in CONFIG_NEEDED
        ]
        path.write_text("\n".join(lines) + "\n")
        doc["xen"]["config"] = str(path)

    return change


def on_a_gicv2_board(doc: dict) -> None:
    """The QEMU board with its interrupt controller named a GICv2 (only the name is read)."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    tree.set_property("compatible", "arm,cortex-a15-gic", path="/intc@8000000")
    path = beside_inputs(doc, "gicv2.dtb")
    path.write_bytes(tree.to_dtb(version=17))
    doc["host"]["dtb"] = str(path)


STATIC = [{"address": 0x60000000, "size": "16M"}]
POOLS = [{"name": "rt", "cpus": [2, 3], "scheduler": "null"}]

RULES = [
    # (id, change, every problem check reports, in order, after the description's path)
    (
        "schema-unknown-key",
        set_key("domains.0.colour", 1),
        [
            "domains[0].colour: unknown key 'colour' (allowed here: name, kernel, ramdisk, "
            "device_tree, cmdline, memory, vcpus, vpl011, passthrough, iommu, direct_map, "
            "static_memory, llc_colors, cpupool, xenstore, nr_spis, p2m_mem_mb, grant, sve, "
            "capabilities, vcpu_affinity, trap_unmapped_accesses, sci_type, v8r_el1_msa, "
            "event_channels, shared_memory)",
        ],
    ),
    (
        "schema-bad-size",
        set_key("domains.0.memory", "16Q"),
        [
            "domains[0].memory: '16Q' is not valid: write a whole number of bytes, 0x hex, or a "
            "number with a K, M or G suffix such as 256M",
        ],
    ),
    (
        "schema-missing-kernel",
        lambda d: domain(d, 0).pop("kernel"),
        [
            "domains[0]: missing required key 'kernel': add it",
        ],
    ),
    (
        "schema-version",
        set_key("xen.version", "4.9"),
        [
            "xen.version: '4.9' is not one of: 4.17, 4.18, 4.19, 4.20, 4.21, 4.22 (write one of "
            "these)",
        ],
    ),
    (
        "schema-grant-frames-zero",  # Xen: 'Bad grant table size: 0 frames', domain not built
        both(set_key("xen.version", "4.18"), set_key("domains.0.grant", {"frames": 0})),
        [
            "domains[0].grant.frames: 0 is below the minimum 1",
        ],
    ),
    (
        "missing-file",
        set_key("domains.0.kernel", "/nonexistent/rtos.bin"),
        [
            "domains[0] (rtos).kernel: file /nonexistent/rtos.bin does not exist",
        ],
    ),
    (
        "kernel-format",
        bad_kernel,
        [
            "domains[0] (rtos).kernel: {inputs}/notakernel is an unknown file, not a usable "
            "kernel (arm32 zImage, arm64 Image, gzip, uImage)",
        ],
    ),
    (
        "ramdisk-format",
        set_key("domains.1.ramdisk", str(Path(__file__))),
        [
            "domains[1] (linux).ramdisk: {here} is an unknown file, not a usable ramdisk (cpio, "
            "gzip, lz4, uImage, xz, zstd)",
        ],
    ),
    (
        "device-tree-format",
        set_key("domains.0.device_tree", str(Path(__file__))),
        [
            "domains[0] (rtos).device_tree: {here} is an unknown file, not a usable device-tree "
            "(device tree blob)",
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
        "memory-too-much",
        set_key("domains.1.memory", "4G"),
        [
            "domains: the guests need 4230208K of RAM (with Xen's P2M pools) but only 2071410538 "
            "is left of 2G once the loaded images, reservations and static regions are counted: "
            "shrink a domain's memory",
        ],
    ),
    (
        "nr-spis-silences-console",
        set_key("domains.0.nr_spis", 0),
        [
            "domains[0] (rtos).nr_spis: 0 SPIs leaves the vpl011 console without its interrupt "
            "(SPI 0; the guest runs silently): raise nr_spis to at least 1 or drop it",
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
        "vcpus-too-many",
        set_key("domains.0.vcpus", 200),
        [
            "domains[0] (rtos).vcpus: 200 vCPUs is more than Xen's virtual GIC supports (128): "
            "lower it",
        ],
    ),
    (
        "vcpus-too-many-gicv2",
        both(on_a_gicv2_board, set_key("domains.0.vcpus", 9)),
        [
            "domains[0] (rtos).vcpus: 9 vCPUs is more than Xen's virtual GIC supports (8): lower "
            "it",
        ],
    ),
    (
        "direct-map-without-static",
        set_key("domains.0.direct_map", True),
        [
            "domains[0] (rtos).direct_map: direct-map needs static_memory: give the host RAM the "
            "guest is mapped 1:1 onto",
        ],
    ),
    (
        "static-memory-outside-ram",
        set_key("domains.0.static_memory", [{"address": 0x10000000, "size": "16M"}]),
        [
            "domains[0] (rtos).static_memory[0]: 0x10000000-0x11000000 is not inside one RAM "
            "bank of the board (0x40000000-0xc0000000)",
        ],
    ),
    (
        "static-memory-unaligned",
        set_key("domains.0.static_memory", [{"address": 0x60000100, "size": "16M"}]),
        [
            "domains[0] (rtos).static_memory[0]: address and size must be non-zero multiples of "
            "4 KiB",
        ],
    ),
    (
        "static-memory-mismatch",
        set_key("domains.0.static_memory", [{"address": 0x60000000, "size": "32M"}]),
        [
            "domains[0] (rtos).memory: 16M differs from the static_memory total 32M: make them "
            "equal or drop memory",
        ],
    ),
    (
        "static-memory-overlap",
        both(
            set_key("domains.0.static_memory", STATIC),
            lambda d: domain(d, 0).pop("memory"),
            set_key("domains.1.static_memory", STATIC),
            set_key("domains.1.memory", "16M"),
        ),
        [
            "domains[0] (rtos).static_memory[0]: 0x60000000-0x61000000 overlaps domains[1] "
            "(linux).static_memory[0] (0x60000000-0x61000000): move one of them",
        ],
    ),
    (
        "xenstore-without-dom0",
        set_key("domains.1.xenstore", "enabled"),
        [
            "domains[1] (linux).xenstore: Xen 4.17 runs xenstore only in dom0, and there is "
            "none: add a dom0 or use 'no-xenstore'",
        ],
    ),
    (
        "feature-too-new",
        set_key("domains.0.llc_colors", "0-3"),
        [
            "domains[0] (rtos).llc_colors: LLC cache colouring (llc-colors) needs Xen 4.20 or "
            "later, but xen.version is 4.17: upgrade Xen or drop this key",
        ],
    ),
    (
        "capabilities-too-new",
        set_key("domains.0.capabilities", ["control"]),
        [
            "domains[0] (rtos).capabilities: domain capabilities needs Xen 4.21 or later, but "
            "xen.version is 4.17: upgrade Xen or drop this key",
        ],
    ),
    (
        "xenstore-domain-missing",
        both(set_key("xen.version", "4.21"), set_key("domains.1.xenstore", "enabled")),
        [
            "domains[1] (linux).xenstore: no domain runs xenstore: add a dom0 or give one domU "
            "capabilities: [xenstore]",
        ],
    ),
    (
        "hardware-twice",
        both(
            set_key("xen.version", "4.21"),
            set_key("domains.0.capabilities", ["hardware"]),
            set_key("domains.1.capabilities", ["hardware", "control"]),
            set_key("domains.0.vpl011", False),
            set_key("domains.1.vpl011", False),
        ),
        [
            "domains: only one domain may have the hardware capability, not rtos, linux",
        ],
    ),
    (
        "hardware-with-passthrough",
        both(
            set_key("xen.version", "4.21"),
            set_key("domains.0.capabilities", ["hardware"]),
            set_key("domains.0.vpl011", False),
            set_key("domains.0.nr_spis", 64),
        ),
        [
            "domains[0] (rtos).nr_spis: the hardware domain owns the host's devices and Xen "
            "panics on nr_spis for it: drop it",
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
        "passthrough-missing-node",
        set_key("domains.0.passthrough", ["/nope@0"]),
        [
            "domains[0] (rtos).passthrough[0]: no node /nope@0 in the host device tree: check "
            "the path (dtc -I dtb -O dts shows them)",
        ],
    ),
    (
        "passthrough-console",
        set_key("domains.0.passthrough", ["/pl011@9000000"]),
        [
            "domains[0] (rtos).passthrough[0]: /pl011@9000000 is Xen's own console: pass through "
            "another UART",
        ],
    ),
    (
        "passthrough-needs-mmio",
        set_key("domains.0.passthrough", ["/psci"]),
        [
            "domains[0] (rtos).passthrough[0]: /psci has no reg Xen could map (none, or a bus "
            "without ranges): pass through a memory-mapped device",
        ],
    ),
    (
        "passthrough-twice",
        both(
            set_key("domains.0.passthrough", ["/pl031@9010000"]),
            set_key("domains.1.passthrough", ["/pl031@9010000"]),
        ),
        [
            "domains[1] (linux).passthrough[0]: /pl031@9010000 is already given to 'rtos': a "
            "device belongs to one domain only",
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
        "evtchn-self",
        set_key("domains.0.event_channels", [{"port": 10, "peer": "rtos", "peer_port": 11}]),
        [
            "domains[0] (rtos).event_channels[0]: a static event channel connects two different "
            "domains",
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
        "evtchn-port-range",
        set_key("domains.0.event_channels", [{"port": 2000, "peer": "linux", "peer_port": 11}]),
        [
            "domains[0] (rtos).event_channels[0]: domUs have event-channel ports 1-1023: use a "
            "lower port",
        ],
    ),
    (
        "shm-unknown-id",
        set_key("domains.0.shared_memory", [{"id": "x", "guest_address": 0x50000000}]),
        [
            "domains[0] (rtos).shared_memory[0]: no shared_memory region with id 'x'",
        ],
    ),
    (
        "shm-host-address-required",
        both(
            set_key("shared_memory", [{"id": "x", "size": "4M"}]),
            set_key("domains.0.shared_memory", [{"id": "x", "guest_address": 0x50000000}]),
        ),
        [
            "shared_memory[0] (x).host_address: static shared memory without a host address "
            "needs Xen 4.19 or later, but xen.version is 4.17: upgrade Xen or drop this key",
        ],
    ),
    (
        "shm-two-owners",
        both(
            set_key("shared_memory", [{"id": "x", "host_address": 0x70000000, "size": "4M"}]),
            set_key(
                "domains.0.shared_memory",
                [{"id": "x", "guest_address": 0x50000000, "role": "owner"}],
            ),
            set_key(
                "domains.1.shared_memory",
                [{"id": "x", "guest_address": 0x50000000, "role": "owner"}],
            ),
        ),
        [
            "shared_memory: region 'x' has 2 owners: at most one",
        ],
    ),
    (
        "shm-borrower-without-owner",
        both(
            set_key("shared_memory", [{"id": "x", "host_address": 0x70000000, "size": "4M"}]),
            set_key(
                "domains.0.shared_memory",
                [{"id": "x", "guest_address": 0x50000000, "role": "borrower"}],
            ),
        ),
        [
            "domains[0] (rtos).shared_memory[0].role: region 'x' has a borrower but no owner: "
            "give one domain role: owner, or leave role out everywhere so Xen owns it",
        ],
    ),
    (
        "shm-direct-map-address",
        both(
            set_key("xen.version", "4.19"),
            set_key("shared_memory", [{"id": "x", "host_address": 0x70000000, "size": "4M"}]),
            set_key("domains.0.static_memory", STATIC),
            set_key("domains.0.direct_map", True),
            set_key("domains.0.shared_memory", [{"id": "x", "guest_address": 0x50000000}]),
        ),
        [
            "domains[0] (rtos).shared_memory[0].guest_address: a direct-mapped domain sees host "
            "addresses: make guest_address equal 0x70000000",
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
        "affinity-vcpu-missing",
        both(set_key("xen.version", "4.21"), set_key("domains.0.vcpu_affinity", {"3": "1"})),
        [
            "domains[0] (rtos).vcpu_affinity.3: vCPU 3 does not exist: the domain has 1 vCPU(s), "
            "numbered from 0",
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
        "boot-load-sata-no-partition",
        set_key("boot.load", "sata"),
        [
            "boot.load: 'sata' needs a device and partition, e.g. 'sata 0:1'",
        ],
    ),
    (
        "boot-load-empty",
        set_key("boot.load", " "),
        [
            "boot.load: is empty: give tftp, a device such as 'mmc 0:1', or a command run as "
            "'CMD ADDR FILE'",
        ],
    ),
    (
        "xsm-policy-format",
        xsm_policy_that_is_a_kernel,
        [
            "xen.xsm_policy: {inputs}/rtos.bin is an arm64 Image file, not a usable xsm-policy "
            "(FLASK policy)",
        ],
    ),
    (
        "bootm-needs-uimage",
        set_key("boot.command", "bootm"),
        [
            "boot.command: bootm needs Xen as a uImage but xen is arm64 Image: use booti",
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
        "script-address-taken",
        set_key("boot.script_address", 0xBF000000),
        [
            "boot.script_address: 0xbf000000 is not free RAM inside the load region: it overlaps "
            "U-Boot (host.uboot_reserve)",
        ],
    ),
    (
        "load-region-too-small",
        set_key("boot.load_region", {"address": 0x40000000, "size": "4M"}),
        [
            "xen of xen: no room to load xen (2400000); the largest free gap left is 2M: free "
            "RAM, widen boot.load_region or shrink the images",
        ],
    ),
    (
        "config-lacks-option",
        both(set_key("domains.0.static_memory", STATIC), config_without("STATIC_MEMORY")),
        [
            "xen.config: CONFIG_STATIC_MEMORY is not enabled in xen.config but static memory "
            "(xen,static-mem) needs it: rebuild Xen with CONFIG_STATIC_MEMORY=y (dom0less "
            "build-xen adds it)",
        ],
    ),
    (
        "config-lacks-dependency",
        both(set_key("cpupools", POOLS), config_without("SCHED_NULL", "UNSUPPORTED")),
        [
            "xen.config: CONFIG_SCHED_NULL is not enabled in xen.config but cpupool 'rt' "
            "scheduler null needs it: rebuild Xen with CONFIG_SCHED_NULL=y (dom0less build-xen "
            "adds it)",
            "xen.config: CONFIG_UNSUPPORTED is not enabled in xen.config but CONFIG_SCHED_NULL "
            "needs it: rebuild Xen with CONFIG_UNSUPPORTED=y (dom0less build-xen adds it)",
        ],
    ),
    (
        "config-lacks-scheduler",
        both(set_key("xen.scheduler", "credit"), config_without("SCHED_CREDIT")),
        [
            "xen.config: CONFIG_SCHED_CREDIT is not enabled in xen.config but xen.scheduler "
            "credit needs it: rebuild Xen with CONFIG_SCHED_CREDIT=y (dom0less build-xen adds "
            "it)",
        ],
    ),
    (
        "scheduler-twice-extra",
        both(set_key("xen.scheduler", "credit"), set_key("xen.extra_bootargs", "sched=credit2")),
        [
            "xen.extra_bootargs: sched=credit2 and xen.scheduler credit both choose Xen's "
            "scheduler (the last on the command line wins): keep one of them",
        ],
    ),
    (
        "scheduler-twice-bootargs",
        both(
            set_key("xen.scheduler", "credit"), set_key("xen.bootargs", "console=dtuart sched=null")
        ),
        [
            "xen.bootargs: sched=null and xen.scheduler credit both choose Xen's scheduler (the "
            "last on the command line wins): keep one of them",
        ],
    ),
    (
        "env-unset",
        set_key("domains.0.kernel", "${NOT_SET_ANYWHERE}/rtos.bin"),
        [
            "domains[0].kernel: ${NOT_SET_ANYWHERE} is not set in the environment: export it or "
            "write the value",
        ],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in RULES], ids=[i for i, _, _ in RULES]
)
def test_rule_refuses_with_exactly_its_problems(describe, inputs, change, expected):
    path = describe(change)
    with pytest.raises(UserError) as caught:
        check(path)
    here = str(Path(__file__))
    assert caught.value.problems == [
        f"{path}: " + line.replace("{inputs}", str(inputs)).replace("{here}", here)
        for line in expected
    ]


def test_base_description_is_valid(describe):
    plan = check(describe())
    assert [d.name for d in plan.system.domains] == ["rtos", "linux"]


def test_scheduler_goes_on_xen_command_line(describe):
    """xen.scheduler is added to the computed command line and to a user's own."""
    plan = check(describe(set_key("xen.scheduler", "credit")))
    assert plan.xen_bootargs.split()[-1] == "sched=credit"
    own = both(set_key("xen.scheduler", "credit"), set_key("xen.bootargs", "console=dtuart"))
    plan = check(describe(own))
    assert plan.xen_bootargs == "console=dtuart sched=credit"


def test_every_problem_reported_at_once(describe):
    def many(doc):
        domain(doc, 0)["memory"] = 0
        domain(doc, 1)["direct_map"] = True
        doc["host"]["disable"] = ["/nope"]

    with pytest.raises(UserError) as caught:
        check(describe(many))
    assert len(caught.value.problems) == 3, caught.value.problems


def test_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nxen: [unclosed\n")
    with pytest.raises(UserError) as caught:
        description.load(path)
    assert caught.value.problems[0].startswith(f"{path}:3:")


def test_unusable_file_is_reported_under_every_key_that_names_it(describe):
    """Two domains sharing a missing kernel: each key that names it gets the message."""

    def share_missing(doc):
        for index in (0, 1):
            domain(doc, index)["kernel"] = "/nonexistent/shared.bin"

    with pytest.raises(UserError) as caught:
        check(describe(share_missing))
    missing = [m for m in caught.value.problems if "shared.bin does not exist" in m]
    assert [m.split(": ")[1] for m in missing] == [
        "domains[0] (rtos).kernel",
        "domains[1] (linux).kernel",
    ], missing
