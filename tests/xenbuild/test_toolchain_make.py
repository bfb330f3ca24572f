"""Tool checks before building, and running make with progress, log and a one-line failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xen_dom0less.errors import ToolError, UserError
from xen_dom0less.xenbuild import toolchain
from xen_dom0less.xenbuild.hypervisor import build_hypervisor, check_config, description_fragment
from xen_dom0less.xenbuild.make import Make, cause

FAKE_MAKE = """#!/bin/sh
echo "make[1]: Entering directory '/b'"
echo "  CC      common/sched/cpupool.o"
echo "aarch64-linux-gnu-gcc -c -o common/x.o common/x.c"
echo "  LD      xen-syms"
for i in $(seq 1 40); do echo "noise $i"; done
echo "$*" > "$ARGS_FILE"
exit $EXIT_CODE
"""


def test_unknown_architecture() -> None:
    with pytest.raises(UserError, match="unknown architecture 'riscv64': use one of arm64"):
        toolchain.target("riscv64")


def test_missing_tools_name_their_packages(tmp_path: Path) -> None:
    with pytest.raises(UserError) as raised:
        toolchain.check_tools(
            toolchain.target("arm64"), "aarch64-linux-gnu-", {"PATH": str(tmp_path)}
        )
    assert "'bison' is not installed: install the Debian package bison" in raised.value.lines
    assert raised.value.lines[-1] == (
        "cross compiler 'aarch64-linux-gnu-gcc' is not on "
        "PATH: install the Debian package "
        "gcc-aarch64-linux-gnu"
    )
    with pytest.raises(UserError, match="pass the prefix of one that is on PATH"):
        toolchain.check_tools(toolchain.target("arm32"), "my-", {"PATH": str(tmp_path)})


def fake_make(tmp_path: Path, exit_code: int) -> tuple[Make, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").write_text(FAKE_MAKE)
    (bin_dir / "make").chmod(0o755)
    environ = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "EXIT_CODE": str(exit_code),
        "ARGS_FILE": str(tmp_path / "args"),
    }
    shown: list[str] = []
    make = Make(
        Path("/src/xen"),
        Path("/b"),
        "arm64",
        "aarch64-linux-gnu-",
        environ,
        tmp_path / "build.log",
        shown.append,
    )
    return make, shown


def test_progress_shows_status_lines_and_the_log_keeps_everything(tmp_path: Path) -> None:
    make, shown = fake_make(tmp_path, 0)
    make("olddefconfig", jobs=2)
    assert shown == ["CC      common/sched/cpupool.o", "LD      xen-syms"]
    assert (tmp_path / "args").read_text().split() == [
        "-C",
        "/src/xen",
        "O=/b",
        "XEN_TARGET_ARCH=arm64",
        "CROSS_COMPILE=aarch64-linux-gnu-",
        "-j2",
        "olddefconfig",
    ]
    log = make.log.read_text()
    assert log.startswith("$ make -C /src/xen O=/b") and "noise 40" in log


def test_a_failure_is_one_line_ending_the_failed_run(tmp_path: Path) -> None:
    make, _ = fake_make(tmp_path, 2)
    with pytest.raises(ToolError) as raised:
        make()
    assert raised.value.lines == [
        f"make the hypervisor failed (exit 2): noise 40; the full log is {make.log}"
    ]
    assert (raised.value.tool, raised.value.status) == ("make", 2)  # kept, not only in text


def test_every_problem_before_building_is_named_at_once(tmp_path: Path) -> None:
    """Missing tools, a source that is none and a fragment line that is no setting were
    found one per attempt: the build stopped at the first."""
    fragment = tmp_path / "extra.cfg"
    fragment.write_text("CONFIG_DEBUG=y\nDEBUG=y\n")
    with pytest.raises(UserError) as raised:
        build_hypervisor(
            tmp_path / "absent",
            tmp_path / "out",
            cross_compile="my-",
            fragments=[fragment],
            environ={"PATH": str(tmp_path)},
        )
    lines = raised.value.lines
    assert lines[0] == "'make' is not installed: install the Debian package make"
    assert lines[-2:] == [
        f"Xen source {tmp_path / 'absent'} does not exist: give a source tree or tarball",
        f"{fragment}:2: 'DEBUG=y' is not a Kconfig setting: write CONFIG_NAME=value or "
        "'# CONFIG_NAME is not set'",
    ]
    assert not (tmp_path / "out").exists()


def test_the_cause_is_the_first_error_of_the_last_run(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text(
        "$ make defconfig\nwarning: an error in an earlier run\n"
        "$ make -j2\n  CC      common/x.o\ncommon/x.c:3:1: error: expected ';'\n"
        "make[2]: *** [Rules.mk:249: common/x.o] Error 1\n"
    )
    assert cause(log) == "common/x.c:3:1: error: expected ';'"
    log.write_text("$ make\n")
    assert cause(log) == "no output"


def test_the_layer_s_config_steps_name_every_problem_at_once(tmp_path: Path) -> None:
    """description_fragment and check_config (Yocto's do_configure and do_compile) stopped
    at a missing source before reading the description."""
    system = tmp_path / "system.yaml"
    system.write_text("version: 1\nversion: 1\n")
    expected = [
        f"Xen source {tmp_path / 'absent'} does not exist: give a source tree or tarball",
        f"{system}:2:1: the key 'version' is given twice, on lines 1 and 2: keep one",
    ]
    with pytest.raises(UserError) as raised:
        description_fragment(tmp_path / "absent", system, environ={})
    assert raised.value.lines == expected
    with pytest.raises(UserError) as raised:
        check_config(tmp_path / "absent", tmp_path / ".config", description=system, environ={})
    assert raised.value.lines == expected
