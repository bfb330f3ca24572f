"""One program -> Debian package table (hosttools.PACKAGES) serves every layer."""

from __future__ import annotations

import re

from xen_dom0less_harness import tools, toolstack

from xen_dom0less import hosttools
from xen_dom0less.xenbuild import debian, toolchain

from ..conftest import ROOT


def test_every_program_a_layer_looks_up_has_its_package_in_the_one_table():
    compilers = [f"{t.cross_compile}gcc" for t in toolchain.TARGETS.values()]
    programs = (*tools.HOST_TOOLS, *toolchain.HOST_TOOLS, *debian.FETCH_TOOLS, *compilers)
    programs += toolstack.HOST_TOOLS
    assert [p for p in programs if p not in hosttools.PACKAGES] == []
    assert toolchain.TARGETS["arm64"].compiler_package == "gcc-aarch64-linux-gnu"


def test_the_readme_names_every_package_dom0less_setup_installs():
    """The README's list of what `scripts/demo` installs through apt is setup's own."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("- **Debian packages, through apt**")
    listed = set(re.findall(r"`([a-z0-9.+-]+)`", readme[start : readme.index("- **", start + 1)]))
    installed = {hosttools.PACKAGES[p] for p in tools.HOST_TOOLS} | set(tools.HOST_FILES.values())
    assert sorted(installed - listed) == []
