"""``dom0less timeline``: the table, the picture, and one clear line for a log it cannot use."""

from __future__ import annotations

from pathlib import Path

from xen_dom0less.cli import main

from ..timeline.test_read import LOGS


def run(capsys, *argv: str) -> tuple[int, str, list[str]]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err.strip().splitlines()


def test_table_and_picture_of_a_grabserial_capture(capsys, tmp_path: Path):
    picture = tmp_path / "boot.svg"
    code, out, _ = run(capsys, "timeline", str(LOGS / "grabserial-t.log"), "--svg", str(picture))
    assert code == 0
    assert "    14.704  d2 first line             107: (XEN) [    0.955234] DOM2: linux:" in out
    assert "U-Boot read 33.3M (34944775 bytes) in 6 files before Xen, 37 ms" in out
    svg = picture.read_text()
    assert svg.startswith("<svg ") and svg.count("<rect ") == 1 + 4  # background, 4 lanes
    assert ">14.704 s</text>" in svg
    again = tmp_path / "again.svg"
    run(capsys, "timeline", str(LOGS / "grabserial-t.log"), "--svg", str(again))
    assert again.read_bytes() == picture.read_bytes()


def test_log_without_stamps_prints_the_order(capsys):
    code, out, _ = run(capsys, "timeline", str(LOGS / "run-qemu.log"))
    assert code == 0
    assert "         -  d1 first line             101: (XEN) DOM1: rtos: hello" in out


def test_svg_of_an_undated_log_is_refused_and_nothing_written(capsys, tmp_path: Path):
    picture = tmp_path / "boot.svg"
    code, _, err = run(capsys, "timeline", str(LOGS / "run-qemu.log"), "--svg", str(picture))
    assert code == 1 and len(err) == 1
    assert "no milestone carries a time stamp" in err[0] and "grabserial -t" in err[0]
    assert not picture.exists()


def test_missing_log_and_a_log_of_no_boot_are_one_line_each(capsys, tmp_path: Path):
    code, _, err = run(capsys, "timeline", str(tmp_path / "none.log"))
    assert (code, len(err)) == (1, 1) and "none.log: cannot read it" in err[0]
    other = tmp_path / "other.log"
    other.write_bytes(b"login: \xff\n")
    code, _, err = run(capsys, "timeline", str(other))
    assert (code, len(err)) == (1, 1) and "no U-Boot banner, Xen line or domain output" in err[0]


def test_when_xen_first_ran_each_domain_is_printed_and_ticked(capsys, tmp_path: Path):
    """A real Xen 4.22 boot whose guests print when Xen first ran them: on Xen's clock and,
    placed by d1's entry counter, on the timeline's."""
    picture = tmp_path / "boot.svg"
    log = LOGS / "xen422-order.log"
    code, out, _ = run(capsys, "timeline", str(log), "--svg", str(picture))
    assert code == 0
    assert (
        "d1: Xen first ran it at 0.591 s on Xen's clock (0.818 s on the timeline's clock), "
        "its guest entered at 0.853 s from reset (its own counter)"
    ) in out
    svg = picture.read_text()
    assert svg.count("stroke-width='2'/>") == 3 and "black tick: Xen first ran" in svg


def test_with_host_stamps_xens_first_runs_stay_on_xens_clock(capsys, tmp_path: Path):
    """Xen's clock is not placed on the host's (under QEMU it need not tick at its rate):
    the times are printed on Xen's clock, and nothing is ticked."""
    picture = tmp_path / "boot.svg"
    log = LOGS / "xen422-order-grabserial-t.log"
    code, out, _ = run(capsys, "timeline", str(log), "--svg", str(picture))
    assert code == 0
    assert "d1: Xen first ran it at 1.477 s on Xen's clock, its guest entered" in out
    assert "stroke-width" not in picture.read_text() and "tick" not in picture.read_text()


def test_without_first_runs_nothing_is_said_of_them(capsys, tmp_path: Path):
    picture = tmp_path / "boot.svg"
    code, out, _ = run(capsys, "timeline", str(LOGS / "grabserial-t.log"), "--svg", str(picture))
    assert code == 0 and "first ran" not in out and "first ran" not in picture.read_text()
    assert "d1: its guest entered at" in out


def test_uboots_decompression_is_drawn_when_dated_and_said_undated_otherwise(
    capsys, tmp_path: Path
):
    picture = tmp_path / "boot.svg"
    log = LOGS / "uboot-unlz4-ts-epoch.log"
    code, out, _ = run(capsys, "timeline", str(log), "--svg", str(picture))
    assert code == 0
    assert "U-Boot decompressed 31.4M (32956352 bytes), line 26: 1455 ms by the host stamps" in out
    svg = picture.read_text()
    assert svg.count("fill='#6b6d11'") == 2 and "darker: U-Boot decompressing" in svg
    code, out, _ = run(capsys, "timeline", str(LOGS / "uboot-unlz4.log"))
    assert "line 26: not dated: U-Boot prints no time for it" in out
