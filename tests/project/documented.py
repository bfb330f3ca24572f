"""The commands the documentation shows: README.md, docs/*.md and the layer's README.

Two kinds: the lines of ``sh`` code blocks, which a reader copies and runs as they
are, and the ``dom0less ...`` code spans in the prose, which show a command's
shape (placeholders such as FILE, options in brackets).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple, Optional

from ..conftest import ROOT

#: Every page whose commands are held to running.
PAGES = (
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "meta-xen-dom0less" / "README.md",
)

#: Documented lines no test runs as written (by how they start), and why.
NOT_RUN = {
    "scripts/demo": "tests/hostsetup/test_fresh_root.py runs it on a fresh Debian 12 and 13",
    "scripts/test": "it is the test run itself (.ci/run runs it whole)",
    "sudo tests/hostsetup/fresh_root.sh": "tests/hostsetup/test_fresh_root.py runs it",
}


class Command(NamedTuple):
    page: Path
    line: int
    text: str

    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}: {self.text}"


def shell_lines(page: Path) -> list[Command]:
    """Each command line of the page's ``sh`` blocks, as written (a trailing comment removed)."""
    found: list[Command] = []
    inside = False
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if line.startswith("```"):
            inside = not inside and line.strip() == "```sh"
            continue
        command = re.sub(r"(^|\s+)#\s.*$", "", line).strip()
        if inside and command:
            found.append(Command(page, number, command))
    return found


def not_run_because(command: Command) -> Optional[str]:
    """Why no test runs this documented line as written; None if test_documented does."""
    return next((why for start, why in NOT_RUN.items() if command.text.startswith(start)), None)


def run_here(page: Path) -> list[Command]:
    """The page's sh lines that tests/e2e/test_documented.py runs, in order."""
    return [c for c in shell_lines(page) if not_run_because(c) is None]


def spans(page: Path, pattern: str = r"[^`\n]+") -> list[Command]:
    """Every code span of the page matching ``pattern`` (whole), brackets around optional
    parts dropped."""
    text = page.read_text()
    return [
        Command(page, text.count("\n", 0, m.start()) + 1, re.sub(r"[\[\]]", "", m.group(1)))
        for m in re.finditer(rf"`({pattern})`", text)
    ]


def dom0less_spans(page: Path) -> list[Command]:
    """Every ```dom0less ...``` code span."""
    return spans(page, r"dom0less [^`]+")
