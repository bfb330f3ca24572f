"""Watch a boot console: note when each expected marker appears, spot failures early.

A boot that has failed should stop the run at once rather than waiting out
the timeout, so the known fatal lines of U-Boot and Xen are matched as they
stream by: their own lines only, never a guest's output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional

from xen_dom0less.timeline.read import XEN_STAMP

#: U-Boot's own failures, and our boot script's (echoed by U-Boot): matched only while
#: U-Boot runs, so that no guest can end a boot by printing them.
UBOOT_FATAL = re.compile(
    r"## Error|Unknown command|Bad Linux ARM64 Image magic|Failed to load|dom0less: ERROR"
)
#: Xen's own failures (dom0's crash as Xen reports it): only lines Xen prints itself start
#: "(XEN) "; a domU's start "(dN) " and dom0's are its own text.
XEN_FATAL = re.compile(r"^\(XEN\) .*(?:Panic on CPU|Xen BUG at|Hardware Dom0 crashed)")
#: The first line that is no longer U-Boot's: it hands over to Xen, or Xen speaks.
UBOOT_DONE = re.compile(r"^(?:Starting kernel|\(XEN\) )")
#: Where Xen began a line of its own (or another domain's whole line) inside one it did not
#: print: from 4.20 the console-owning domU's output goes out character by character.
XEN_INSIDE = "(XEN) "
#: Lines after a fatal one worth quoting: a Xen panic gives its reason on the next line.
FATAL_CONTEXT = 3


@dataclass(frozen=True)
class Hit:
    """When a marker appeared: host seconds since QEMU started, and Xen's own clock."""

    wall: float
    xen: Optional[float]
    line: str


#: An expected text starting with this must start the line: dom0's own output is raw while a
#: domU's the same text arrives as '(XEN) DOMn: ...', so only this tells dom0's line apart.
LINE_START = "^"


def matches(text: str, line: str) -> bool:
    """Whether ``line`` shows the expected ``text`` (anywhere, or at its start for ^TEXT)."""
    if text.startswith(LINE_START):
        return line.startswith(text[len(LINE_START) :])
    return text in line


class Console:
    """Consumes console bytes; knows which markers were seen and the first fatal line."""

    def __init__(self, expect: list[str], echo: Optional[Callable[[str], None]] = None):
        self.expect = list(dict.fromkeys(expect))
        self.echo = echo
        self.hits: dict[str, Hit] = {}
        self._fatal_at: Optional[int] = None
        self._lines: list[str] = []
        self._partial = b""
        self._in_uboot = True
        self._cut = ""  # the start of a line Xen printed one of its own into

    @property
    def fatal(self) -> Optional[str]:
        """The first fatal line and the few after it, joined; None while all is well."""
        if self._fatal_at is None:
            return None
        lines = self._lines[self._fatal_at : self._fatal_at + 1 + FATAL_CONTEXT]
        return " | ".join(text for text in (line.strip() for line in lines) if text)

    @property
    def complete(self) -> bool:
        return len(self.hits) == len(self.expect)

    @property
    def missing(self) -> list[str]:
        return [text for text in self.expect if text not in self.hits]

    @property
    def text(self) -> str:
        return "".join(self._lines) + self._partial.decode(errors="replace")

    def feed(self, data: bytes, now: float) -> None:
        """Add console output read at ``now`` (seconds since start)."""
        *lines, self._partial = (self._partial + data).split(b"\n")
        for raw in lines:
            self._line(raw.decode(errors="replace").rstrip("\r"), now)

    def finish(self, now: float) -> None:
        """Account for a last line without a newline."""
        if self._partial:
            self._line(self._partial.decode(errors="replace"), now)
            self._partial = b""

    def _line(self, line: str, now: float) -> None:
        self._lines.append(line + "\n")
        if self.echo is not None:
            self.echo(line)
        self._match(line, now)
        self._rejoin(line, now)
        if self._in_uboot and UBOOT_DONE.match(line):
            self._in_uboot = False
        if self._fatal_at is None and (
            XEN_FATAL.match(line) or (self._in_uboot and UBOOT_FATAL.search(line))
        ):
            self._fatal_at = len(self._lines) - 1

    def _rejoin(self, line: str, now: float) -> None:
        """Match the line Xen cut (``rtos: (XEN) [...] Freed ...`` then ``up``) once whole:
        its pieces are those before Xen's lines, up to the next line Xen did not start. With
        console_timestamps the owner's line itself starts with Xen's stamp, so a cut is a
        ``(XEN) `` after the line's start. Xen may also start the owner's line afresh
        (``(XEN) r(XEN) tos: up``): that line is matched without the inner prefix too."""
        inside = line.find(XEN_INSIDE, 1)
        if inside > 0:
            self._cut += line[:inside]
            self._match(line[:inside] + line[inside + len(XEN_INSIDE) :], now)
        elif not line.startswith(XEN_INSIDE) and self._cut:
            whole, self._cut = self._cut + line, ""
            self._match(whole, now)

    def _match(self, line: str, now: float) -> None:
        for text in self.missing:
            if matches(text, line):
                stamp = XEN_STAMP.match(line)
                self.hits[text] = Hit(now, float(stamp.group(1)) if stamp else None, line)
