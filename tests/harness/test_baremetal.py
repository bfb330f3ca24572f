"""The bare-metal guest: a valid arm64 Image, patched in place without re-assembling."""

from __future__ import annotations

import struct

import pytest
from xen_dom0less_harness.guests import baremetal

from xen_dom0less.generator.facts.images import ARM64_IMAGE, classify


def test_is_an_arm64_image_whose_size_covers_its_stack(tmp_path):
    image = baremetal.write(baremetal.Program("hello"), tmp_path / "g.bin").read_bytes()
    assert classify(image[:64]) == ARM64_IMAGE
    assert struct.unpack_from("<Q", image, 0x10)[0] >= len(image)


def test_program_is_patched_into_the_parameter_block(tmp_path):
    program = baremetal.Program(
        "marker text", uart=0x9000000, reads=(0x9030FE0,), poll=0x51000000, print_counter=True
    )
    image = baremetal.write(program, tmp_path / "g.bin").read_bytes()
    at = image.index(baremetal.MAGIC)
    assert image[at : at + len(program.pack())] == program.pack()
    plain = baremetal.write(baremetal.Program("other"), tmp_path / "h.bin").read_bytes()
    assert plain[:at] == image[:at]  # same code: only the parameters differ


@pytest.mark.parametrize(
    "program",
    [
        baremetal.Program("two\nlines"),
        baremetal.Program("x" * baremetal.MARKER_SIZE),
        baremetal.Program("ok", reads=(0x9030FE2,)),
        baremetal.Program("ok", reads=tuple(range(0, 4 * 17, 4))),
        baremetal.Program("ok", write=(0x50000002, 1)),
        baremetal.Program("ok", poll=0x51000001),
        baremetal.Program("ok", print_scheduled=True),  # it goes on the counter's line
    ],
)
def test_refuses_what_the_guest_cannot_do(program):
    with pytest.raises(ValueError):
        program.pack()
