"""What the whole pipeline refuses outside the rule tables, one failing description each.

Each case changes the valid base description in one way that Xen would
otherwise punish at boot (panic, BUG, data abort or silence) and asserts the
exact problem list ``check`` reports: a second message, a lost one or a changed
word fails it. These are the problems found by the schema, the input files, the
Kconfig and command-line checks and placement; a rule of the RULES/DOMAIN_RULES
tables has its exact case in test_validate.py. ``{inputs}`` in an expected line
is the test's input directory and ``{here}`` this file.
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


def direct_mapped(index: int):
    """Domain ``index`` on 16M of host RAM mapped 1:1, as a hardware domain on a board
    without an IOMMU must be."""
    return both(
        set_key(
            f"domains.{index}.static_memory",
            [{"address": 0x60000000 + index * 0x2000000, "size": "16M"}],
        ),
        set_key(f"domains.{index}.direct_map", True),
        set_key(f"domains.{index}.memory", "16M"),
    )


def beside_inputs(doc: dict, name: str) -> Path:
    """A path for a file the change writes, in the directory of the description's inputs."""
    return Path(doc["xen"]["image"]).parent / name


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
    """The QEMU board with its interrupt controller a GICv2: the compatible and the four
    regions (distributor, CPU, hypervisor, virtual CPU) of QEMU's -M virt,gic-version=2."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    tree.set_property("compatible", "arm,cortex-a15-gic", path="/intc@8000000")
    regions = [0x8000000, 0x10000, 0x8010000, 0x10000, 0x8030000, 0x10000, 0x8040000, 0x10000]
    tree.set_property("reg", [w for r in regions for w in (0, r)], path="/intc@8000000")
    path = beside_inputs(doc, "gicv2.dtb")
    path.write_bytes(tree.to_dtb(version=17))
    doc["host"]["dtb"] = str(path)


def on_a_board_with_an_smmu(doc: dict) -> None:
    """The QEMU board with an SMMUv3 node as QEMU's -M virt,iommu=smmuv3 adds it."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    smmu = fdt.Node("smmuv3@9050000")
    smmu.append(fdt.PropStrings("compatible", "arm,smmu-v3"))
    smmu.append(fdt.PropWords("reg", 0, 0x9050000, 0, 0x20000))
    smmu.append(fdt.PropWords("#iommu-cells", 1))
    tree.add_item(smmu, "/")
    path = beside_inputs(doc, "smmu.dtb")
    path.write_bytes(tree.to_dtb(version=17))
    doc["host"]["dtb"] = str(path)


def with_dom0(doc: dict) -> None:
    """A Linux dom0 beside the domUs, on the PV console its backend serves."""
    doc["dom0"] = {"kernel": domain(doc, 1)["kernel"], "memory": "512M", "cmdline": "console=hvc0"}


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
            "event_channels, shared_memory, pv)",
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
        "vcpus-too-many-gicv2",
        both(on_a_gicv2_board, set_key("domains.0.vcpus", 9)),
        [
            "domains[0] (rtos).vcpus: 9 vCPUs is more than Xen's virtual GIC supports (8): lower "
            "it",
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
        "hardware-with-passthrough",
        both(
            set_key("xen.version", "4.21"),
            set_key("domains.0.capabilities", ["hardware"]),
            set_key("domains.0.vpl011", False),
            set_key("domains.0.nr_spis", 64),
            direct_mapped(0),
        ),
        [
            "domains[0] (rtos).nr_spis: the hardware domain owns the host's devices and Xen "
            "panics on nr_spis for it: drop it",
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
        "boot-load-sata-no-partition",
        set_key("boot.load", "sata"),
        [
            "boot.load: 'sata' needs a device and partition, e.g. 'sata 0:1'",
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
        "guest-console-hvc-without-backend",
        set_key("domains.1.cmdline", "console=hvc0"),
        [
            "domains[1] (linux).cmdline: console=hvc0 names a device the domain will not have, "
            "so it would boot silently: hvc0 is Xen's PV console, which Xen does not give the "
            "domains it creates at boot, with or without xenstore and a dom0 (xl console does "
            "not attach to them: Xen's docs/features/dom0less.pandoc): use console=ttyAMA0 "
            "(Xen's emulated PL011, vpl011, on by default)",
        ],
    ),
    (
        "guest-console-hvc-served-by-dom0",
        both(
            with_dom0,
            set_key("domains.1.cmdline", "console=hvc0"),
            set_key("domains.1.xenstore", "enabled"),
        ),
        [
            "domains[1] (linux).cmdline: console=hvc0 names a device the domain will not have, "
            "so it would boot silently: hvc0 is Xen's PV console, which Xen does not give the "
            "domains it creates at boot, with or without xenstore and a dom0 (xl console does "
            "not attach to them: Xen's docs/features/dom0less.pandoc): use console=ttyAMA0 "
            "(Xen's emulated PL011, vpl011, on by default)",
        ],
    ),
    (
        "guest-console-pl011-without-vpl011",
        set_key("domains.1.vpl011", False),
        [
            "domains[1] (linux).cmdline: console=ttyAMA0 names a device the domain will not "
            "have, so it would boot silently: ttyAMA0 needs a PL011, but vpl011 is off and none "
            "is passed through: set vpl011: true or pass a PL011 through",
        ],
    ),
    (
        "guest-console-uart-not-passed-through",
        set_key("domains.1.cmdline", "console=ttyPS0,115200n8"),
        [
            "domains[1] (linux).cmdline: console=ttyPS0,115200n8 names a device the domain will "
            "not have, so it would boot silently: ttyPS0 needs a Cadence UART and none is passed "
            "through to the domain: pass one, or use console=ttyAMA0 (Xen's emulated PL011, "
            "vpl011, on by default)",
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
    # file, key and message; the line a schema problem also names is tested in test_errors
    assert [str(p._replace(line=None)) for p in caught.value.problems] == [
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


def test_colouring_goes_on_a_users_own_command_line_too(describe):
    """xen.llc_coloring beside xen.bootargs was lost: Xen booted with colouring off and
    panicked on the first domain's llc-colors."""
    own = both(
        set_key("xen.version", "4.20"),
        set_key("xen.bootargs", "console=dtuart"),
        set_key("xen.llc_coloring", {"xen_colors": "0-1"}),
        set_key("domains.0.llc_colors", "2-5"),
    )
    plan = check(describe(own))
    assert plan.xen_bootargs == "console=dtuart llc-coloring=on xen-llc-colors=0-1"


def test_every_problem_reported_at_once(describe):
    def many(doc):
        domain(doc, 0)["memory"] = 0
        domain(doc, 1)["direct_map"] = True
        doc["host"]["disable"] = ["/nope"]

    with pytest.raises(UserError) as caught:
        check(describe(many))
    assert len(caught.value.lines) == 3, caught.value.lines


def test_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nxen: [unclosed\n")
    with pytest.raises(UserError) as caught:
        description.load(path)
    assert caught.value.lines[0].startswith(f"{path}:3:")


def test_unusable_file_is_reported_under_every_key_that_names_it(describe):
    """Two domains sharing a missing kernel: each key that names it gets the message."""

    def share_missing(doc):
        for index in (0, 1):
            domain(doc, index)["kernel"] = "/nonexistent/shared.bin"

    with pytest.raises(UserError) as caught:
        check(describe(share_missing))
    missing = [m for m in caught.value.lines if "shared.bin does not exist" in m]
    assert [m.split(": ")[1] for m in missing] == [
        "domains[0] (rtos).kernel",
        "domains[1] (linux).kernel",
    ], missing


@pytest.mark.parametrize(
    "change",
    [
        set_key("domains.1.cmdline", "console=tty0 console=ttyAMA0,115200 earlycon"),
        set_key("domains.1.cmdline", "quiet"),
    ],
    ids=["vpl011-and-a-vt", "no-console"],
)
def test_guest_consoles_the_domain_has_are_accepted(describe, change):
    assert check(describe(change)).system.domains[1].name == "linux"


def big_little(doc: dict) -> None:
    """QEMU's board with CPUs 2 and 3 made Cortex-A53s beside the boot CPU's Cortex-A57s."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    for cpu in (2, 3):
        tree.get_node(f"/cpus/cpu@{cpu}").set_property("compatible", "arm,cortex-a53")
    path = beside_inputs(doc, "big-little.dtb")
    path.write_bytes(tree.to_dtb(version=17))
    doc["host"]["dtb"] = str(path)


BIG_LITTLE_CHOICES = both(
    big_little,
    set_key("xen.version", "4.22"),
    set_key("domains.0.vcpu_affinity", {0: "2-3"}),
    set_key("domains.1.vcpu_affinity", {0: "1-2"}),  # CPU 1 comes up: Xen takes it
    set_key("cpupools", [{"name": "rt", "cpus": [1, 3]}]),
)


def test_cpus_xen_does_not_bring_up_on_big_little_are_refused(describe):
    """Xen stops a CPU whose MIDR differs from the boot CPU's unless hmp-unsafe (smpboot.c),
    then panics on a boot-time pool holding it ('Pool-1 contains cpu3 that is not online')
    and on a hard affinity with none it brought up (vcpu_set_hard_affinity: -EINVAL)."""
    with pytest.raises(UserError) as caught:
        check(describe(BIG_LITTLE_CHOICES))
    lines = [str(p._replace(source="", line=None)) for p in caught.value.problems]
    assert lines == [
        "domains[0] (rtos).vcpu_affinity.0: CPUs 2-3 are arm,cortex-a53, which Xen does not "
        "bring up beside its boot CPU, arm,cortex-a57 (big.LITTLE), and it panics setting the "
        "affinity: name a CPU of the boot CPU's kind (0, 1), or add hmp-unsafe to "
        "xen.extra_bootargs and pin every domain",
        "cpupools[0] (rt).cpus[1]: CPU 3 is arm,cortex-a53, which Xen does not bring up "
        "beside its boot CPU, arm,cortex-a57 (big.LITTLE), and it panics ('Pool-N contains "
        "cpuN that is not online'): leave it out of the pool, or add hmp-unsafe to "
        "xen.extra_bootargs and pin every domain",
    ], lines
    unsafe = both(BIG_LITTLE_CHOICES, set_key("xen.extra_bootargs", "hmp-unsafe"))
    assert check(describe(unsafe, name="unsafe.yaml"))


def test_cpus_of_one_kind_listed_with_more_compatibles_are_all_brought_up(describe):
    """The first compatible names the core: a longer list for one CPU is no other kind."""

    def longer(doc: dict) -> None:
        tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
        tree.get_node("/cpus/cpu@3").set_property("compatible", ["arm,cortex-a57", "arm,armv8"])
        path = beside_inputs(doc, "longer.dtb")
        path.write_bytes(tree.to_dtb(version=17))
        doc["host"]["dtb"] = str(path)

    pinned = both(
        longer, set_key("xen.version", "4.22"), set_key("domains.0.vcpu_affinity", {0: "3"})
    )
    assert check(describe(pinned))


def test_cpus_beyond_maxcpus_are_refused(describe):
    """maxcpus=N makes Xen number only the first N CPUs (smpboot.c smp_get_max_cpus), then it
    panics on an affinity naming another ('Invalid pCPU 3 for domain') and on a pool
    holding one."""
    capped = both(
        set_key("xen.version", "4.22"),
        set_key("xen.extra_bootargs", "maxcpus=3"),
        set_key("domains.0.vcpu_affinity", {0: "2-3"}),
        set_key("cpupools", [{"name": "rt", "cpus": [1, 3]}]),
    )
    with pytest.raises(UserError) as caught:
        check(describe(capped))
    lines = [str(p._replace(source="", line=None)) for p in caught.value.problems]
    beyond = "is beyond maxcpus=3 on Xen's command line (Xen numbers CPUs 0-2)"
    assert lines == [
        f"domains[0] (rtos).vcpu_affinity.0: CPU 3 {beyond}",
        f"cpupools[0] (rt).cpus[1]: CPU 3 {beyond}",
    ], lines
