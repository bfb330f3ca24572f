"""Facts stated once: the DTB and uImage magic numbers live in images.py, and the tests and
bench scripts write their fake arm64 Images with one helper (conftest.arm64_image)."""

from __future__ import annotations

import re

from ..conftest import ROOT

#: Each magic as an int literal or as the bytes of its big-endian form.
MAGICS = {
    "DTB": re.compile(r"0x[dD]00[dD][fF][eE][eE][dD]|\\xd0\\x0d\\xfe\\xed", re.IGNORECASE),
    "uImage": re.compile(r"0x27051956|\\x27\\x05\\x19\\x56", re.IGNORECASE),
}


def test_magic_numbers_are_stated_only_in_images_py():
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "lib").rglob("*.py"))
        for name, pattern in MAGICS.items()
        if pattern.search(path.read_text())
    ]
    assert found == [
        "lib/xen_dom0less/generator/facts/images.py: DTB",
        "lib/xen_dom0less/generator/facts/images.py: uImage",
    ]


#: The arm64 Image magic at offset 0x38, as bytes with an escape or as the letters.
ARM64_MAGIC = re.compile(r"ARM\\x64|b[\"']ARMd")


def test_arm64_image_magic_is_read_in_images_py_and_faked_in_conftest_only():
    found = [
        str(path.relative_to(ROOT))
        for folder in ("lib", "tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if ARM64_MAGIC.search(path.read_text())
    ]
    assert found == ["lib/xen_dom0less/generator/facts/images.py", "tests/conftest.py"]
