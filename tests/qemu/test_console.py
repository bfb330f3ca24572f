"""Console watching: markers with their times, fatal lines with their reason."""

from __future__ import annotations

from xen_dom0less.harness.console import Console


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
