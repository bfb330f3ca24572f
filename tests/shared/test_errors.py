"""One error model: problems are records, user errors say whose fault, one place prints them."""

from __future__ import annotations

import io

import pytest

from xen_dom0less import hosttools
from xen_dom0less.cli import main
from xen_dom0less.errors import (
    Checks,
    DescriptionError,
    InputFileError,
    Problem,
    Problems,
    ToolError,
    UserError,
    report,
)
from xen_dom0less.generator.read import description
from xen_dom0less.generator.read.host_input import load_host


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (Problem("m", "f.yaml", "domains[0].memory", 3, 7), "f.yaml:3:7: domains[0].memory: m"),
        (Problem("m", "f.yaml", "xen.image"), "f.yaml: xen.image: m"),
        (Problem("m", "config", line=2), "config:2: m"),
        (Problem("m"), "m"),
    ],
)
def test_a_problem_reads_file_line_column_key_then_message(problem, text):
    assert str(problem) == text
    assert UserError([problem, "plain"]).lines == [text, "plain"]


def test_problems_collected_are_raised_together_as_their_kind():
    problems = Problems("sys.yaml")
    problems.add("xen.image", "missing")
    problems.add("boot.load", "unknown", line=9)
    with pytest.raises(DescriptionError) as caught:
        problems.raise_if_any()
    assert caught.value.problems == (
        Problem("missing", "sys.yaml", "xen.image"),
        Problem("unknown", "sys.yaml", "boot.load", 9),
    )
    Problems("other", InputFileError).raise_if_any()  # none: nothing raised


def test_yaml_problems_carry_their_line_and_column_as_fields(describe):
    """The line was only baked into the text; now a reader can place it without parsing."""
    path = describe()
    before = len(path.read_text().splitlines())
    path.write_text(path.read_text() + "version: 1\nextra: 1_0\n")
    with pytest.raises(DescriptionError) as caught:
        description.load(path)
    duplicate, number = caught.value.problems
    assert (duplicate.source, duplicate.line, duplicate.column) == (str(path), before + 1, 1)
    assert (number.line, number.column) == (before + 2, 8)
    assert number.message.startswith("'1_0' is not a number dom0less reads")
    assert caught.value.lines[1].startswith(f"{path}:{before + 2}:8: '1_0' is not a number")


def test_a_description_that_cannot_be_read_is_an_input_file_error(tmp_path):
    with pytest.raises(InputFileError):
        description.load(tmp_path / "absent.yaml")


def test_the_command_prints_what_report_prints(capsys, describe):
    """One place prints problems: the command's lines are report()'s, which the layer's
    tasks call too."""
    path = describe()
    path.write_text(path.read_text() + "version: 1\nextra: 1_0\n")
    assert main(["check", str(path)]) == 1
    printed = capsys.readouterr().err
    with pytest.raises(DescriptionError) as caught:
        description.load(path)
    stream = io.StringIO()
    assert report(caught.value, stream) == 1
    assert printed == stream.getvalue() and printed.count("\n") == 2
    assert all(line.startswith(f"error: {path}:") for line in printed.splitlines())


def test_a_failed_program_keeps_its_exit_status():
    with pytest.raises(ToolError) as caught:
        hosttools.run(["sh", "-c", "echo broken >&2; exit 3"], "testing")
    assert (caught.value.tool, caught.value.status) == ("sh", 3)
    assert caught.value.lines == ["testing failed (sh: broken)"]
    with pytest.raises(ToolError) as caught:
        hosttools.run(["/nonexistent/tool"], "testing")
    assert (caught.value.tool, caught.value.status) == ("tool", None)


def test_a_problem_given_by_key_names_the_line_of_that_key(tmp_path):
    """Schema and environment problems named the key only; the reader's line map places them
    (a missing key on the line of the mapping that lacks it)."""
    path = tmp_path / "system.yaml"
    path.write_text(
        "version: 1\n"
        "xen:\n"
        "  image: ${NOT_SET_ANYWHERE}\n"
        "  version: '4.17'\n"
        "host: {dtb: virt.dtb}\n"
        "domains:\n"
        "  - name: rtos\n"
        "    memory: 16Q\n"
        "boot: {}\n"
    )
    with pytest.raises(DescriptionError) as caught:
        description.load(path, {})
    assert caught.value.lines == [
        f"{path}:3: xen.image: ${{NOT_SET_ANYWHERE}} is not set in the environment: export it "
        "or write the value"
    ]
    path.write_text(path.read_text().replace("${NOT_SET_ANYWHERE}", "xen"))
    with pytest.raises(DescriptionError) as caught:
        description.load(path, {})
    assert [(p.where, p.line) for p in caught.value.problems] == [
        ("domains[0]", 7),
        ("domains[0].memory", 8),
    ]
    assert caught.value.lines[1].startswith(f"{path}:8: domains[0].memory: '16Q' is not valid")


def test_a_key_annotated_with_the_domain_name_finds_its_line():
    problems = Problems("s.yaml", lines={"domains": 6, "domains[1]": 9, "domains[1].memory": 11})
    assert problems.line_of("domains[1] (linux).memory") == 11
    assert problems.line_of("domains[1] (linux).vcpus") == 9  # absent: its domain's line
    assert problems.line_of("domains[2]") == 6
    assert problems.line_of("boot.load") is None


def test_checks_keep_every_error_and_a_lone_one_as_it_is():
    def fails(error: UserError) -> None:
        raise error

    checks = Checks()
    assert checks.run(lambda: 7) == 7
    tool = ToolError("make failed", "make", 2)
    assert checks.run(fails, tool) is None
    with pytest.raises(ToolError) as caught:
        checks.raise_if_any()
    assert caught.value is tool and caught.value.status == 2
    checks.refuse(InputFileError(Problem("bad line", "cfg", line=3)))
    with pytest.raises(UserError) as caught:
        checks.raise_if_any()
    assert caught.value.lines == ["make failed", "cfg:3: bad line"]


def test_checks_of_one_kind_keep_that_kind_and_mixed_ones_are_plain():
    checks = Checks()
    checks.refuse(InputFileError(Problem("no such file", "a.dtb")))
    checks.refuse(InputFileError(Problem("not a DTB", "b.dtb")))
    with pytest.raises(UserError) as caught:
        checks.raise_if_any()
    assert type(caught.value) is InputFileError
    checks.refuse(DescriptionError(Problem("too big", "s.yaml", "xen.image")))
    with pytest.raises(UserError) as caught:
        checks.raise_if_any()
    assert type(caught.value) is UserError
    assert len(caught.value.problems) == 3


def test_an_unusable_host_tree_is_the_input_file_s_fault_on_its_key_s_line(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "version: 1\nxen: {image: xen, version: '4.20'}\nhost:\n  dtb: missing.dtb\n"
        "domains: [{name: d, kernel: k, memory: 64M}]\n"
    )
    system = description.load(tmp_path / "s.yaml")
    with pytest.raises(InputFileError) as caught:
        load_host(system)
    (problem,) = caught.value.problems
    assert (problem.source, problem.where, problem.line) == (str(system.source), "host.dtb", 4)
