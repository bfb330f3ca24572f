"""Hostile input: one clear line and exit 1, never a traceback, hang or steered boot script.

Each test is a case a fuzzing campaign found (issue 13); each failed before its fix.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shlex
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional

import fdt
import pytest

from xen_dom0less import files
from xen_dom0less.cli import main
from xen_dom0less.generator.pipeline import build
from xen_dom0less.generator.render import dtree, uboot_script
from xen_dom0less.units import cells

from ..conftest import QEMU_DTB, ROOT, arm64_image
from ..generator.check.test_rules import both, set_key

LIB = ROOT / "lib"


def run(capsys, *argv: str) -> tuple[int, list[str]]:
    """Exit status and error lines of ``dom0less ARGV`` run in this process."""
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.strip().splitlines()


def build_ok(capsys, description: Path, outdir: Path) -> str:
    code, err = run(capsys, "build", str(description), "-o", str(outdir))
    assert code == 0, err
    return (outdir / "boot.cmd").read_text()


def fails(
    capsys, command: str, description: Path, *expected: str, outdir: Optional[Path] = None
) -> str:
    """Run check or build; assert exit 1 with every ``expected`` text in one error line."""
    argv = [command, str(description)] + (["-o", str(outdir)] if outdir else [])
    code, err = run(capsys, *argv)
    assert code == 1, err
    assert err and all(line.startswith("error: ") for line in err)
    matching = [line for line in err if all(text in line for text in expected)]
    assert matching, f"no line holds {expected}: {err}"
    return matching[0]


def hush_words(line: str) -> list[str]:
    """The words of one script line as a POSIX shell splits them (hush agrees on ' quoting)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";")
    lexer.whitespace_split = True
    return list(lexer)


# -- the boot script cannot be steered by data -------------------------------------------


@pytest.mark.parametrize("mode", ["patched", "fdt-commands"])
def test_file_name_with_space_and_semicolon_is_one_quoted_word(
    capsys, describe, inputs, tmp_path, mode
):
    kernel = inputs / "my kernel;reset"
    kernel.write_bytes(arm64_image(4096, 65536, b"\x07"))

    def change(doc):
        doc["domains"][0]["kernel"] = str(kernel)
        doc["boot"]["device_tree"] = mode

    script = build_ok(capsys, describe(change), tmp_path / "out")
    line = next(line for line in script.splitlines() if "my kernel" in line)
    words = hush_words(line)
    load = words[words.index("load") : words.index(";")]
    assert load == ["load", "virtio", "0:1", load[3], "my kernel;reset"]
    assert "reset" not in words and (tmp_path / "out" / "my kernel;reset").is_file()


@pytest.mark.parametrize("name", ["it's", "tab\there", "new\nline", "caf\u00e9"])
def test_file_name_the_script_cannot_quote_is_refused(capsys, describe, inputs, name):
    kernel = inputs / name
    kernel.write_bytes(arm64_image(4096))
    path = describe(set_key("domains.0.kernel", str(kernel)))
    fails(capsys, "check", path, "kernel", "rename the file")


@pytest.mark.parametrize("mode", ["patched", "fdt-commands"])
@pytest.mark.parametrize("cmdline", ["console=hvc0\nreset", "quiet\x01", "caf\u00e9"])
def test_command_line_that_is_not_printable_ascii_is_refused(capsys, describe, cmdline, mode):
    path = describe(
        lambda doc: (
            doc["domains"][1].update(cmdline=cmdline),
            doc["boot"].update(device_tree=mode),
        )
    )
    fails(capsys, "check", path, "cmdline", "printable ASCII")


def test_fdt_commands_refuses_what_fdt_set_would_misread(capsys, describe, tmp_path):
    def change(doc):
        doc["boot"]["device_tree"] = "fdt-commands"
        doc["domains"][0]["cmdline"] = "it's"
        doc["domains"][1]["cmdline"] = "<0x1>"

    path = describe(change)
    fails(capsys, "check", path, "(rtos).cmdline", "single quote")
    fails(capsys, "check", path, "(linux).cmdline", "reads as numbers")
    patched = describe(set_key("domains.0.cmdline", "it's $x; reset"), "patched.yaml")
    build_ok(capsys, patched, tmp_path / "out")


def test_fdt_commands_quote_values_so_hush_keeps_them_whole(capsys, describe, tmp_path):
    def change(doc):
        doc["boot"]["device_tree"] = "fdt-commands"
        doc["domains"][1]["cmdline"] = 'console=ttyAMA0 x="a b" $y;reset # z'

    script = build_ok(capsys, describe(change), tmp_path / "out")
    line = next(line for line in script.splitlines() if "bootargs" in line and "$y" in line)
    words = hush_words(line)
    assert words[-1] == 'console=ttyAMA0 x="a b" $y;reset # z' and ";" not in words


def test_script_words_are_quoted_or_refused():
    assert uboot_script.script_word("Image") == "Image"
    assert uboot_script.script_word("a b;c$d") == "'a b;c$d'"
    for bad in ("a'b", "a\nb", "\x03"):
        with pytest.raises(ValueError):
            uboot_script.script_word(bad)


def test_empty_xen_bootargs_builds(capsys, describe, tmp_path):
    build_ok(capsys, describe(set_key("xen.bootargs", "")), tmp_path / "out")
    tree = fdt.parse_dtb((tmp_path / "out" / "xen.dtb").read_bytes())
    assert bytes(tree.get_property("xen,xen-bootargs", "/chosen").data) == b"\0"


def host_dtb(tmp_path: Path, edit) -> Path:
    """QEMU's DTB changed by ``edit(tree)``."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    edit(tree)
    path = tmp_path / "host.dtb"
    path.write_bytes(tree.to_dtb(version=17))
    return path


def test_stdout_path_that_is_not_utf8_is_refused(capsys, describe, tmp_path):
    def edit(tree):
        chosen = tree.get_node("/chosen")
        chosen.remove_property("stdout-path")
        chosen.append(fdt.PropBytes("stdout-path", data=b"/pl011@9000000\xff\0"))

    path = describe(set_key("host.dtb", str(host_dtb(tmp_path, edit))))
    fails(capsys, "check", path, "host.dtb", "stdout-path", "printable ASCII")


@pytest.mark.parametrize("mode", ["patched", "fdt-commands"])
def test_phandles_past_32_bits_are_refused(capsys, describe, tmp_path, mode):
    def edit(tree):
        tree.get_node("/cpus/cpu@0").set_property("phandle", 0xFFFFFFFE)

    def change(doc):
        doc["host"]["dtb"] = str(host_dtb(tmp_path, edit))
        doc["boot"]["device_tree"] = mode
        doc["cpupools"] = [{"name": "pool", "cpus": [1]}]
        doc["domains"][0]["cpupool"] = "pool"

    fails(capsys, "build", describe(change), "highest phandle", outdir=tmp_path / "out")


def test_value_past_32_bits_per_cell_is_refused_not_cut():
    node = dtree.Node("module@0").add("reg", cells(1 << 64) + cells(16))
    problems = dtree.value_problems(dtree.ChosenTree([], [node], []), script=False)
    assert problems == [
        "device tree /chosen/module@0 property reg: 0x100000000 does not fit a 32-bit cell"
    ]


# -- unbounded values ------------------------------------------------------------------


@pytest.mark.parametrize("epoch", ["4294967296", "99999999999999999999", "\u00b2"])
def test_source_date_epoch_past_32_bits_is_refused(capsys, describe, tmp_path, monkeypatch, epoch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    fails(capsys, "build", describe(), "SOURCE_DATE_EPOCH", outdir=tmp_path / "out")


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("domains.0.vcpu_affinity", {0: "0-99999999999"}, "numbers up to 9999"),
        ("domains.0.llc_colors", "0-99999999999", "numbers up to 9999"),
        ("domains.0.vcpu_affinity", {0: ",".join(["0-9999"] * 50)}, "lists more than 10000"),
    ],
)
def test_ranges_are_bounded(capsys, describe, key, value, expected):
    fails(capsys, "check", describe(set_key(key, value)), key.split(".")[-1], expected)


# -- schema: booleans are not numbers, digits are ASCII, messages state the rule ---------


def test_boolean_is_not_the_version_number(capsys, describe):
    fails(capsys, "check", describe(set_key("version", True)), "version", "must be 1")


@pytest.mark.parametrize("memory", ["\uff11\uff16M", "16\u00a0M", "\u0661\u0666M"])
def test_sizes_take_ascii_digits_only(capsys, describe, memory):
    fails(capsys, "check", describe(set_key("domains.0.memory", memory)), "K, M or G suffix")


def test_pattern_failure_states_the_rule_not_the_key_description(capsys, describe):
    line = fails(capsys, "check", describe(set_key("domains.0.name", "rt\u00f6s")), "name")
    assert "letter then up to 30 letters" in line and "becomes the /chosen node" not in line


# -- files: only regular files are read, every OS error is a sentence --------------------


def test_description_that_is_not_utf8_is_refused(capsys, describe):
    path = describe()
    path.write_bytes(path.read_bytes().replace(b"quiet", b"qu\xe9t"))
    fails(capsys, "check", path, str(path), "byte", "is not UTF-8")


def test_fifo_as_description_is_refused_not_waited_on(capsys, tmp_path):
    fifo = tmp_path / "system.yaml"
    os.mkfifo(fifo)
    fails(capsys, "check", fifo, str(fifo), "FIFO")


@pytest.mark.parametrize("key", ["domains.0.kernel", "host.dtb", "xen.config"])
def test_fifo_or_directory_as_input_says_what_it_is(capsys, describe, tmp_path, key):
    fifo = tmp_path / "fifo.dtb"
    os.mkfifo(fifo)
    leaf = key.split(".")[-1]
    fails(capsys, "check", describe(set_key(key, str(fifo))), leaf, "is a FIFO")
    fails(capsys, "check", describe(set_key(key, str(tmp_path))), leaf, "is a directory")


def test_partial_device_tree_fifo_is_refused_before_dtc_reads_it(capsys, describe, tmp_path):
    fifo = tmp_path / "partial.dts"
    os.mkfifo(fifo)
    path = describe(set_key("domains.0.device_tree", str(fifo)))
    fails(capsys, "check", path, "device_tree", "is a FIFO")


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: (d / "a").symlink_to(d / "b") or (d / "b").symlink_to(d / "a"), "loop"),
        (lambda d: None, "does not exist"),
    ],
)
def test_symlink_loop_and_missing_file_are_named(capsys, describe, tmp_path, make, expected):
    make(tmp_path)
    path = describe(set_key("domains.0.kernel", str(tmp_path / "a")))
    fails(capsys, "check", path, "kernel", expected)


def test_overlong_name_and_nul_byte_in_a_path_are_refused(capsys, describe, tmp_path):
    path = describe(set_key("domains.0.kernel", str(tmp_path / ("k" * 300))))
    fails(capsys, "check", path, "kernel", "too long")
    path = describe(set_key("domains.0.kernel", "ker\0nel"))
    fails(capsys, "check", path, "kernel", "control characters")


def test_unreadable_input_is_named(capsys, describe, inputs, monkeypatch):
    """Permission denied (simulated: the suite may run as root, who reads anything)."""
    real_open = os.open

    def denying_open(path, *args, **kwargs):
        if str(path).endswith("rtos.bin"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denying_open)
    fails(capsys, "check", describe(), "rtos.bin", "permission denied")


@pytest.mark.slow  # hashes 1 GiB in a child interpreter
def test_huge_kernel_is_streamed_not_read_whole(describe, inputs):
    """A 1 GiB kernel (sparse) checked under a 600 MiB address-space limit: no MemoryError."""
    kernel = inputs / "huge"
    with kernel.open("wb") as out:
        out.write(arm64_image(64))
        out.truncate(1 << 30)
    path = describe(
        both(
            set_key("domains.0.kernel", str(kernel)),
            set_key("domains.0.memory", "1040M"),  # room for it as Xen places it
            set_key("host.memory", [{"address": 0x40000000, "size": "4G"}]),
        )
    )
    program = "\n".join(
        [
            "import resource, sys",
            "resource.setrlimit(resource.RLIMIT_AS, (600 << 20, 600 << 20))",
            f"sys.path.insert(0, {str(LIB)!r})",
            "from xen_dom0less.cli import main",
            f"raise SystemExit(main(['check', {str(path)!r}]))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


class _Counted:
    """A file whose reads are added up in ``counts`` under its path."""

    def __init__(self, file, path: Path, counts: dict):
        self.file, self.path, self.counts = file, path, counts

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.counts[self.path] = self.counts.get(self.path, 0) + len(data)
        return data

    def __getattr__(self, name: str):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()


@pytest.mark.parametrize(
    "key, reason",
    [
        ("domains.1.ramdisk", "not a usable ramdisk"),  # its format, from its first bytes
        ("domains.0.device_tree", "not a usable device-tree"),
        ("xen.image", "the guests need"),  # its size, leaving no room for the guests
    ],
)
def test_huge_input_is_refused_without_being_read(
    capsys, describe, inputs, monkeypatch, key, reason
):
    """A 1 GiB input refused for its format or size is refused from its size and first
    bytes: the fuzz campaign's hangs were such files hashed whole before the refusal."""
    huge = inputs / "huge"
    with huge.open("wb") as out:
        out.write(arm64_image(64))
        out.truncate(1 << 30)
    counts: dict = {}
    opened = files.open_regular
    monkeypatch.setattr(files, "open_regular", lambda p: _Counted(opened(p), p, counts))
    fails(capsys, "check", describe(set_key(key, str(huge))), reason)
    assert counts.get(huge, 0) < files.CHUNK, counts


def test_inputs_of_one_size_are_merged_only_when_equal(describe, inputs, tmp_path):
    """Equal files are loaded once, a file of the same size but other bytes is not."""
    twin, other = inputs / "twin.bin", inputs / "other.bin"
    twin.write_bytes((inputs / "rtos.bin").read_bytes())
    other.write_bytes(arm64_image(4096, 65536, b"\x09"))

    def three(doc: dict) -> None:
        doc["domains"].append(dict(doc["domains"][0], name="twin", kernel=str(twin)))
        doc["domains"].append(dict(doc["domains"][0], name="other", kernel=str(other)))

    plan = build(describe(three), tmp_path / "out")
    kernels = {b.file: b.users for b in plan.blobs if b.role == "kernel"}
    assert kernels["rtos.bin"] == ["rtos", "twin"] and kernels["other.bin"] == ["other"]


# -- outputs: refused cleanly, serialised, fixed modes -----------------------------------


def test_output_naming_an_existing_file_is_refused_and_kept(capsys, describe, tmp_path):
    existing = tmp_path / "out"
    existing.write_text("keep me")
    fails(capsys, "build", describe(), "is an existing file", outdir=existing)
    assert existing.read_text() == "keep me"
    fails(capsys, "build", describe(), "is a file, not a directory", outdir=existing / "sub")


@pytest.mark.parametrize(
    "code, expected",
    [(errno.EROFS, "read-only"), (errno.EACCES, "permission denied"), (errno.ENOSPC, "full")],
)
def test_output_file_system_errors_are_user_errors(capsys, describe, tmp_path, code, expected):
    def failing_write(self, data):
        raise OSError(code, os.strerror(code))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "write_bytes", failing_write)
        fails(capsys, "build", describe(), expected, outdir=tmp_path / "out")
    assert not list(tmp_path.glob(".out.*")), "a failed build leaves no staging directory"


def test_output_modes_do_not_follow_the_umask(capsys, describe, tmp_path):
    old = os.umask(0o077)
    try:
        build_ok(capsys, describe(), tmp_path / "out")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out").iterdir()}
    assert modes == {0o644}


def test_builds_into_one_directory_take_turns(capsys, describe, tmp_path):
    """While another build holds the output's parent, a build waits, then completes."""
    description = describe()
    holder = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    worker = threading.Thread(target=build, args=(description, tmp_path / "out"))
    try:
        worker.start()
        worker.join(1.0)
        assert worker.is_alive() and not (tmp_path / "out").exists()
    finally:
        os.close(holder)
    worker.join()
    assert (tmp_path / "out" / "boot.scr").is_file()


def test_a_problem_is_one_line_whatever_the_file_name_holds(capsys, tmp_path):
    missing = tmp_path / "new\nline \udcff.yaml"
    code, err = run(capsys, "check", str(missing))
    assert code == 1 and len(err) == 1 and "new\\nline \\udcff.yaml" in err[0]


# -- strict YAML ----------------------------------------------------------------------


def yaml_text(describe, text: str, replace: str = "", by: str = "") -> Path:
    """The base description as text, with ``replace`` replaced by ``by`` (once) or appended."""
    path = describe()
    body = path.read_text()
    if replace:
        assert replace in body
        body = body.replace(replace, by, 1)
    path.write_text(body + text)
    return path


def test_duplicate_key_is_refused_with_both_lines(capsys, describe):
    path = yaml_text(describe, "version: 1\n")
    line = fails(capsys, "check", path, "'version' is given twice, on lines 1 and")
    assert line.count(":") >= 3  # file:line:column


@pytest.mark.parametrize(
    "written, expected",
    [
        ("0100000000", 100000000),  # YAML 1.1 octal: 16777216
        ("0x40200000", 0x40200000),
        ("016", 16),
    ],
)
def test_numbers_have_one_syntax(describe, written, expected):
    from xen_dom0less.generator.read import description

    path = yaml_text(describe, "", "script_address: 1075838976", f"script_address: {written}")
    assert description.load(path).boot.script_address == expected


@pytest.mark.parametrize("written", ["0b101", "1_000", "1:30", "+5", "99999999999999999999999"])
def test_yaml_11_number_forms_are_refused(capsys, describe, written):
    path = yaml_text(describe, "", "script_address: 1075838976", f"script_address: {written}")
    fails(capsys, "check", path, f"'{written}' is not a number dom0less reads")


def test_alias_bomb_is_bounded(capsys, describe):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    path = yaml_text(describe, "bomb:\n" + "".join(f"  {level}\n" for level in levels))
    fails(capsys, "check", path, "expands to more than")


def test_recursive_alias_is_refused(capsys, describe):
    path = yaml_text(describe, "loop: &loop [1, *loop]\n")
    fails(capsys, "check", path, "refers to a value that holds it")


def test_merge_keys_still_work(describe):
    from xen_dom0less.generator.read import description

    path = yaml_text(
        describe, "", "- name: rtos\n", "- <<: {cmdline: merged, name: x}\n  name: rtos\n"
    )
    domain = description.load(path).domains[0]
    assert (domain.name, domain.cmdline) == ("rtos", "merged")


def test_yaml_syntax_error_gives_line_and_column(capsys, describe):
    path = yaml_text(describe, "broken: [1, 2\n")
    line = fails(capsys, "check", path, "not valid YAML")
    assert f"{path}:" in line and line.split(f"{path}:")[1].split(":")[0].isdigit()


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("domains.0.vcpus", "2", "expected an integer, got a string: write a whole number"),
        ("domains.0.vcpus", 1.5, "expected an integer, got the number 1.5: write a whole"),
        # a YAML number where text is wanted: shown as YAML read it, and no "whole number"
        ("domains.0.cmdline", 2023.10, "expected a string, got the number 2023.1: write text"),
        ("domains.0.direct_map", "yes please", "write true or false"),
        ("domains.0.memory", None, "an empty value (YAML null) is not valid: write a whole"),
        ("domains.0.vcpu_affinity", {"x": "1"}, "allowed here: vCPU numbers up to 9999"),
    ],
)
def test_schema_messages_say_how_to_fix(capsys, describe, key, value, expected):
    fails(capsys, "check", describe(set_key(key, value)), expected)


@pytest.mark.parametrize(
    "target, expected", [(".", "it is a directory"), ("no/x.svg", "does not exist")]
)
def test_other_outputs_report_write_errors(capsys, describe, tmp_path, target, expected):
    """plan --svg (and import -o) write through atomic.write_text: a traceback before."""
    code, err = run(capsys, "plan", str(describe()), "--svg", str(tmp_path / target))
    assert code == 1 and expected in err[-1], err
