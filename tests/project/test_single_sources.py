"""Facts stated once in the library: the DTB and uImage magic numbers live in images.py."""

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
