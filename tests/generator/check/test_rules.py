"""One failing description per validation rule, asserting the message.

Each case changes the valid base description in one way that Xen would
otherwise punish at boot (panic, BUG, data abort or silence).
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


def config_without(*options: str):
    def change(doc: dict) -> None:
        path = beside_inputs(doc, "xen.config")
        path.write_text(
            "CONFIG_ARM_64=y\n" + "".join(f"# CONFIG_{o} is not set\n" for o in options)
        )
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
    # (id, change, fragment of the one expected message)
    ("schema-unknown-key", set_key("domains.0.colour", 1), "unknown key 'colour'"),
    ("schema-bad-size", set_key("domains.0.memory", "16Q"), "domains[0].memory"),
    (
        "schema-missing-kernel",
        lambda d: domain(d, 0).pop("kernel"),
        "missing required key 'kernel'",
    ),
    ("schema-version", set_key("xen.version", "4.9"), "'4.9' is not one of"),
    (
        "schema-grant-frames-zero",  # Xen: 'Bad grant table size: 0 frames', domain not built
        both(set_key("xen.version", "4.18"), set_key("domains.0.grant", {"frames": 0})),
        "domains[0].grant.frames: 0 is below the minimum 1",
    ),
    (
        "missing-file",
        set_key("domains.0.kernel", "/nonexistent/rtos.bin"),
        "domains[0] (rtos).kernel: file /nonexistent/rtos.bin does not exist",
    ),
    ("kernel-format", bad_kernel, "not a usable kernel"),
    ("ramdisk-format", set_key("domains.1.ramdisk", str(Path(__file__))), "not a usable ramdisk"),
    (
        "device-tree-format",
        set_key("domains.0.device_tree", str(Path(__file__))),
        "not a usable device-tree",
    ),
    ("duplicate-name", set_key("domains.1.name", "rtos"), "the name 'rtos' is used by 2"),
    ("reserved-name", set_key("domains.0.name", "dom0"), "'dom0' is reserved"),
    ("memory-zero", set_key("domains.0.memory", 0), "must be at least 4K"),
    ("memory-not-kib", set_key("domains.0.memory", 5000), "whole number of KiB"),
    ("memory-too-much", set_key("domains.1.memory", "4G"), "the guests need"),
    ("nr-spis-silences-console", set_key("domains.0.nr_spis", 0), "runs silently"),
    (
        "dom0-vcpus",
        lambda d: d.update(
            dom0={"kernel": d["domains"][1]["kernel"], "memory": "512M", "vcpus": 8}
        ),
        "Xen caps dom0 at one vCPU per CPU",
    ),
    ("vcpus-too-many", set_key("domains.0.vcpus", 200), "more than Xen's virtual GIC"),
    (
        "vcpus-too-many-gicv2",
        both(on_a_gicv2_board, set_key("domains.0.vcpus", 9)),
        "more than Xen's virtual GIC supports (8)",
    ),
    (
        "direct-map-without-static",
        set_key("domains.0.direct_map", True),
        "direct-map needs static_memory",
    ),
    (
        "static-memory-outside-ram",
        set_key("domains.0.static_memory", [{"address": 0x10000000, "size": "16M"}]),
        "is not inside one RAM bank",
    ),
    (
        "static-memory-unaligned",
        set_key("domains.0.static_memory", [{"address": 0x60000100, "size": "16M"}]),
        "multiples of 4 KiB",
    ),
    (
        "static-memory-mismatch",
        set_key("domains.0.static_memory", [{"address": 0x60000000, "size": "32M"}]),
        "differs from the static_memory total",
    ),
    (
        "static-memory-overlap",
        both(
            set_key("domains.0.static_memory", STATIC),
            lambda d: domain(d, 0).pop("memory"),
            set_key("domains.1.static_memory", STATIC),
            set_key("domains.1.memory", "16M"),
        ),
        "overlaps domains[1] (linux).static_memory[0]",
    ),
    (
        "xenstore-without-dom0",
        set_key("domains.1.xenstore", "enabled"),
        "runs xenstore only in dom0",
    ),
    (
        "feature-too-new",
        set_key("domains.0.llc_colors", "0-3"),
        "needs Xen 4.20 or later, but xen.version is 4.17",
    ),
    ("capabilities-too-new", set_key("domains.0.capabilities", ["control"]), "needs Xen 4.21"),
    (
        "xenstore-domain-missing",
        both(set_key("xen.version", "4.21"), set_key("domains.1.xenstore", "enabled")),
        "no domain runs xenstore",
    ),
    (
        "hardware-twice",
        both(
            set_key("xen.version", "4.21"),
            set_key("domains.0.capabilities", ["hardware"]),
            set_key("domains.1.capabilities", ["hardware", "control"]),
        ),
        "only one domain may have the hardware capability",
    ),
    (
        "hardware-with-passthrough",
        both(
            set_key("xen.version", "4.21"),
            set_key("domains.0.capabilities", ["hardware"]),
            set_key("domains.0.nr_spis", 64),
        ),
        "Xen panics on nr_spis for it: drop it",
    ),
    ("cpupool-unknown", set_key("domains.0.cpupool", "rt"), "no cpupool named 'rt'"),
    (
        "cpupool-cpu-missing",
        set_key("cpupools", [{"name": "rt", "cpus": [7]}]),
        "CPU 7 does not exist",
    ),
    (
        "cpupool-cpu-path-missing",
        set_key("cpupools", [{"name": "rt", "cpus": ["/cpus/cpu@9"]}]),
        "no CPU node /cpus/cpu@9",
    ),
    (
        "cpupool-cpu-twice",
        set_key("cpupools", [{"name": "a", "cpus": [1]}, {"name": "b", "cpus": ["/cpus/cpu@1"]}]),
        "CPU 1 is already in pool 'a'",
    ),
    (
        "passthrough-missing-node",
        set_key("domains.0.passthrough", ["/nope@0"]),
        "no node /nope@0 in the host device tree",
    ),
    (
        "passthrough-console",
        set_key("domains.0.passthrough", ["/pl011@9000000"]),
        "is Xen's own console",
    ),
    (
        "passthrough-needs-mmio",
        set_key("domains.0.passthrough", ["/psci"]),
        "/psci has no reg Xen could map",
    ),
    (
        "passthrough-twice",
        both(
            set_key("domains.0.passthrough", ["/pl031@9010000"]),
            set_key("domains.1.passthrough", ["/pl031@9010000"]),
        ),
        "is already given to 'rtos'",
    ),
    (
        "evtchn-unknown-peer",
        set_key("domains.0.event_channels", [{"port": 10, "peer": "ghost", "peer_port": 11}]),
        "no domain named 'ghost'",
    ),
    (
        "evtchn-self",
        set_key("domains.0.event_channels", [{"port": 10, "peer": "rtos", "peer_port": 11}]),
        "connects two different domains",
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
        "port 10 of 'rtos' is used by 2 channels",
    ),
    (
        "evtchn-port-range",
        set_key("domains.0.event_channels", [{"port": 2000, "peer": "linux", "peer_port": 11}]),
        "ports 1-1023",
    ),
    (
        "shm-unknown-id",
        set_key("domains.0.shared_memory", [{"id": "x", "guest_address": 0x50000000}]),
        "no shared_memory region with id 'x'",
    ),
    (
        "shm-host-address-required",
        both(
            set_key("shared_memory", [{"id": "x", "size": "4M"}]),
            set_key("domains.0.shared_memory", [{"id": "x", "guest_address": 0x50000000}]),
        ),
        "needs Xen 4.19",
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
        "has 2 owners",
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
        "has a borrower but no owner",
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
        "make guest_address equal 0x70000000",
    ),
    (
        "static-heap-unaligned",
        set_key("xen.static_heap", [{"address": 0x70001000, "size": "16M"}]),
        "64 KiB aligned",
    ),
    (
        "affinity-vcpu-missing",
        both(set_key("xen.version", "4.21"), set_key("domains.0.vcpu_affinity", {"3": "1"})),
        "vCPU 3 does not exist",
    ),
    ("boot-load-no-partition", set_key("boot.load", "mmc"), "needs a device and partition"),
    (
        "boot-load-sata-no-partition",
        set_key("boot.load", "sata"),
        "needs a device and partition, e.g. 'sata 0:1'",
    ),
    ("boot-load-empty", set_key("boot.load", " "), "boot.load: is empty"),
    (
        "xsm-policy-format",
        xsm_policy_that_is_a_kernel,
        "is an arm64 Image file, not a usable xsm-policy (FLASK policy)",
    ),
    ("bootm-needs-uimage", set_key("boot.command", "bootm"), "bootm needs Xen as a uImage"),
    ("host-disable-missing", set_key("host.disable", ["/nope"]), "no node /nope"),
    ("script-address-taken", set_key("boot.script_address", 0xBF000000), "overlaps U-Boot"),
    (
        "load-region-too-small",
        set_key("boot.load_region", {"address": 0x40000000, "size": "4M"}),
        "no room to load",
    ),
    (
        "config-lacks-option",
        both(set_key("domains.0.static_memory", STATIC), config_without("STATIC_MEMORY")),
        "CONFIG_STATIC_MEMORY is not enabled in xen.config",
    ),
    (
        "config-lacks-dependency",
        both(set_key("cpupools", POOLS), config_without("UNSUPPORTED")),
        "CONFIG_UNSUPPORTED is not enabled",
    ),
    (
        "config-lacks-scheduler",
        both(set_key("xen.scheduler", "credit"), config_without("SCHED_CREDIT")),
        "CONFIG_SCHED_CREDIT is not enabled in xen.config but xen.scheduler credit needs it",
    ),
    (
        "scheduler-twice-extra",
        both(set_key("xen.scheduler", "credit"), set_key("xen.extra_bootargs", "sched=credit2")),
        "xen.extra_bootargs: sched=credit2 and xen.scheduler credit both choose Xen's scheduler",
    ),
    (
        "scheduler-twice-bootargs",
        both(
            set_key("xen.scheduler", "credit"), set_key("xen.bootargs", "console=dtuart sched=null")
        ),
        "xen.bootargs: sched=null and xen.scheduler credit both choose Xen's scheduler",
    ),
    (
        "env-unset",
        set_key("domains.0.kernel", "${NOT_SET_ANYWHERE}/rtos.bin"),
        "${NOT_SET_ANYWHERE} is not set in the environment",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in RULES], ids=[i for i, _, _ in RULES]
)
def test_rule_refuses_with_message(describe, change, expected):
    path = describe(change)
    with pytest.raises(UserError) as caught:
        check(path)
    messages = caught.value.problems
    assert any(expected in m for m in messages), messages
    assert all(m.startswith(str(path)) for m in messages), "every line names the file"


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
