"""Serial captures read into boot milestones: real logs from `dom0less run-qemu`, and the host
and Xen time stamp forms a user's capture can carry.

logs/run-qemu.log is `dom0less run-qemu`'s console of the dom0less example (no time stamps);
logs/grabserial-t.log is a -smp 1 -icount boot with console_timestamps=boot and the
bare-metal guest printing its entry counter, each line stamped as grabserial -t stamps it.
logs/xen422-order*.log are `dom0less run-qemu` boots of tests/e2e/test_boot_order.py's
system (Xen 4.22, -smp 4, three bare-metal domUs printing their entry counter and when Xen
first ran them, d1 on a CPU of its own): as run-qemu printed it, through `ts '%.s'` and
`ts '%H:%M:%.S'`, through a pty read by grabserial -t and -T, and without Xen's own stamps
(no console_timestamps); in each, Xen's "Freed" began inside d1's line.
logs/xen420-order.log is the same system on Xen 4.20 as run-qemu printed it.
logs/uboot-unlz4*.log boot the dom0less example built with boot.compression: lz4 (U-Boot
2023.01 reads xen.lz4 and Image.lz4 and runs unlz4 on each before its next read): as
run-qemu printed it, through `ts '%.s'`, and read by grabserial -t; uboot-unzip-ts-epoch.log
with boot.compression: gzip (unzip), through `ts '%.s'`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xen_dom0less.timeline import read

LOGS = Path(__file__).parent / "logs"
MILESTONES = [
    "U-Boot",
    "U-Boot starts Xen",
    "Xen",
    "d1 created",
    "d2 created",
    "Xen starts the domains",
    "d1 first line",
    "d2 first line",
]


def names(timeline: read.Timeline) -> list[str]:
    return [event.name for event in timeline.events]


def times(timeline: read.Timeline) -> dict[str, float]:
    return {e.name: round(e.time, 6) for e in timeline.events if e.time is not None}


def test_run_qemu_log_without_stamps_gives_the_order_and_uboots_reads():
    timeline = read.read((LOGS / "run-qemu.log").read_text())
    assert names(timeline) == MILESTONES
    assert times(timeline) == {}
    assert timeline.clock.startswith("none")
    assert timeline.event("d2 first line").line.text.endswith("hello from a busybox initramfs")
    # boot.scr, Xen, its DTB, the RTOS, Linux's Image, the initramfs
    assert timeline.reads == [
        (1604, 6),
        (983048, 3),
        (8638, 2),
        (8192, 2),
        (32956352, 73),
        (987392, 4),
    ]


def test_a_read_after_a_signed_scripts_hash_check_is_counted():
    """U-Boot 2023.01 running a signed boot.scr, then loading boot.itb under the throttle:
    the hash check's "sha256+ " has no newline, the read's count follows it."""
    log = (
        "2375 bytes read in 2 ms (1.1 MiB/s)\n"
        "## Executing script at 40200000\n"
        "   Verifying Hash Integrity ... sha256+ OK\n"
        "sha256+ 35913728 bytes read in 1851 ms (18.5 MiB/s)\n"
    )
    assert read.read(log).reads == [(2375, 2), (35913728, 1851)]


def test_grabserial_stamps_date_every_milestone_from_the_first_line():
    timeline = read.read((LOGS / "grabserial-t.log").read_text())
    assert names(timeline) == MILESTONES
    assert times(timeline) == {
        "U-Boot": 0.0,
        "U-Boot starts Xen": 2.380386,
        "Xen": 2.86457,
        "d1 created": 3.032096,
        "d2 created": 3.183929,
        "Xen starts the domains": 4.355844,
        "d1 first line": 4.374725,
        "d2 first line": 14.70394,
    }
    assert "grabserial -t" in timeline.clock
    assert timeline.first("busybox").line.number == 107


def test_xen_stamps_without_host_stamps_count_from_reset_by_the_guests_counter():
    """The same capture without grabserial's stamps: a U-Boot/Xen log as a terminal saves it."""
    plain = re.sub(r"(?m)^\[[\d.]+ [\d.]+\] ", "", (LOGS / "grabserial-t.log").read_text())
    timeline = read.read(plain)
    entered = 0x8AC4D4 / 0x3B9ACA0  # d1's counter, on the line Xen stamped 0.048287
    assert timeline.entered == {1: entered}
    assert timeline.xen_zero == pytest.approx(entered - 0.048287)
    dated = times(timeline)
    assert "U-Boot" not in dated  # before Xen nothing is dated
    assert dated["Xen"] == pytest.approx(entered - 0.048287 + 0.000032, abs=1e-6)
    assert dated["d2 first line"] == pytest.approx(entered - 0.048287 + 0.955234, abs=1e-6)
    assert "reset" in timeline.clock


def test_xen_stamps_alone_count_from_xens_start():
    timeline = read.read("(XEN) [    0.000100] Xen version 4.20\n(XEN) [    0.250000] DOM1: up\n")
    assert times(timeline) == {"Xen": 0.0001, "d1 first line": 0.25}
    assert timeline.xen_zero == 0.0


def test_grabserial_base_pattern_restart_continues_from_the_line_before():
    """grabserial -m restarts its count at the matching line; the timeline does not go back."""
    log = "[0.0 0.0] U-Boot 2023.01\n[2.0 2.0] Starting kernel ...\n[0.5 0.5] (XEN) Xen version\n"
    assert times(read.read(log)) == {"U-Boot": 0.0, "U-Boot starts Xen": 2.0, "Xen": 2.5}


def test_time_of_day_stamps_pass_midnight():
    log = "[23:59:59.500] U-Boot 2023.01\n[00:00:00.250] (XEN) Xen version 4.22\n"
    timeline = read.read(log)
    assert times(timeline) == {"U-Boot": 0.0, "Xen": 0.75}
    assert "time of day" in timeline.clock


@pytest.mark.parametrize(
    "stamp",
    ["2026-12-07 19:30:00.000 ", "Dec  7 19:30:00 ", "[19:30:00.000] ", "1796678400.000000 "],
)
def test_ts_and_tio_stamp_forms(stamp: str):
    timeline = read.read(f"{stamp}U-Boot 2024.01\n{stamp}(XEN) Xen version\n")
    assert times(timeline) == {"U-Boot": 0.0, "Xen": 0.0}


def test_linux_printk_times_are_not_host_stamps():
    """A dom0's own '[    0.000000] ' lines must not be taken for a capture's stamps."""
    log = "U-Boot 2024.01\n[    0.000000] Booting Linux on physical CPU 0x0\n" * 3
    assert read.read(log).clock.startswith("none")


def test_dom0_first_line_is_the_first_unprefixed_line_after_xen_is_done():
    log = (
        "(XEN) Loading d0 kernel from boot module @ 0000000040800000\n"
        "(XEN) Freed 348kB init memory.\n"
        "[    0.000000] Booting Linux on physical CPU 0x0\n"
    )
    assert names(read.read(log)) == ["Xen", "d0 created", "Xen starts the domains", "d0 first line"]


def test_a_guests_hypercall_console_prefix_counts_as_its_output():
    assert names(read.read("(XEN) Xen version\n(d3) zephyr up\n")) == ["Xen", "d3 first line"]


def test_the_console_owning_domu_speaks_unprefixed_from_xen_4_20():
    """A real 4.20 boot with no dom0: the console goes to d1, whose output then carries no
    "DOM1: "; its entry counter dates Xen's clock from reset."""
    timeline = read.read((LOGS / "xen420-order.log").read_text())
    first = timeline.event("d1 first line")
    assert (first.line.number, first.line.text) == (123, "(XEN) [    1.511059] critical: up")
    assert timeline.entered[1] == 0x85799C8 / 0x3B9ACA0
    assert sorted(timeline.entered) == sorted(timeline.scheduled) == [1, 2, 3]
    assert timeline.xen_zero == pytest.approx(0x85799C8 / 0x3B9ACA0 - 1.511784)


def test_xens_remark_on_another_domains_vcpu_is_not_the_owners_first_line():
    """Xen's line about d2's vCPU (as in logs/uboot-unlz4.log) before d1 has said anything."""
    log = (
        "(XEN) *** Serial input to DOM1 (type 'CTRL-a' three times to switch input)\n"
        "(XEN) Freed 368kB init memory.\n"
        "(XEN) d2v0: vGICD: unhandled word write 0x000000ffffffff to ICACTIVER4\n"
        "(XEN) rtos: hello from a bare-metal domU\n"
    )
    assert read.read(log).event("d1 first line").line.number == 4


def test_an_entry_counter_split_by_xens_own_prefix_is_read_whole():
    """Xen 4.20 (a real boot): Xen began a line inside d1's, which went on after it."""
    log = (
        "(XEN) [    5.868498] *** Serial input to DOM1 (type 'CTRL-a' three times to switch)\n"
        "(XEN) [    6.478272] Freed 408kB init memory.\n"
        "(XEN) [    6.481742] counter 0x(XEN) [    6.518478] 000000001f38b2cf frequency "
        "0x0000000003b9aca0\n"
    )
    assert read.read(log).entered == {1: 0x1F38B2CF / 0x3B9ACA0}


def test_a_counter_with_no_frequency_is_ignored_not_a_crash():
    assert read.read("(XEN) DOM1: counter 0x10 frequency 0x0\n").entered == {}


#: Xen 4.22, d1 pinned to a CPU of its own (a real -smp 4 boot): it runs while the boot CPU
#: is still freeing Xen's init memory, so its lines come before "Freed".
XEN_422_PINNED = """\
(XEN) [    3.089692] *** Serial input to DOM1 (type 'CTRL-a' three times to switch input)
(XEN) [    3.158238] critical: up
(XEN) [    3.204427] counter 0x0000000012c8707b frequency 0x0000000003b9aca0
(XEN) [    3.207321] DOM3: third: up
(XEN) [    3.215823] DOM3: counter 0x0000000012f7aace frequency 0x0000000003b9aca0
(XEN) [    3.259238] Freed 432kB init memory.
(XEN) [    3.260235] DOM2: second: up
"""


def test_a_domu_running_before_xen_frees_its_init_memory_is_read_as_itself():
    timeline = read.read(XEN_422_PINNED)
    assert timeline.entered == {1: 0x12C8707B / 0x3B9ACA0, 3: 0x12F7AACE / 0x3B9ACA0}
    assert timeline.event("d1 first line").line.text.endswith("critical: up")
    assert "d0 first line" not in names(timeline)


def test_an_entry_counter_split_by_other_domains_lines_is_read_whole():
    """Xen 4.22 (a real boot): d1, the console owner, printed as it went; Xen put d2's and
    d3's whole lines in the middle of its counter, which went on at the next line's start."""
    log = (
        "(XEN) [    1.300000] *** Serial input to DOM1 (type 'CTRL-a' three times to switch)\n"
        "(XEN) [    1.368000] critical: up\n"
        "(XEN) [    1.368705] c(XEN) [    1.369335] DOM2: counter 0x0000000006f784bc frequency "
        "0x0000000003b9aca0\n"
        "ounter 0x0000000006fd3729 frequency (XEN) [    1.373836] DOM3: third: up\n"
        "(XEN) [    1.374413] DOM3: counter 0x00000000070457ac frequency 0x0000000003b9aca0\n"
        "0x0000000003b9aca0\n"
    )
    frequency = 0x3B9ACA0
    assert read.read(log).entered == {
        1: 0x6FD3729 / frequency,
        2: 0x6F784BC / frequency,
        3: 0x70457AC / frequency,
    }


#: Xen 4.22 with credit2 (xen.critical: none; a real -smp 4 boot under QEMU on a loaded
#: host): Xen ran d2 and d3 at once on idle CPUs and d1 only once the boot CPU had freed
#: its init memory, yet d1's counter is the earliest: d2's first instruction came 75 ms
#: after Xen switched to it, QEMU's vCPU thread being late.
XEN_422_SCHEDULED = (
    "(XEN) [    1.855195] *** Serial input to DOM1 (type 'CTRL-a' three times to switch input)\n"
    "(XEN) [    1.918957] Freed 432kB init memory.\n"
    "(XEN) [    1.920615] critical: up\n"
    "(XEN) [    1.921145] counter 0x000000000885ad88 frequency 0x0000000003b9aca0 "
    "scheduled 0x000000007262de90 ran 0x0000000000000000\n"
    "(XEN) [    1.935653] DOM2: second: up\n"
    "(XEN) [    1.936635] DOM2: counter 0x0000000008947ea0 frequency 0x0000000003b9aca0 "
    "scheduled 0x000000006ed327e0 ran 0x0000000000000000\n"
    "(XEN) [    1.937121] DOM3: third: up\n"
    "(XEN) [    1.938084] DOM3: counter 0x000000000895ec5f frequency 0x0000000003b9aca0 "
    "scheduled 0x0000000072124cc0 ran 0x0000000000000000\n"
)


def test_when_xen_first_ran_each_guest_is_read_beside_its_entry_counter():
    timeline = read.read(XEN_422_SCHEDULED)
    assert timeline.scheduled == {1: 0x7262DE90 / 1e9, 2: 0x6ED327E0 / 1e9, 3: 0x72124CC0 / 1e9}
    assert min(timeline.scheduled, key=timeline.scheduled.get) == 2
    assert min(timeline.entered, key=timeline.entered.get) == 1


def test_a_guest_switched_away_from_before_it_asked_has_no_first_run():
    """A runstate with time already run: Xen's last switch to it was not its first, so when
    Xen first ran it is unknown and it must not count as a first run (the boot-order test
    holds d1 only to the first runs it knows)."""
    ran_before = XEN_422_SCHEDULED.replace(
        "scheduled 0x0000000072124cc0 ran 0x0000000000000000",
        "scheduled 0x0000000072124cc0 ran 0x00000000000f4240",
    )
    assert sorted(read.read(ran_before).scheduled) == [1, 2]


def test_a_counter_without_xens_time_has_no_scheduled_entry():
    assert read.read(XEN_422_PINNED).scheduled == {}


def test_xens_remark_inside_the_console_owners_line_is_taken_out():
    """A real 4.22 boot: Xen's "Freed" began inside d1's counter line ("... schedul(XEN) [
    0.634290] Freed 432kB init memory."), whose end ("ed 0x.. ran 0x0") came after d2's lines."""
    timeline = read.read((LOGS / "xen422-order.log").read_text())
    assert timeline.entered[1] == 0x32D0421 / 0x3B9ACA0
    assert timeline.scheduled[1] == 0x23410500 / 1e9


#: Each real capture whose "Freed" Xen began inside d1's line: (line number, Xen's stamp).
FREED_INSIDE = {
    "xen422-order.log": (147, 0.634290),
    "xen422-order-ts-epoch.log": (143, 0.842337),
    "xen422-order-grabserial-t.log": (142, 1.561207),
    "xen422-order-grabserial-T.log": (142, 0.722923),
    "xen422-order-ts-clock.log": (140, 1.787460),
    "xen422-order-no-xen-stamps.log": (142, None),
}


@pytest.mark.parametrize("log", sorted(FREED_INSIDE))
def test_xens_end_of_boot_is_found_where_it_began_inside_the_owners_line(log: str):
    timeline = read.read((LOGS / log).read_text())
    done = timeline.event("Xen starts the domains")
    assert (done.line.number, done.line.xen) == FREED_INSIDE[log]
    assert re.match(r"\(XEN\) (\[ *[\d.]+\] )?Freed 432kB init memory\.$", done.line.text)
    assert names(timeline).index("d1 first line") < names(timeline).index("Xen starts the domains")
    assert set(timeline.scheduled) == {1, 2, 3}


def test_another_domains_line_begun_inside_the_owners_is_its_first_line():
    """ts stamped the line where d1's counter went on ("quency 0x00"), d2's first line
    inside it."""
    timeline = read.read((LOGS / "xen422-order-ts-epoch.log").read_text())
    first = timeline.event("d2 first line")
    assert (first.line.number, first.line.xen) == (144, 0.849552)
    assert first.line.text.endswith("DOM2: second: up")
    assert first.time == pytest.approx(1796703486.655360 - 1796703485.507386, abs=1e-6)


@pytest.mark.parametrize(
    "stamp",
    ["", "[1.5 0.5] ", "[04:19:30.444778 0.000001] ", "[04:19:30.444] ", "1796703486.655360 "],
)
@pytest.mark.parametrize("xen", ["(XEN) ", "(XEN) [    0.842337] "])
def test_xens_end_of_boot_after_each_prefix_and_not_in_a_domains_line(stamp: str, xen: str):
    """The host stamp forms, Xen with and without its stamps; a domain saying "Freed" in
    its own line (a guest printing Xen's log) is not Xen's end of boot."""
    lines = [
        f"{xen}*** Serial input to DOM1 (type 'CTRL-a' three times to switch input)",
        f"{xen}DOM2: {xen}Freed 432kB init memory.",
        f"{xen}DOM3: Freed 432kB init memory.",
        f"{xen}cri{xen}Freed 432kB init memory.",
        "tical: up",
    ]
    timeline = read.read("".join(f"{stamp}{line}\n" for line in lines))
    done = timeline.event("Xen starts the domains")
    assert (done.line.number, done.line.text) == (4, f"{xen}Freed 432kB init memory.")
    assert timeline.event("d1 first line").line.text == f"{xen}cri"


#: Each U-Boot unlz4 or unzip capture: how long Xen's and Linux's decompressions took by
#: the host stamps, and the compressed files' sizes U-Boot read.
UNPACKED = {
    "uboot-unlz4.log": (None, None, 439993, 13643465),  # no host stamps: not timed
    "uboot-unlz4-ts-epoch.log": (
        1796704531.108617 - 1796704531.084031,
        1796704532.838433 - 1796704531.382992,
        439993,
        13643465,
    ),
    "uboot-unlz4-grabserial-t.log": (0.298769 - 0.284900, 2.103603 - 0.509243, 439993, 13643465),
    "uboot-unzip-ts-epoch.log": (
        1796704600.117978 - 1796704600.101034,
        1796704600.549862 - 1796704600.140459,
        374380,
        11237279,
    ),
}


@pytest.mark.parametrize("log", sorted(UNPACKED))
def test_uboots_decompression_is_timed_between_its_reads_by_host_stamps_alone(log: str):
    timeline = read.read((LOGS / log).read_text())
    xen, image = timeline.unpacked
    assert [(u.size, u.line.number) for u in (xen, image)] == [(1015816, 18), (32956352, 26)]
    assert (xen.seconds, image.seconds) == pytest.approx(UNPACKED[log][:2], abs=1e-6)
    sizes = [size for size, _ in timeline.reads]
    assert (sizes[1], sizes[4]) == UNPACKED[log][2:]  # xen and Image, compressed
