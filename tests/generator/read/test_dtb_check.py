"""Every DTB taken in is checked whole: whatever dtc rejects, dom0less refuses with the reason."""

from __future__ import annotations

import random
import struct
import subprocess

import fdt
import pytest

from xen_dom0less.generator.read import dtb_check

from ...cli.test_hostile import fails, host_dtb
from ...conftest import QEMU_DTB
from ..check.test_rules import set_key

GOOD = QEMU_DTB.read_bytes()


def dtc_accepts(data: bytes) -> bool:
    result = subprocess.run(
        ["dtc", "-q", "-I", "dtb", "-O", "dtb", "-o", "/dev/null", "-"],
        input=data,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def mutations() -> list[tuple[str, bytes]]:
    """Truncations, every header field set to awkward values, and random byte changes."""
    found = [(f"cut at {n}", GOOD[:n]) for n in range(0, len(GOOD), 131)]
    for field in range(10):
        current = struct.unpack_from(">I", GOOD, 4 * field)[0]
        for value in {0, 1, 3, current + 1, current + 4, current - 4, len(GOOD) + 8, 0xFFFFFFFF}:
            data = bytearray(GOOD)
            struct.pack_into(">I", data, 4 * field, value & 0xFFFFFFFF)
            found.append((f"header word {field} = {value:#x}", bytes(data)))
    chance = random.Random(13)
    for case in range(300):
        data = bytearray(GOOD)
        for _ in range(chance.randint(1, 4)):
            where = chance.randrange(len(data))
            data[where] = chance.choice([0, 1, 2, 3, 4, 9, 0xFF, chance.randrange(256)])
        found.append((f"random change {case}", bytes(data)))
    return found


def test_the_examples_dtb_is_valid():
    assert dtb_check.problem(GOOD) is None and dtc_accepts(GOOD)


def test_whatever_dtc_rejects_is_refused():
    """On main (magic checked only) most of these were accepted; dtc rejects about half."""
    missed = [
        name
        for name, data in mutations()
        if not dtc_accepts(data) and dtb_check.problem(data) is None
    ]
    assert not missed


def test_accepted_mutations_parse_without_error():
    """What the check lets through, the fdt package reads (it raised bare exceptions before)."""
    for _name, data in mutations():
        if dtb_check.problem(data) is None:
            fdt.parse_dtb(data)


@pytest.mark.parametrize("size", [40, 1000, len(GOOD) - 8])
def test_truncated_host_dtb_names_the_description_key_and_file(capsys, describe, tmp_path, size):
    cut = tmp_path / "cut.dtb"
    cut.write_bytes(GOOD[:size])
    path = describe(set_key("host.dtb", str(cut)))
    fails(capsys, "check", path, str(path), "host.dtb", str(cut), "not a valid device tree")


def test_truncated_partial_dtb_is_refused(capsys, describe, tmp_path):
    partial = tmp_path / "partial.dtb"
    partial.write_bytes(GOOD[: len(GOOD) // 2])
    path = describe(set_key("domains.0.device_tree", str(partial)))
    fails(capsys, "check", path, "device_tree", "not a valid device tree")


@pytest.mark.parametrize("cells", ["#address-cells", "#size-cells"])
def test_zero_cells_in_the_host_tree_are_refused(capsys, describe, tmp_path, cells):
    path = describe(
        set_key("host.dtb", str(host_dtb(tmp_path, lambda t: t.set_property(cells, 0))))
    )
    fails(capsys, "check", path, f"{cells} = <0>", "fix the DTB")


def test_duplicated_phandle_is_refused(capsys, describe, tmp_path):
    """dtc: ERROR (explicit_phandles); found by a campaign of 2,500 random changes."""

    def edit(tree):
        for cpu in ("/cpus/cpu@0", "/cpus/cpu@1"):
            tree.get_node(cpu).set_property("phandle", 0x8004)

    path = describe(set_key("host.dtb", str(host_dtb(tmp_path, edit))))
    fails(capsys, "check", path, "host.dtb", "phandle 0x8004", "used twice")
