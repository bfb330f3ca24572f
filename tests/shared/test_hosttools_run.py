"""hosttools.run handing a program's lines on as they come (apt's progress), with the same
failure and timeout messages as a captured run."""

from __future__ import annotations

import time

import pytest

from xen_dom0less import hosttools
from xen_dom0less.errors import UserError


def test_each_line_is_handed_on_before_the_program_ends():
    seen: list[tuple[str, float]] = []
    script = "echo dlstatus:1:50.0:x; sleep 1; echo dlstatus:1:100.0:x"
    start = time.monotonic()
    output = hosttools.run(
        ["sh", "-c", script], "a test", on_line=lambda line: seen.append((line, time.monotonic()))
    )
    assert [line for line, _ in seen] == ["dlstatus:1:50.0:x", "dlstatus:1:100.0:x"]
    assert seen[0][1] - start < seen[1][1] - start - 0.5, "the first line came only at the end"
    assert output == "dlstatus:1:50.0:x\ndlstatus:1:100.0:x\n"


def test_a_streamed_failure_quotes_its_last_lines():
    with pytest.raises(UserError, match=r"a test failed \(sh: E: no such package\): fix it"):
        hosttools.run(
            ["sh", "-c", "echo E: no such package >&2; exit 100"],
            "a test",
            hint="fix it",
            on_line=lambda line: None,
        )


def test_a_streamed_program_that_hangs_is_killed_and_named(monkeypatch):
    monkeypatch.setenv(hosttools.TIMEOUT_SCALE, "1")
    with pytest.raises(UserError, match=r"a test did not finish within 0.5 s \(sleep killed\)"):
        hosttools.run(["sleep", "30"], "a test", timeout=0.5, on_line=lambda line: None)
