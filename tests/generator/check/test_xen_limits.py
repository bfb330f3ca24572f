"""What Xen hard-codes, the console it can drive and boards whose RAM the firmware fills.

Each case is a description Xen 4.17 would panic on, boot silent or boot with
modules overwritten; the limits come from the release table (read from Xen's
source: MAX_MODULES, BOOTMOD_MAX_CMDLINE, MAX_FDT_SIZE, the vGIC).
"""

from __future__ import annotations

from pathlib import Path

import fdt
import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.generator.facts import xen_versions
from xen_dom0less.generator.model import Region
from xen_dom0less.generator.pipeline import build, check

from ...conftest import QEMU_DTB, arm64_image

UART = "/pl011@9000000"


def plan_of(path: Path):
    return check(path)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(UserError) as caught:
        plan_of(path)
    return caught.value.lines


def edited_board(directory: Path, edit, name: str = "board.dtb") -> str:
    """QEMU's virt tree changed by ``edit(tree)``, written beside the inputs."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    edit(tree)
    path = directory / name
    path.write_bytes(tree.to_dtb(version=17))
    return str(path)


def many_domains(count: int, kernels: Path | None, cmdline: str = ""):
    """``count`` small domUs, each with its own kernel file in ``kernels`` (or one shared)."""

    def change(doc: dict) -> None:
        shared = doc["domains"][0]["kernel"]
        doc["domains"] = []
        for index in range(count):
            kernel = shared
            if kernels is not None:
                kernel = str(kernels / f"k{index}.bin")
                Path(kernel).write_bytes(arm64_image(4096, 65536, bytes([index + 1])))
            entry = {"name": f"guest{index}", "kernel": kernel, "memory": "16M"}
            if cmdline:
                entry["cmdline"] = cmdline
            doc["domains"].append(entry)

    return change


def test_limits_are_read_per_release():
    for version in ("4.17", "4.19", "4.21", "4.22"):
        limits = xen_versions.limits(version)
        assert (limits.boot_modules, limits.cmdline_length, limits.fdt_size) == (32, 1024, 2 << 20)
        assert limits.vcpus == {2: 8, 3: 128}


def test_thirty_one_kernels_are_more_modules_than_xen_keeps(describe, inputs):
    """31 kernels + Xen + its DTB = 33 > MAX_MODULES: Xen 4.17 panics for guest30."""
    problems = problems_of(describe(many_domains(31, inputs)))
    assert any("loads 33 boot modules" in p and "MAX_MODULES" in p for p in problems), problems


def test_thirty_kernels_fit_and_a_shared_kernel_counts_once(describe, inputs):
    assert len(plan_of(describe(many_domains(30, inputs))).domains) == 30
    assert len(plan_of(describe(many_domains(32, None), name="shared.yaml")).domains) == 32


def test_more_command_lines_than_xen_keeps(describe):
    problems = problems_of(describe(many_domains(33, None, cmdline="console=hvc0")))
    assert any("33 domains have a cmdline" in p for p in problems), problems


def test_command_line_longer_than_xen_copies(describe):
    def long(doc):
        doc["domains"][1]["cmdline"] = "console=ttyAMA0 " + "x" * 1010

    problems = problems_of(describe(long))
    assert any("linux).cmdline: 1026 characters" in p for p in problems), problems


def test_board_tree_bigger_than_xen_maps(describe, inputs):
    def big(doc):
        blob = edited_board(
            inputs, lambda t: t.set_property("padding", [0] * (512 * 1024), path="/flash@0")
        )
        doc["host"]["dtb"] = blob

    problems = problems_of(describe(big))
    assert any("MAX_FDT_SIZE" in p for p in problems), problems


def test_nr_spis_below_a_passed_through_interrupt(describe, inputs):
    """The PL061 is SPI 7 on virt: 4 SPIs cannot route it."""

    def few(doc):
        doc["domains"][0]["passthrough"] = ["/pl061@9030000"]
        doc["domains"][0]["nr_spis"] = 4

    problems = problems_of(describe(few))
    assert any("uses SPI 7" in p and "at least 8" in p for p in problems), problems


# -- the console -------------------------------------------------------------------------


def imx_console(doc: dict) -> None:
    """The console UART as the i.MX 8M Plus EVK's: no Xen 4.17 driver knows it."""
    doc["host"]["dtb"] = edited_board(
        Path(doc["xen"]["image"]).parent,
        lambda t: t.set_property("compatible", ["fsl,imx8mp-uart", "fsl,imx6q-uart"], path=UART),
    )


def test_console_without_a_driver_is_refused_with_the_ways_out(describe):
    problems = problems_of(describe(imx_console))
    assert any(
        "host.dtb: Xen 4.17 has no driver for its console /pl011@9000000 (fsl,imx8mp-uart" in p
        and "set xen.console to a UART it drives" in p
        and "or to none" in p
        for p in problems
    ), problems


def test_console_none_or_another_uart_is_the_way_out(describe, tmp_path):
    def none(doc):
        imx_console(doc)
        doc["xen"]["console"] = "none"

    plan = plan_of(describe(none))
    assert plan.xen_bootargs.split()[0] == "console=none"

    def other(doc):
        imx_console(doc)
        doc["xen"]["console"] = "/pl031@9010000"  # a PrimeCell, but no UART: still refused

    problems = problems_of(describe(other, name="other.yaml"))
    assert any("xen.console: Xen 4.17 has no driver" in p for p in problems), problems


def test_console_driver_must_be_in_the_given_config(describe, inputs):
    def config(doc):
        path = inputs / "xen.config"
        path.write_text("CONFIG_ARM_64=y\n# CONFIG_HAS_PL011 is not set\n")
        doc["xen"]["config"] = str(path)

    problems = problems_of(describe(config))
    assert any("CONFIG_HAS_PL011 is not enabled" in p and "xen.console" in p for p in problems)


def test_console_driver_depends_on_the_release(describe):
    """The SBSA UART binding reached Xen's PL011 driver in 4.18."""
    sbsa = ["arm,sbsa-uart"]
    assert xen_versions.uart_driver("4.17", sbsa) is None
    assert xen_versions.uart_driver("4.18", sbsa).option == "HAS_PL011"
    assert xen_versions.uart_driver("4.17", ["brcm,bcm2835-aux-uart"]).option == "HAS_NS16550"
    assert xen_versions.uart_driver("4.17", ["fsl,imx8mp-uart", "fsl,imx6q-uart"]) is None


def test_kconfig_fragment_asks_for_the_console_driver(describe):
    assert plan_of(describe()).kconfig["HAS_PL011"] == "Xen's console UART"


# -- memory the firmware fills in, and where U-Boot relocates -----------------------------

PI_BANKS = [(0, 0x3B400000), (0x40000000, 0xBC000000)]


def memory_reg(banks) -> list[int]:
    return [c for a, s in banks for c in (a >> 32, a & 0xFFFFFFFF, s >> 32, s & 0xFFFFFFFF)]


def firmware_filled(tree) -> None:
    tree.set_property("reg", [0, 0x40000000, 0, 0], path="/memory@40000000")


def test_memory_node_of_size_zero_is_explained(describe, inputs):
    def empty(doc):
        doc["host"]["dtb"] = edited_board(inputs, firmware_filled)

    problems = problems_of(describe(empty))
    assert any(
        "/memory@40000000 has no RAM" in p and "firmware fills it in" in p and "host.memory" in p
        for p in problems
    ), problems


def test_host_memory_gives_the_banks_and_is_written_for_xen(describe, inputs, tmp_path):
    def given(doc):
        doc["host"]["dtb"] = edited_board(inputs, firmware_filled)
        doc["host"]["memory"] = [{"address": 0x40000000, "size": "2G"}]

    plan = build(describe(given), tmp_path / "out")
    assert plan.host.memory_banks == (Region(0x40000000, 0x80000000),)
    tree = fdt.parse_dtb((tmp_path / "out" / "xen.dtb").read_bytes())
    assert list(tree.get_property("reg", "/memory@40000000").data) == [0, 0x40000000, 0, 0x80000000]


def test_uboot_reserve_is_at_the_top_of_the_first_bank(describe, inputs):
    """A Raspberry Pi 4's banks: U-Boot relocates below 0x3b400000, not below 0xfc000000."""

    def pi(doc):
        doc["host"]["dtb"] = edited_board(
            inputs, lambda t: t.set_property("reg", memory_reg(PI_BANKS), path="/memory@40000000")
        )
        doc["boot"].pop("script_address")

    plan = plan_of(describe(pi))
    uboot = [e.region for e in plan.excluded if e.reason.startswith("U-Boot")]
    assert uboot == [Region(0x3B400000 - 64 * 1024 * 1024, 64 * 1024 * 1024)]
    assert all(not b.region.overlaps(uboot[0]) for b in plan.blobs)


def test_boot_seeds_of_a_dumped_tree_are_not_frozen_into_xen_dtb(describe, inputs, tmp_path):
    def seeded(doc):
        def seeds(tree):
            tree.set_property("kaslr-seed", [0x17EF3B6E, 0x22789881], path="/chosen")
            tree.set_property("rng-seed", [1, 2, 3, 4], path="/chosen")

        doc["host"]["dtb"] = edited_board(inputs, seeds)

    build(describe(seeded), tmp_path / "out")
    chosen = fdt.parse_dtb((tmp_path / "out" / "xen.dtb").read_bytes()).get_node("/chosen")
    names = {p.name for p in chosen.props}
    assert "xen,xen-bootargs" in names
    assert not names & {"kaslr-seed", "rng-seed"}


@pytest.mark.parametrize(("version", "fits", "too_many"), [("4.17", 32, 33), ("4.20", 32, 33)])
def test_vcpus_beyond_the_domu_device_tree_buffer(describe, version, fits, too_many):
    """Measured: Xen 4.17 and 4.20 build a 32-vCPU domU; 33 panic 'Device tree generation
    failed (-3)' (DOMU_DTB_SIZE is 4 KiB until 4.22)."""

    def vcpus(count):
        def change(doc):
            doc["xen"]["version"] = version
            doc["domains"][0]["vcpus"] = count

        return change

    assert plan_of(describe(vcpus(fits)))
    problems = problems_of(describe(vcpus(too_many), name="more.yaml"))
    assert any(
        f"rtos).vcpus: the device tree Xen {version} builds for 33 vCPUs" in p
        and "at most 32 vCPUs" in p
        for p in problems
    ), problems


def test_xen_4_22_sizes_the_domu_tree_for_every_vcpu(describe):
    def many(doc):
        doc["xen"]["version"] = "4.22"
        doc["domains"][0]["vcpus"] = 128

    assert plan_of(describe(many))


def test_xen_4_17_does_not_grow_the_buffer_for_a_partial_tree(describe):
    """4.17 builds the domU's tree, partial tree included, in 4 KiB; 4.18 adds its size."""

    def passthrough(version):
        def change(doc):
            doc["xen"]["version"] = version
            doc["domains"][0]["vcpus"] = 28
            doc["domains"][0]["passthrough"] = ["/pl061@9030000"]

        return change

    problems = problems_of(describe(passthrough("4.17")))
    assert any("and a " in p and "-byte partial tree" in p for p in problems), problems
    assert plan_of(describe(passthrough("4.18"), name="later.yaml"))


def test_kernel_ramdisk_and_tree_beyond_the_domains_ram(describe, inputs):
    """Xen's place_modules: the kernel file, the ramdisk and the device tree (each rounded up
    to 2 MiB) in the domain's first RAM bank, or 'Not enough memory in the first bank'."""
    kernel = inputs / "big.bin"
    kernel.write_bytes(arm64_image(13 << 20))  # 14M (to 2M) + 2M (tree) + 2M (ramdisk) > 16M

    def big(doc):
        doc["domains"][0].update(kernel=str(kernel), ramdisk=str(inputs / "initrd.cpio"))

    (problem,) = problems_of(describe(big))
    assert "domains[0] (rtos).kernel: the kernel (14M as Xen places it), the ramdisk (2M" in problem
    assert "need 18M of the domain's 16M of RAM" in problem
    kernel.write_bytes(arm64_image(12 << 20))  # 16M: exactly what fits
    assert plan_of(describe(big, name="fits.yaml"))


def test_the_kernel_counts_up_to_the_next_2m_boundary_from_where_it_loads(describe, inputs):
    """first_bank_can_fit_modules: kernsize = ROUNDUP(kernend, 2M) - kernbase. An arm64 Image
    loads at the start of guest RAM (2 MiB-aligned) plus its header's text_offset, so 12M and
    a page fill 14M without one, 13.5M with 0x80000; 17.5M of RAM fits only the latter."""
    kernel = inputs / "big.bin"

    def sized(text_offset: int, name: str) -> Path:
        image = bytearray(arm64_image((12 << 20) + 4096))
        image[8:16] = text_offset.to_bytes(8, "little")  # the Image header's text_offset
        kernel.write_bytes(bytes(image))

        def change(doc):
            doc["domains"][0].update(
                kernel=str(kernel), ramdisk=str(inputs / "initrd.cpio"), memory="17920K"
            )

        return describe(change, name=name)

    (problem,) = problems_of(sized(0, "aligned.yaml"))
    assert "need 18M of the domain's 17920K of RAM" in problem, problem
    assert plan_of(sized(0x80000, "offset.yaml"))
