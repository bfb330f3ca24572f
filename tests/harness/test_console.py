"""Console watching: markers with their times, fatal lines with their reason."""

from __future__ import annotations

from xen_dom0less_harness.console import Console


def test_markers_get_wall_and_xen_times_across_split_reads():
    console = Console(["DOM1: rtos up", "guest: up"])
    console.feed(b"(XEN) [    0.649363] DOM1: rtos", 1.0)
    console.feed(b" up\r\nguest: up\n", 1.5)
    assert console.complete
    rtos = console.hits["DOM1: rtos up"]
    assert (rtos.wall, rtos.xen, rtos.line) == (1.5, 0.649363, "(XEN) [    0.649363] DOM1: rtos up")
    assert console.hits["guest: up"].xen is None


def test_fatal_line_quotes_the_reason_after_it():
    console = Console(["never"])
    console.feed(b"(XEN) Panic on CPU 0:\n(XEN) Could not set up domain b\n(XEN) ****\n", 2.0)
    assert console.fatal == "(XEN) Panic on CPU 0: | (XEN) Could not set up domain b | (XEN) ****"
    assert console.missing == ["never"]


def test_last_line_without_newline_counts_when_finished():
    lines = []
    console = Console(["=> "], echo=lines.append)
    console.feed(b"U-Boot\n=> ", 0.5)
    assert not console.complete
    console.finish(0.6)
    assert console.complete and lines == ["U-Boot", "=> "]


def test_only_u_boots_and_xens_own_lines_are_fatal():
    """U-Boot's errors count until it hands over; after that only "(XEN) " lines can fail a
    boot, so a guest printing the same words (a test's output, a log) does not."""
    uboot = Console(["never"])
    uboot.feed(b'=> run bootcmd\n## Error: "bootcmd" not defined\n', 1.0)
    assert uboot.fatal is not None and uboot.fatal.startswith("## Error")

    booted = Console(["never"])
    booted.feed(b"Starting kernel ...\n\n(XEN) Xen version 4.20\n", 1.0)
    for guest in (
        b"(d1) ## Error: not from U-Boot\n",
        b"(d2) Panic on CPU 0: a guest's words\n",
        b"dom0less: ERROR quoted by dom0\n",
        b"[    1.0] Kernel panic - not syncing: a Linux guest\n",
        b"(d1) (XEN) Panic on CPU 0: in a guest's output\n",
    ):
        booted.feed(guest, 2.0)
    assert booted.fatal is None
    booted.feed(b"(XEN) [    3.000000] Panic on CPU 0:\n(XEN) Could not set up domain b\n", 3.0)
    assert booted.fatal == "(XEN) [    3.000000] Panic on CPU 0: | (XEN) Could not set up domain b"


def test_a_caret_marker_must_start_the_line():
    """dom0 prints its line raw, a domU the same text behind '(XEN) DOMn: ': ^ tells them apart."""
    console = Console(["^linux: up"])
    console.feed(b"(XEN) DOM1: linux: up\n", 1.0)
    assert not console.complete
    console.feed(b"linux: up\n", 2.0)
    assert console.hits["^linux: up"].line == "linux: up"


def test_a_marker_xen_printed_a_line_into_is_found_whole():
    """From Xen 4.20 the console-owning domU's output goes out character by character, and
    Xen's own lines and other domains' whole lines can land inside it (on 4.22, with d1 on a
    CPU of its own, while Xen frees its init memory): the pieces between them are the owner's
    one line."""
    console = Console(["rtos: up", "linux: init running"])
    console.feed(b"(XEN) *** Serial input to DOM1 (type 'CTRL-a' three times to switch input)\n", 1)
    console.feed(b"rtos: (XEN) [    1.369335] Freed 376kB init memory.\n", 1.1)
    assert not console.complete
    console.feed(b"u(XEN) [    1.4] DOM2: linux: init running\n", 1.2)
    console.feed(b"(XEN) [    1.5] d2v0: vGICD: unhandled word write\np\n", 1.3)
    assert console.complete
    assert console.hits["rtos: up"].line == "rtos: up"


def test_a_stamped_owner_line_xen_printed_into_is_found_whole():
    """With console_timestamps the owner's line starts with Xen's stamp too (seen in a CI
    boot on 4.22: the awaited load address cut by Xen freeing its init memory)."""
    console = Console(["x0000000040000000"])
    console.feed(
        b"(XEN) [    0.297550] load address 0x00(XEN) [    0.308496] Freed 432kB init memory.\n",
        1,
    )
    console.feed(b"(XEN) [    0.312363] DOM2: second: up\n", 1.1)
    assert not console.complete
    console.feed(b"00000040000000\n", 1.2)
    assert console.complete


def test_an_owner_line_xen_started_afresh_is_found_whole():
    """Seen on the ZCU102 model with Xen 4.20 (about one boot in ten under load): Xen began
    the console owner's line again after its first character, prefix and all."""
    console = Console(["rtos: uart1 passed through"])
    console.feed(b"(XEN) Freed 368kB init memory.\n", 1)
    console.feed(b"(XEN) r(XEN) tos: uart1 passed through\n", 1.1)
    assert console.complete


def test_pieces_of_separate_lines_are_not_joined():
    console = Console(["rtos: up"])
    console.feed(b"rtos: (XEN) [    1.3] Freed 376kB init memory.\n\nup\n", 1)
    assert not console.complete
