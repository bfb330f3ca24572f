"""The fuzz campaign's isolation oracle finds what it must, written apart from the product."""

from __future__ import annotations

import yaml

from ..conftest import QEMU_DTB
from .isolation_oracle import overlaps


def description(tmp_path, passthrough: dict) -> object:
    """A description on QEMU's tree giving each named domain its devices."""
    document = {
        "host": {"dtb": str(QEMU_DTB)},
        "domains": [{"name": name, "passthrough": paths} for name, paths in passthrough.items()],
    }
    path = tmp_path / "system.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_device_of_its_own_page_is_isolated(tmp_path):
    assert overlaps(description(tmp_path, {"io": ["/pl061@9030000"]})) == []


def test_ram_the_console_the_gic_and_a_shared_page_are_found(tmp_path):
    found = overlaps(
        description(
            tmp_path,
            {
                "a": ["/memory@40000000", "/pl011@9000000", "/virtio_mmio@a000000"],
                "b": ["/intc@8000000/its@8080000", "/virtio_mmio@a000200"],
            },
        )
    )
    assert "a: /memory@40000000 0x40000000-0xc0000000 overlaps /memory@40000000" in found
    assert "a: /pl011@9000000 0x9000000-0x9001000 overlaps /pl011@9000000" in found
    assert (
        "b: /intc@8000000/its@8080000 0x8080000-0x80a0000 overlaps /intc@8000000/its@8080000"
        in found
    )
    assert "a: /virtio_mmio@a000000 shares a page with b's /virtio_mmio@a000200" in found
