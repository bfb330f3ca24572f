"""Merging the description's options and the user's fragments into a .config."""

from __future__ import annotations

from pathlib import Path

import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import wishes
from xen_dom0less.xenbuild.wishes import Wish

DEFCONFIG = """#
# Automatically generated file; DO NOT EDIT.
#
CONFIG_ARM=y
# CONFIG_UNSUPPORTED is not set
CONFIG_NR_CPUS=128
CONFIG_SCHED_CREDIT2=y
"""


def fragment(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_later_fragments_win_and_keep_their_line(tmp_path: Path) -> None:
    first = fragment(tmp_path, "a.cfg", "CONFIG_NR_CPUS=8\n# a comment\n\nCONFIG_DEBUG=y\n")
    second = fragment(tmp_path, "b.cfg", "CONFIG_NR_CPUS=4\n")
    wanted = wishes.collect({"STATIC_MEMORY": "static memory"}, [first, second])
    assert wanted == {
        "STATIC_MEMORY": Wish("y", "static memory"),
        "NR_CPUS": Wish("4", f"{second}:1"),
        "DEBUG": Wish("y", f"{first}:4"),
    }


def test_fragment_turning_off_a_needed_option_is_refused(tmp_path: Path) -> None:
    off = fragment(tmp_path, "off.cfg", "# CONFIG_STATIC_MEMORY is not set\n")
    with pytest.raises(
        UserError,
        match=r"off.cfg:1: sets CONFIG_STATIC_MEMORY=n but static "
        r"memory needs it",
    ):
        wishes.collect({"STATIC_MEMORY": "static memory"}, [off])


def test_garbage_line_and_missing_file_are_refused(tmp_path: Path) -> None:
    bad = fragment(tmp_path, "bad.cfg", "STATIC_MEMORY=y\n")
    with pytest.raises(UserError, match=r"bad.cfg:1: 'STATIC_MEMORY=y' is not a Kconfig"):
        wishes.collect({}, [bad])
    with pytest.raises(UserError, match="cannot read the config fragment"):
        wishes.collect({}, [tmp_path / "absent.cfg"])


def test_merge_replaces_lines_in_place_and_appends_new_ones() -> None:
    merged = wishes.merge(
        DEFCONFIG,
        {
            "UNSUPPORTED": Wish("y", "x"),
            "SCHED_CREDIT2": Wish("n", "x"),
            "STATIC_MEMORY": Wish("y", "x"),
        },
    )
    assert merged.splitlines()[3:] == [
        "CONFIG_ARM=y",
        "CONFIG_UNSUPPORTED=y",
        "CONFIG_NR_CPUS=128",
        "# CONFIG_SCHED_CREDIT2 is not set",
        "CONFIG_STATIC_MEMORY=y",
    ]


def test_dropped_compares_with_the_resolved_values() -> None:
    wanted = {
        "STATIC_SHM": Wish("y", "x"),
        "DEBUG": Wish("n", "x"),
        "NR_CPUS": Wish("4", "x"),
        "TEE": Wish("n", "x"),
    }
    resolved = {"DEBUG": "n", "NR_CPUS": "128"}
    assert wishes.dropped(wanted, resolved) == ["STATIC_SHM", "NR_CPUS"]


def test_fragment_says_why() -> None:
    text = wishes.fragment(
        {"STATIC_MEMORY": Wish("y", "static memory"), "DEBUG": Wish("n", "my.cfg:2")}
    )
    assert text == (
        "# static memory\nCONFIG_STATIC_MEMORY=y\n# my.cfg:2\n# CONFIG_DEBUG is not set\n"
    )
