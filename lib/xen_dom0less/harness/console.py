"""Watch a boot console: note when each expected marker appears, spot failures early.

A boot that has failed should stop the run at once rather than waiting out
the timeout, so the known fatal lines of U-Boot, Xen and Linux are matched as
they stream by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional

#: Lines meaning the boot cannot succeed any more.
FATAL = (
    "Panic on CPU",  # Xen
    "Xen BUG at",
    "Kernel panic",  # Linux
    "## Error",  # U-Boot
    "Unknown command",
    "Bad Linux ARM64 Image magic",
    "Failed to load",
    "dom0less: ERROR",  # our boot script and bootcmd
)
XEN_STAMP = re.compile(r"^\(XEN\) \[\s*(\d+\.\d+)\]")
#: Lines after a fatal one worth quoting: a Xen panic gives its reason on the next line.
FATAL_CONTEXT = 3


@dataclass(frozen=True)
class Hit:
    """When a marker appeared: host seconds since QEMU started, and Xen's own clock."""

    wall: float
    xen: Optional[float]
    line: str


class Console:
    """Consumes console bytes; knows which markers were seen and the first fatal line."""

    def __init__(self, expect: list[str], echo: Optional[Callable[[str], None]] = None):
        self.expect = list(dict.fromkeys(expect))
        self.echo = echo
        self.hits: dict[str, Hit] = {}
        self._fatal_at: Optional[int] = None
        self._lines: list[str] = []
        self._partial = b""

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
        if self._fatal_at is None and any(pattern in line for pattern in FATAL):
            self._fatal_at = len(self._lines) - 1

    def _match(self, line: str, now: float) -> None:
        for text in self.missing:
            if text in line:
                stamp = XEN_STAMP.match(line)
                self.hits[text] = Hit(now, float(stamp.group(1)) if stamp else None, line)
