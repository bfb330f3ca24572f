"""What `build` writes: byte-exact script images, clean DTBs, determinism, atomicity."""

from __future__ import annotations

import contextlib
import functools
import gzip
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xen_dom0less.cli import main
from xen_dom0less.errors import UserError
from xen_dom0less.generator import render
from xen_dom0less.generator.facts import kconfig
from xen_dom0less.generator.output_dir import ABANDONED_AFTER
from xen_dom0less.generator.pipeline import build, check
from xen_dom0less.generator.read import description

from ..conftest import ROOT

needs_mkimage = pytest.mark.skipif(
    shutil.which("mkimage") is None and not os.environ.get("CI"),
    reason="u-boot-tools not installed (CI installs it)",
)


@pytest.mark.parametrize("mode", ["patched", "fdt-commands"])
def test_outputs_exist_and_dtb_roundtrips_through_dtc(describe, tmp_path, mode):
    def set_mode(doc):
        doc["boot"]["device_tree"] = mode

    out = tmp_path / "out"
    plan = build(describe(set_mode), out)
    for name in (
        "boot.scr",
        "boot.cmd",
        "manifest.json",
        "xen-kconfig.cfg",
        plan.dtb.file,
        "xen",
        "rtos.bin",
        "Image",
        "initrd.cpio",
    ):
        assert (out / name).is_file(), name
    dts = subprocess.run(
        ["dtc", "-I", "dtb", "-O", "dts", str(out / plan.dtb.file)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "Warning" not in dts.stderr, dts.stderr
    again = subprocess.run(
        ["dtc", "-I", "dts", "-O", "dtb", "-o", "/dev/null", "-"],
        input=dts.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr


@needs_mkimage
def test_script_image_is_byte_identical_to_mkimage(describe, tmp_path):
    out = tmp_path / "out"
    build(describe(), out)
    reference = tmp_path / "reference.scr"
    subprocess.run(
        [
            "mkimage",
            "-A",
            "arm64",
            "-O",
            "linux",
            "-T",
            "script",
            "-C",
            "none",
            "-d",
            str(out / "boot.cmd"),
            str(reference),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
    )
    assert (out / "boot.scr").read_bytes() == reference.read_bytes()


def test_same_inputs_give_identical_outputs(describe, tmp_path):
    path = describe()
    build(path, tmp_path / "a")
    build(path, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).stat().st_mtime == 1700000000


def test_rebuild_steps_past_a_taken_staging_name(describe, tmp_path, monkeypatch):
    """A name already taken (a killed run's leftover) is skipped, not an error."""
    out = tmp_path / "out"
    build(describe(), out)
    draws = iter([b"\0\0\0\0", b"\0\0\0\1", b"\0\0\0\2"])
    monkeypatch.setattr(os, "urandom", lambda _size: next(draws))
    taken = tmp_path / f".out.new.{os.getpid()}.00000000"
    taken.mkdir()
    (out / "marker").write_text("from the first build")
    build(describe(), out)
    assert not (out / "marker").exists() and (out / "boot.scr").is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == [taken.name]


#: A process id no process can have.
GONE = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


def leave_sibling(directory, name, touched):
    """A directory as a killed build leaves it, last touched at ``touched``."""
    (directory / name).mkdir()
    (directory / name / "boot.scr").write_bytes(b"half written")
    os.utime(directory / name, (touched, touched))


def test_rebuild_removes_what_killed_runs_left(describe, tmp_path):
    """Siblings of processes that are gone are removed once stale; nothing else is."""
    stale, recent = time.time() - 2 * ABANDONED_AFTER, time.time()
    siblings = {  # name: (last touched, removed?)
        f".out.new.{GONE}.0123abcd": (stale, True),
        f".out.old.{GONE}.0123abcd": (stale, True),
        f".out.new.{os.getpid()}.0123abcd": (stale, False),  # still running
        f".out.old.{GONE}.89abcdef": (recent, False),  # perhaps another machine's process
        f".out.new.{GONE}.0123": (stale, False),  # not a name build makes
        f".out.new.{GONE}.0123abcz": (stale, False),
        f".out.tmp.{GONE}.0123abcd": (stale, False),
        f".other.new.{GONE}.0123abcd": (stale, False),  # another output's
    }
    for name, (touched, _removed) in siblings.items():
        leave_sibling(tmp_path, name, touched)
    linked = tmp_path / "elsewhere"
    leave_sibling(tmp_path, linked.name, stale)
    (tmp_path / f".out.new.{GONE}.4567abcd").symlink_to(linked)
    build(describe(), tmp_path / "out")
    left = {p.name for p in tmp_path.iterdir() if p.name.startswith(".")}
    assert left == {name for name, (_, removed) in siblings.items() if not removed} | {
        f".out.new.{GONE}.4567abcd"
    }
    assert (linked / "boot.scr").is_file()


def test_previous_output_set_aside_by_a_killed_run_outlives_a_failed_one(
    describe, tmp_path, monkeypatch
):
    """Killed between its two renames, a run leaves no DIR and the previous output in .old."""
    set_aside = f".out.old.{GONE}.0123abcd"
    leave_sibling(tmp_path, set_aside, time.time() - 2 * ABANDONED_AFTER)

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(shutil, "copyfile", disk_full)
        with pytest.raises(UserError, match="file system is full"):
            build(describe(), tmp_path / "out")
    assert (tmp_path / set_aside / "boot.scr").is_file()
    build(describe(), tmp_path / "out")
    assert not (tmp_path / set_aside).exists()


def test_rendering_a_plan_again_gives_the_same_files(describe):
    """The DTB renderer edits the host's parsed tree; the host must not be left edited."""
    plan = check(describe())
    first = render.render_all(plan, 0)
    assert render.render_all(plan, 0) == first
    assert plan.host.node("/chosen/rtos") is None and plan.host.memory_banks


def test_shared_kernel_is_loaded_once(describe, tmp_path):
    def share(doc):
        doc["domains"].append(dict(doc["domains"][1], name="linux2"))

    plan = build(describe(share), tmp_path / "out")
    kernels = [b for b in plan.blobs if b.role == "kernel"]
    assert [k.users for k in kernels] == [["rtos"], ["linux", "linux2"]]
    assert plan.domains["linux"].kernel is plan.domains["linux2"].kernel


def gzip_kernels(tmp_path, inputs, doc):
    """linux and linux2 on one gzip kernel (one path), linux3 on an equal copy of it."""
    kernel = tmp_path / "Image.gz"
    kernel.write_bytes(gzip.compress((inputs / "Image").read_bytes(), mtime=0))
    copy = tmp_path / "copy" / "Image.gz"
    copy.parent.mkdir()
    copy.write_bytes(kernel.read_bytes())
    doc["domains"][1]["kernel"] = str(kernel)
    doc["domains"] += [
        dict(doc["domains"][1], name="linux2"),
        dict(doc["domains"][1], name="linux3", kernel=str(copy)),
    ]


def test_a_gzip_kernel_is_loaded_once_per_domain(describe, inputs, tmp_path):
    """Xen decompresses a gzip domU kernel into new pages and frees the module, so the
    second domain naming that module panics Xen ("Missing kernel boot module?"): each
    domain gets its own copy, loaded at its own address; the ramdisk is still shared."""
    plan = build(describe(functools.partial(gzip_kernels, tmp_path, inputs)), tmp_path / "out")
    kernels = [b for b in plan.blobs if b.role == "kernel"]
    assert [k.users for k in kernels] == [["rtos"], ["linux"], ["linux2"], ["linux3"]]
    assert [k.file for k in kernels[1:]] == ["Image.gz", "linux2-Image.gz", "linux3-Image.gz"]
    assert len({k.address for k in kernels}) == 4
    for kernel in kernels[1:]:
        assert (tmp_path / "out" / kernel.file).read_bytes()[:2] == b"\x1f\x8b"
    ramdisks = [b for b in plan.blobs if b.role == "ramdisk"]
    assert [r.users for r in ramdisks] == [["linux", "linux2", "linux3"]]


def test_a_domains_copy_never_takes_the_name_of_another_file(describe, inputs, tmp_path):
    """linux boots a file named linux2-Image.gz; linux2's own copy of the gzip kernel that
    a also boots is named linux2-Image.gz too: one overwrote the other in the output."""
    image = (inputs / "Image").read_bytes()

    def names(doc):
        shared, other = tmp_path / "Image.gz", tmp_path / "o" / "linux2-Image.gz"
        other.parent.mkdir()
        shared.write_bytes(gzip.compress(image, mtime=0))
        other.write_bytes(gzip.compress(image[:-4096], mtime=0))
        doc["domains"][1]["kernel"] = str(other)
        for name in ("a", "linux2"):
            doc["domains"].append(dict(doc["domains"][1], name=name, kernel=str(shared)))

    out = tmp_path / "out"
    kernels = [b for b in build(describe(names), out).blobs if b.role == "kernel"][1:]
    assert [k.file for k in kernels] == ["linux2-Image.gz", "Image.gz", "linux2-2-Image.gz"]
    for kernel in kernels:
        assert (out / kernel.file).read_bytes() == kernel.source.read_bytes(), kernel.users


def test_a_compressed_uimage_kernel_is_not_shared_an_uncompressed_one_is(
    describe, inputs, tmp_path
):
    def uimage(comp: int) -> Path:
        path = tmp_path / f"uImage-{comp}"
        header = bytearray(64)
        header[:4] = (0x27051956).to_bytes(4, "big")
        header[31] = comp  # ih_comp: 0 none, 1 gzip
        path.write_bytes(bytes(header) + b"\x07" * 5000)
        return path

    def kernels(doc):
        for comp in (0, 1):
            for name in ("a", "b"):
                doc["domains"].append(
                    {"name": f"{name}{comp}", "kernel": str(uimage(comp)), "memory": "16M"}
                )

    plan = check(describe(kernels))
    users = [b.users for b in plan.blobs if b.role == "kernel"]
    assert users == [["rtos"], ["linux"], ["a0", "b0"], ["a1"], ["b1"]]


def test_failed_build_leaves_previous_output_untouched(describe, tmp_path):
    out = tmp_path / "out"
    build(describe(), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def break_it(doc):
        doc["domains"][0]["memory"] = 0

    assert main(["build", str(describe(break_it, "broken.yaml")), "-o", str(out)]) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_refuses_output_directory_holding_inputs(describe, inputs):
    with pytest.raises(Exception, match="contains the input"):
        build(describe(), inputs)


def test_cli_exit_codes_and_messages(describe, tmp_path, capsys):
    good = describe()
    assert main(["check", str(good)]) == 0
    assert "OK" in capsys.readouterr().out

    def bad(doc):
        doc["domains"][1]["vcpus"] = 500
        doc["domains"][0]["kernel"] = "/missing"

    assert main(["check", str(describe(bad, "bad.yaml"))]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
    assert "Traceback" not in "\n".join(err)


def test_plan_prints_memory_map_and_cpus(describe, capsys):
    assert main(["plan", str(describe())]) == 0
    out = capsys.readouterr().out
    assert "0x40200000" in out and "boot.scr" in out
    assert "U-Boot (host.uboot_reserve)" in out
    assert "linux   d2  2" in out


SCRIPT = [sys.executable, str(ROOT / "scripts" / "dom0less")]


def test_script_entry_point_runs_from_checkout(describe):
    result = subprocess.run(
        [*SCRIPT, "check", str(describe())], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_entry_point_flushes_output_and_keeps_exit_status(describe, tmp_path):
    """The entry point skips interpreter teardown: buffered output and status must survive."""
    plan = subprocess.run(
        [*SCRIPT, "plan", str(describe())], capture_output=True, text=True, check=False
    )
    assert plan.returncode == 0 and plan.stdout.rstrip().endswith(
        main_plan_last_line(describe())
    ), plan.stderr
    missing = subprocess.run(
        [*SCRIPT, "build", str(tmp_path / "none.yaml"), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    assert not (tmp_path / "o").exists()


def test_entry_point_into_a_closed_pipe_is_quiet(describe):
    """``dom0less plan | head -1``: the reader leaves early; no traceback, no noise."""
    with subprocess.Popen(
        [*SCRIPT, "plan", str(describe())], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        process.stdout.close()
        error = process.stderr.read()
    assert error == b"" and process.returncode == 141, error.decode()


def test_entry_point_with_stdout_closed_succeeds(describe):
    """Started with fd 1 closed (cron, daemons): sys.stdout is None, the run still succeeds."""
    result = subprocess.run(
        ["sh", "-c", '"$0" "$@" >&-', *SCRIPT, "check", str(describe())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_reader_leaving_mid_output_is_a_quiet_exit(describe, monkeypatch, capsys):
    reader, writer = os.pipe()
    os.close(reader)
    closed = open(writer, "w", buffering=1)  # noqa: SIM115 (closed below, EPIPE allowed)
    monkeypatch.setattr(sys, "stdout", closed)
    try:
        code = main(["plan", str(describe())])
    finally:
        monkeypatch.undo()
        with contextlib.suppress(BrokenPipeError):
            closed.close()
    assert code == 141 and capsys.readouterr().err == ""


def test_other_broken_pipe_is_a_bug_not_a_quiet_exit(describe, monkeypatch, capsys):
    """EPIPE from a child's stdin (QEMU's, say) must not pass for `| head`."""
    import xen_dom0less.cli.check as check_command

    def broken(_args):
        raise BrokenPipeError("writing to a child that exited")

    monkeypatch.setattr(check_command, "run", broken)
    assert main(["check", str(describe())]) == 2
    assert "BrokenPipeError" in capsys.readouterr().err


def main_plan_last_line(path) -> str:
    """The last line ``dom0less plan`` prints, from main() in this process."""
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["plan", str(path)]) == 0
    return out.getvalue().rstrip().splitlines()[-1]


def test_bad_source_date_epoch_is_a_user_error(describe, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert main(["build", str(describe()), "-o", str(tmp_path / "o")]) == 1
    assert "SOURCE_DATE_EPOCH" in capsys.readouterr().err


def test_dts_partial_device_tree_is_compiled(describe, tmp_path):
    source = tmp_path / "guest.dts"
    source.write_text(
        "/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>; "
        'passthrough { compatible = "simple-bus"; ranges; }; };\n'
    )

    def add(doc):
        doc["domains"][0]["device_tree"] = str(source)

    plan = build(describe(add), tmp_path / "out")
    blob = plan.domains["rtos"].device_tree
    assert blob.file == "guest.dtb"
    assert (tmp_path / "out" / "guest.dtb").read_bytes()[:4] == b"\xd0\x0d\xfe\xed"


def test_broken_dts_is_reported(describe, tmp_path):
    source = tmp_path / "guest.dts"
    source.write_text("/dts-v1/;\n/ { oops\n")

    def add(doc):
        doc["domains"][0]["device_tree"] = str(source)

    with pytest.raises(Exception, match="dtc cannot compile"):
        build(describe(add), tmp_path / "out")


def test_uimage_xen_boots_with_bootm(describe, inputs, tmp_path):
    header = bytearray(64)
    header[:4] = b"\x27\x05\x19\x56"
    (inputs / "xen.uimg").write_bytes(bytes(header) + b"\0" * 4096)

    def use_bootm(doc):
        doc["xen"]["image"] = str(inputs / "xen.uimg")
        doc["boot"]["command"] = "bootm"

    build(describe(use_bootm), tmp_path / "out")
    assert "bootm 0x" in (tmp_path / "out" / "boot.cmd").read_text()


def test_refuses_output_directory_holding_the_host_dtb(describe, tmp_path):
    board = tmp_path / "board"
    board.mkdir()
    shutil.copyfile(ROOT / "examples" / "qemu-virt.dtb", board / "virt.dtb")

    def local_dtb(doc):
        doc["host"]["dtb"] = str(board / "virt.dtb")

    with pytest.raises(UserError, match=r"contains the input .*virt\.dtb"):
        build(describe(local_dtb), board)
    assert (board / "virt.dtb").is_file()


def test_numbers_with_a_leading_zero_are_decimal(describe, tmp_path):
    def zeros(doc):
        doc["domains"][0]["memory"] = "016M"
        doc["boot"]["script_address"] = "01075838976"  # 0x40200000

    plan = build(describe(zeros), tmp_path / "out")
    assert plan.script.address == 0x40200000
    assert plan.system.domains[0].memory == 16 << 20


@pytest.mark.parametrize("mode", ["patched", "fdt-commands"])
def test_artefacts_larger_than_estimated_are_planned_with_their_size(describe, tmp_path, mode):
    def long_cmdline(doc):  # Xen's own: a domain's is limited to 1024 characters
        doc["boot"]["device_tree"] = mode
        doc["xen"]["extra_bootargs"] = "loglvl=all " * 4000

    plan = build(describe(long_cmdline), tmp_path / "out")
    for blob in (plan.dtb, plan.script):
        assert (tmp_path / "out" / blob.file).stat().st_size <= blob.span


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("4.17", {"SBSA_VUART_CONSOLE"}),
        # DOM0LESS_BOOT's prompt is 'if EXPERT' (4.19's arch/arm/Kconfig)
        ("4.19", {"SBSA_VUART_CONSOLE", "DOM0LESS_BOOT", "EXPERT", "STATIC_EVTCHN"}),
    ],
)
def test_options_made_optional_later_are_asked_for_from_that_release(describe, version, expected):
    def with_channel(doc):
        doc["xen"]["version"] = version
        doc["domains"][0]["event_channels"] = [{"port": 10, "peer": "linux", "peer_port": 11}]

    system = description.load(describe(with_channel))
    assert set(kconfig.required(system)) == expected


def test_the_measure_and_place_loop_is_bounded(describe, monkeypatch):
    """A generated file that outgrows its estimate takes a second pass; with one pass allowed,
    the pipeline stops with a bug report instead of writing a file over its neighbour."""
    from xen_dom0less.generator import pipeline

    def long_cmdline(doc):  # in the script's fdt commands: longer than its estimate
        doc["boot"]["device_tree"] = "fdt-commands"
        doc["xen"]["extra_bootargs"] = "loglvl=all " * 4000

    system = description.load(describe(long_cmdline))
    plan, files = pipeline.plan_and_render(system, 0)
    assert all(len(files[blob.file]) <= blob.span for blob in (plan.dtb, plan.script))
    monkeypatch.setattr(pipeline, "MAX_PASSES", 1)  # the estimate alone: outgrown
    with pytest.raises(RuntimeError, match="still outgrow their room after 1 passes"):
        pipeline.plan_and_render(system, 0)
