"""Every description under examples/ is booted on its QEMU model, or says why it cannot be.

All of them are checked and built by the fast tests (tests/generator/test_examples.py,
tests/generator/test_release_goldens.py, tests/boards); this holds the boots to the list.
"""

from __future__ import annotations

import pytest

from ..conftest import EXAMPLES, ROOT

#: Example -> the boot test that builds it as written and waits for every domain's first line.
BOOTED = {
    "qemu-dom0less.yaml": "tests/e2e/test_examples.py::test_true_dom0less_example",
    "qemu-dom0.yaml": "tests/e2e/test_examples.py::test_dom0_example",
    "qemu-partitioned.yaml": (
        "tests/e2e/test_examples.py::test_partitioned_example_on_a_purpose_built_xen"
    ),
    "boards/zcu102.yaml": (
        "tests/e2e/test_examples.py::test_zcu102_board_example_with_the_documented_command"
    ),
}

#: Example -> why no test boots it here.
NOT_BOOTED = {
    "boards/imx8mp-evk.yaml": "QEMU has no i.MX 8M Plus model",
    "boards/rpi4.yaml": "Debian 12's QEMU (7.2) has no Raspberry Pi 4 model (raspi4b: QEMU 9.0)",
    "boards/rzg2m-hihope.yaml": "QEMU has no Renesas RZ/G2M model",
    "releases/xen-4.20.yaml": (
        "its XSM policy is a synthetic file with FLASK's magic: a real policy is needed to boot"
    ),
    "releases/xen-4.21.yaml": "no Debian suite ships a Xen 4.21 to boot it with",
    "releases/xen-4.22.yaml": "no Debian suite ships a Xen 4.22 to boot it with",
}


def test_every_example_is_booted_or_says_why_not() -> None:
    examples = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.yaml"))
    assert examples == sorted([*BOOTED, *NOT_BOOTED])
    assert not set(BOOTED) & set(NOT_BOOTED)


@pytest.mark.parametrize("example", sorted(BOOTED))
def test_the_boot_named_exists(example: str) -> None:
    path, name = BOOTED[example].split("::")
    assert f"def {name}(" in (ROOT / path).read_text(), BOOTED[example]
