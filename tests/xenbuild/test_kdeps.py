"""Explaining a dropped setting from a tiny Kconfig tree laid out like Xen's."""

from __future__ import annotations

from pathlib import Path

import pytest

from xen_dom0less.xenbuild import kdeps
from xen_dom0less.xenbuild.wishes import Wish

ROOT_KCONFIG = """\
mainmenu "Xen"

config UNSUPPORTED
    bool "Configure UNSUPPORTED features"
    help
      This text says depends on NOTHING and must be ignored.

config EXPERT
    bool "Configure EXPERT features"
"""

COMMON_KCONFIG = """\
menu "Common"
    depends on ARM
    visible if EXPERT || UNSUPPORTED

config STATIC_MEMORY
    bool "Static Allocation Support (UNSUPPORTED)" if UNSUPPORTED

config STATIC_SHM
    bool "Statically shared memory"  # a trailing comment
    depends on STATIC_MEMORY

if !EXPERT
config SAFE_DEFAULTS
    bool "Only when not EXPERT"
endif

config SVE_ONLY_X86
    bool "Needs x86"
    depends on X86

endmenu
"""

ARM_KCONFIG = """\
config ARM
    def_bool y
"""


@pytest.fixture
def known(tmp_path: Path) -> dict[str, kdeps.Definition]:
    xen = tmp_path / "xen"
    for relative, text in {
        "Kconfig": ROOT_KCONFIG,
        "common/Kconfig": COMMON_KCONFIG,
        "arch/arm/Kconfig": ARM_KCONFIG,
        "arch/x86/Kconfig": "config X86\n    def_bool y\n",
        "tools/kconfig/tests/Kconfig": "config UNSUPPORTED\n    depends on BOGUS\n",
    }.items():
        (xen / relative).parent.mkdir(parents=True, exist_ok=True)
        (xen / relative).write_text(text)
    return kdeps.definitions(xen, "arm")


def test_conditions_come_from_prompts_depends_menus_and_ifs(known) -> None:
    assert known["UNSUPPORTED"] == kdeps.Definition([], prompt=True)
    menu = ["ARM", "EXPERT || UNSUPPORTED"]
    assert known["STATIC_MEMORY"].conditions == [*menu, "UNSUPPORTED"]
    assert known["STATIC_SHM"].conditions == [*menu, "STATIC_MEMORY"]
    assert known["SAFE_DEFAULTS"].conditions == [*menu, "!EXPERT"]
    assert known["ARM"] == kdeps.Definition([], prompt=False)
    assert "X86" not in known


def explain(known, option: str, value: str = "y", **resolved: str) -> str:
    resolved = {"ARM": "y", "EXPERT": "y", "UNSUPPORTED": "y", **resolved}
    return kdeps.explain(option, Wish(value, "my.cfg:3"), resolved, known, "4.17")


def test_missing_dependency_is_named(known) -> None:
    message = explain(known, "STATIC_SHM")
    assert message.startswith(
        "CONFIG_STATIC_SHM=y (asked for by my.cfg:3) was not kept: Kconfig made it n"
    )
    assert message.endswith("add CONFIG_STATIC_MEMORY=y to a config fragment")


def test_negated_dependency_asks_to_turn_it_off(known) -> None:
    assert "add '# CONFIG_EXPERT is not set'" in explain(known, "SAFE_DEFAULTS", EXPERT="y")


def test_unknown_option_and_other_architecture(known) -> None:
    assert "Xen 4.17 has no such option" in explain(known, "STATIC_MEMROY")
    assert "needs CONFIG_X86, which this architecture cannot set" in explain(known, "SVE_ONLY_X86")


def test_option_kept_on_and_met_dependencies(known) -> None:
    assert "selects it or it has no prompt" in explain(known, "ARM", "n")
    assert "'make menuconfig'" in explain(known, "STATIC_MEMORY", "y")


def test_menu_visibility_is_a_dependency(known) -> None:
    assert explain(known, "STATIC_MEMORY", EXPERT="n", UNSUPPORTED="n").endswith(
        "add CONFIG_EXPERT=y, CONFIG_UNSUPPORTED=y to a config fragment"
    )
