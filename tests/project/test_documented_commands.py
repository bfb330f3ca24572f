"""Every command the documentation shows exists as written: a renamed subcommand or option,
or a documented line no test accounts for, fails here (tests/e2e/test_documented.py runs
the lines themselves)."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys

import pytest

from xen_dom0less import cli

from ..conftest import ROOT
from .documented import NOT_RUN, PAGES, Command, dom0less_spans, run_here, shell_lines, spans

SPANS = [c for page in PAGES for c in dom0less_spans(page)]
LINES = [c for page in PAGES for c in shell_lines(page)]


def help_text(words: list[str]) -> str:
    """What ``dom0less WORDS --help`` prints (words up to the first option)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit:
        cli.parser(words).parse_args([*words, "--help"])
    assert exit.value.code == 0
    return out.getvalue()


def dom0less_words(command: Command) -> list[str]:
    return command.text.split()[1:]


@pytest.mark.parametrize(
    "command",
    SPANS + [c for c in LINES if c.text.startswith("dom0less ")],
    ids=lambda c: c.where(),
)
def test_documented_subcommand_and_options_exist(command: Command) -> None:
    words = dom0less_words(command)
    positional = [w for w in words if not w.startswith("-")]
    shown = help_text(positional[:1] + (positional[1:2] if positional[:1] == ["import"] else []))
    for option in (w.split("=")[0] for w in words if w.startswith("-")):
        assert re.search(rf"(?<![\w-]){re.escape(option)}\b", shown), (
            f"{command.where()}: dom0less has no option {option}"
        )


def test_what_is_not_run_is_documented_and_its_runner_exists() -> None:
    """Each NOT_RUN entry still matches a documented line, and the test it names exists."""
    assert run_here(PAGES[0]), "the README's own example is run by tests/e2e/test_documented.py"
    for start, why in NOT_RUN.items():
        assert any(c.text.startswith(start) for c in LINES), f"no documented line is {start}"
        for named in re.findall(r"tests/\S+\.py", why):
            assert (ROOT / named).is_file(), f"NOT_RUN[{start!r}] names {named}, which is gone"


#: Where the repository's own files live; a span word starting so names one.
TOP = ("scripts/", "tests/", "bench/", "kas/", "examples/", "docs/", "lib/", "meta-xen-dom0less/")
#: A word naming a file or a folder (not a module attribute such as tests/conftest.arm64_image).
PATH = re.compile(r"[\w./-]+(\.(py|sh|md|yml|yaml|svg|dtb|json|cfg|dts)|/)")


def test_documented_paths_exist() -> None:
    """Every repository path a code span names is there (a moved test or script fails)."""
    missing = [
        f"{c.where()}: {word}"
        for page in PAGES
        for c in spans(page)
        for word in c.text.split()
        if word.startswith(TOP) and PATH.fullmatch(word) and not (ROOT / word).exists()
    ]
    assert missing == []


BENCH = [
    c
    for page in PAGES
    for c in spans(page, r"(?:nice )?python3 bench/\w+\.py[^`]*")
    if " --" in c.text
]


@pytest.mark.parametrize("command", BENCH, ids=lambda c: c.where())
def test_documented_bench_options_exist(command: Command) -> None:
    words = command.text.split()
    script = next(w for w in words if w.startswith("bench/"))
    shown = subprocess.run(
        [sys.executable, str(ROOT / script), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in (w for w in words if w.startswith("--")):
        assert re.search(rf"(?<![\w-]){re.escape(option)}\b", shown), command.where()


def test_documented_pytest_markers_are_registered() -> None:
    registered = set(re.findall(r'^    "(\w+):', (ROOT / "pyproject.toml").read_text(), re.M))
    for page in PAGES:
        for command in spans(page, r"(?:scripts/test|pytest)[^`]* -m [^`]+"):
            expression = command.text.split(" -m ", 1)[1].strip('"')
            names = set(re.findall(r"\w+", expression)) - {"and", "or", "not"}
            assert names <= registered, command.where()
