"""The watch loop, driven by a shell standing in for QEMU: success, failure, timeout, cleanup."""

from __future__ import annotations

import os
import time

import pytest
from xen_dom0less_harness.console import Console
from xen_dom0less_harness.runner import watch

from xen_dom0less import hosttools
from xen_dom0less.errors import UserError


def shell(script: str) -> list[str]:
    return ["/bin/sh", "-c", script]


@pytest.mark.slow  # waits out a real timeout or the kill's grace period
def test_stops_as_soon_as_every_marker_appeared_and_kills_its_process_group(tmp_path):
    pid_file = tmp_path / "child"
    result = watch(
        shell(f"sleep 600 & echo $! > {pid_file}; echo one; echo two; wait"),
        Console(["one", "two"]),
        timeout=30,
    )
    assert result.ok and result.elapsed < 10
    child = int(pid_file.read_text())
    for _ in range(50):
        if not os.path.exists(f"/proc/{child}"):
            break
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{child}")


@pytest.mark.slow  # waits out a real timeout or the kill's grace period
def test_fatal_line_fails_without_waiting_for_the_timeout():
    result = watch(
        shell("echo '## Error: \"bootcmd\" not defined'; sleep 600"), Console(["never"]), timeout=60
    )
    assert not result.ok and result.elapsed < 10
    assert result.reason.startswith("## Error")


@pytest.mark.slow  # waits out a real timeout or the kill's grace period
def test_timeout_names_the_missing_markers():
    result = watch(shell("echo seen; sleep 600"), Console(["seen", "absent"]), timeout=1)
    assert not result.ok
    assert result.reason == "timed out after 1 s waiting for 'absent'"


def test_exit_before_markers_is_a_failure():
    result = watch(shell("echo bye; exit 3"), Console(["absent"]), timeout=30)
    assert result.reason == "QEMU exited (status 3) before 'absent'"


def test_no_markers_runs_until_exit():
    result = watch(shell("echo a; echo b"), Console([]), timeout=None)
    assert result.ok and result.console == "a\nb\n"


def test_keys_are_typed_once_their_text_appeared_and_in_order():
    console = Console(["prompt", "second", "got a then b"])
    result = watch(
        shell("echo prompt; read x; echo second; read y; echo got $x then $y; sleep 600"),
        console,
        timeout=30,
        keys=[("prompt", b"a\n"), ("second", b"b\n")],
    )
    assert result.ok, result.reason


@pytest.mark.slow  # waits out a real timeout or the kill's grace period
def test_timeouts_scale_with_the_environment(monkeypatch):
    """DOM0LESS_TIMEOUT_SCALE multiplies a boot's timeout (slow runners), and is checked."""
    monkeypatch.setenv("DOM0LESS_TIMEOUT_SCALE", "2")
    result = watch(shell("echo seen; sleep 600"), Console(["seen", "absent"]), timeout=0.5)
    assert result.reason == "timed out after 1 s waiting for 'absent'"
    monkeypatch.setenv("DOM0LESS_TIMEOUT_SCALE", "fast")
    with pytest.raises(UserError, match="DOM0LESS_TIMEOUT_SCALE='fast' is not a positive number"):
        watch(shell("true"), Console([]), timeout=1)


def test_a_hung_host_tool_is_killed_and_named(monkeypatch):
    monkeypatch.setenv("DOM0LESS_TIMEOUT_SCALE", "0.5")
    with pytest.raises(UserError, match=r"waiting for Godot did not finish within 0.1 s \(sleep"):
        hosttools.run(["sleep", "600"], "waiting for Godot", timeout=0.2)
