"""The example descriptions of real boards, checked and planned against Debian's trees.

Each board breaks an assumption QEMU's virt machine never tests: RAM in several
banks or filled in by firmware, a GIC-400, a console UART Xen cannot drive, devices
behind clock and power controllers, buses that translate addresses.
"""

from __future__ import annotations

from pathlib import Path

import fdt
import pytest
import yaml

from xen_dom0less.errors import UserError
from xen_dom0less.generator.model import Region
from xen_dom0less.generator.pipeline import build, check

from ..conftest import EXAMPLES, write_inputs

BOARDS = EXAMPLES / "boards"
U_BOOT = "U-Boot (host.uboot_reserve)"


@pytest.fixture
def environ(tmp_path: Path, dtbs: Path) -> dict[str, str]:
    return {"DOM0LESS_INPUTS": str(write_inputs(tmp_path / "inputs")), "KERNEL_DTBS": str(dtbs)}


def built(board: str, environ: dict, tmp_path: Path, change=None):
    path = BOARDS / f"{board}.yaml"
    if change is not None:
        document = yaml.safe_load(path.read_text())
        change(document)
        path = tmp_path / f"{board}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    out = tmp_path / "out"
    return build(path, out, environ), out


def refused(board: str, environ: dict, tmp_path: Path, change) -> list[str]:
    with pytest.raises(UserError) as caught:
        built(board, environ, tmp_path, change)
    return caught.value.lines


def excluded(plan, reason: str) -> list[Region]:
    return [e.region for e in plan.excluded if e.reason == reason]


def guest_device(out: Path, domain: str = "rtos") -> tuple[str, fdt.Node]:
    tree = fdt.parse_dtb((out / f"{domain}-passthrough.dtb").read_bytes())
    (node,) = tree.get_node("/passthrough").nodes
    return node.name, node


def cells(node: fdt.Node, name: str) -> list[int]:
    return list(node.get_property(name).data)


def test_zcu102(environ, tmp_path):
    plan, out = built("zcu102", environ, tmp_path)
    assert plan.host.memory_banks == (Region(0, 2 << 30), Region(0x800000000, 2 << 30))
    assert plan.host.gic_version == 2
    assert excluded(plan, U_BOOT) == [Region(0x7C000000, 64 << 20)]
    assert plan.xen_bootargs.split()[:2] == ["console=dtuart", "dtuart=serial0"]
    assert "HAS_CADENCE_UART" in plan.kconfig
    assert (plan.xen.address, plan.dtb.address, plan.script.address) == (0, 0x400000, 0x20000000)
    name, node = guest_device(out)
    assert name == "serial@ff010000"
    assert cells(node, "xen,reg") == [0, 0xFF010000, 0, 0x1000, 0, 0xFF010000]
    assert cells(node, "interrupts") == [0, 22, 4]
    assert not {"clocks", "power-domains", "pinctrl-0"} & {p.name for p in node.props}


def test_zcu102_device_with_firmware_clocks_is_refused_without_accept(environ, tmp_path):
    def plain(doc):
        doc["domains"][0]["passthrough"] = ["/axi/serial@ff010000"]

    problems = refused("zcu102", environ, tmp_path, plain)
    for word in ("clocks", "power-domains", "pinctrl"):
        assert any(f"has {word}:" in p and f"accept: [{word}]" in p for p in problems), problems


def test_zcu102_xen_console_cannot_be_passed_through(environ, tmp_path):
    def console(doc):
        doc["domains"][0]["passthrough"][0]["path"] = "/axi/serial@ff000000"

    problems = refused("zcu102", environ, tmp_path, console)
    assert any("overlaps Xen's console UART /axi/serial@ff000000" in p for p in problems), problems


def test_imx8mp_evk(environ, tmp_path):
    plan, out = built("imx8mp-evk", environ, tmp_path)
    assert plan.host.memory_banks == (Region(0x40000000, 3 << 30), Region(0x100000000, 3 << 30))
    assert plan.xen_bootargs.split()[0] == "console=none"
    assert excluded(plan, U_BOOT) == [Region(0xFC000000, 64 << 20)]
    assert excluded(plan, "/reserved-memory/dsp@92400000") == [Region(0x92400000, 32 << 20)]
    assert (plan.xen.address, plan.script.address) == (0x40000000, 0x40480000)
    _name, node = guest_device(out)
    assert cells(node, "xen,reg") == [0, 0x30200000, 0, 0x10000, 0, 0x30200000]
    assert cells(node, "interrupts") == [0, 64, 4, 0, 65, 4]


def test_imx8mp_console_has_no_xen_driver(environ, tmp_path):
    def default_console(doc):
        doc["xen"].pop("console")

    problems = refused("imx8mp-evk", environ, tmp_path, default_console)
    assert any(
        "Xen 4.20 has no driver for its console /soc@0/bus@30800000/serial@30890000 "
        "(fsl,imx8mp-uart, fsl,imx6q-uart)" in p
        for p in problems
    ), problems


def test_rpi4(environ, tmp_path):
    plan, out = built("rpi4", environ, tmp_path)
    assert plan.host.memory_banks == (Region(0, 0x3B400000), Region(0x40000000, 0xBC000000))
    # U-Boot relocates to the top of the first bank, not of the RAM below 4 GiB
    assert excluded(plan, U_BOOT) == [Region(0x37400000, 64 << 20)]
    assert excluded(plan, "/memreserve/") == [Region(0, 0x1000)]
    assert plan.xen_bootargs.split()[:2] == ["console=dtuart", "dtuart=serial1"]
    assert "HAS_NS16550" in plan.kconfig
    assert plan.script.address == 0x2400000
    board = fdt.parse_dtb((out / "xen.dtb").read_bytes())
    assert list(board.get_property("reg", "/memory@0").data) == [
        0,
        0,
        0x3B400000,
        0,
        0x40000000,
        0xBC000000,
    ]
    name, node = guest_device(out)
    # /soc translates 0x7e000000 to 0xfe000000: the guest sees the CPU address
    assert name == "serial@fe201000"
    assert cells(node, "xen,reg") == [0, 0xFE201000, 0, 0x1000, 0, 0xFE201000]
    assert cells(node, "reg") == [0, 0xFE201000, 0, 0x200]


def test_rpi4_without_its_banks_is_told_the_firmware_fills_them(environ, tmp_path):
    def no_banks(doc):
        doc["host"].pop("memory")

    problems = refused("rpi4", environ, tmp_path, no_banks)
    assert any("/memory@0 has no RAM" in p and "host.memory" in p for p in problems), problems


def test_rpi4_disabled_uart_is_refused_unless_accepted(environ, tmp_path):
    """UART2 shares UART0's page (the example's PL011), so it goes to the same domain."""

    def disabled(accept):
        def change(doc):
            doc["domains"][0]["passthrough"].append(
                {"path": "/soc/serial@7e201400", "accept": accept}
            )

        return change

    problems = refused("rpi4", environ, tmp_path, disabled(["clocks"]))
    assert any("/soc/serial@7e201400 is disabled" in p for p in problems), problems
    built("rpi4", environ, tmp_path, disabled(["clocks", "disabled"]))


def test_rpi4_uart_sharing_a_page_with_one_nobody_has_is_refused(environ, tmp_path):
    def alone(doc):
        doc["domains"][0]["passthrough"] = [
            {"path": "/soc/serial@7e201400", "accept": ["clocks", "disabled"]}
        ]

    problems = refused("rpi4", environ, tmp_path, alone)
    assert any(
        "also holds /soc/serial@7e201000 (given to no domain) at 0xfe201000-0xfe201200" in p
        for p in problems
    ), problems


def test_rzg2m_hihope(environ, tmp_path):
    plan, out = built("rzg2m-hihope", environ, tmp_path)
    assert plan.host.memory_banks == (Region(0x48000000, 0x78000000), Region(0x600000000, 2 << 30))
    assert plan.host.gic_version == 2 and len(plan.host.cpus) == 6
    assert excluded(plan, U_BOOT) == [Region(0xBC000000, 64 << 20)]
    assert plan.xen_bootargs.split()[:2] == ["console=dtuart", "dtuart=serial0"]
    assert "HAS_SCIF" in plan.kconfig
    assert (plan.script.address, plan.xen.address) == (0x48000000, 0x48200000)
    _name, node = guest_device(out)
    assert cells(node, "xen,reg") == [0, 0xE6050000, 0, 0x1000, 0, 0xE6050000]
    assert cells(node, "interrupts") == [0, 4, 4]


def test_rzg2m_vcpus_beyond_the_gic400(environ, tmp_path):
    def nine(doc):
        doc["domains"][1]["vcpus"] = 9

    problems = refused("rzg2m-hihope", environ, tmp_path, nine)
    assert any("more than Xen's virtual GIC supports (8)" in p for p in problems), problems


@pytest.mark.parametrize("board", ["zcu102", "imx8mp-evk", "rpi4", "rzg2m-hihope"])
def test_board_descriptions_check(board, environ):
    plan = check(BOARDS / f"{board}.yaml", environ)
    assert plan.domains["rtos"].device_tree is not None
