"""Hostile input: one clear line and exit 1, never a traceback, hang or steered boot script.

Each test is a case a fuzzing campaign found (issue 13); each failed before its fix.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Optional

import fdt
import pytest

from xen_dom0less.cli import main
from xen_dom0less.generator import dtree
from xen_dom0less.generator.render import uboot_script

from ..conftest import QEMU_DTB, arm64_image
from .test_rules import set_key


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
    node = dtree.Node("module@0").add("reg", dtree.cells(1 << 64) + dtree.cells(16))
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
