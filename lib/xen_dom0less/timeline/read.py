"""A serial capture -> dated lines -> the milestones of a dom0less boot.

Three clocks can date a line, best first: the host's time stamp on each
line (grabserial ``-t``/``-T``, or ``picocom | ts`` with a clock or epoch
format); Xen's own (``console_timestamps=boot``), moved to time since reset
when a guest prints the counter it read on entry (``counter 0x.. frequency
0x..``, as the project's bare-metal guest does); or none, when only the order
and U-Boot's own "bytes read in N ms" are known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple, Optional


class HostStamp(NamedTuple):
    """A host time stamp format at the start of a line."""

    name: str
    pattern: re.Pattern
    #: whether it is a time of day (goes back to 0 at midnight) or a count of seconds
    daily: bool

    def seconds(self, match: re.Match) -> float:
        if not self.daily:
            return float(match.group("t"))
        hours, minutes, seconds = match.group("h", "m", "s")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


_CLOCK = r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?)"
#: Tried on the first lines of a capture. A lone bracketed number is left out: Linux
#: prints its own "[    1.234567] " lines.
HOST_STAMPS = (
    HostStamp("grabserial -t", re.compile(r"\[\s*(?P<t>\d+\.\d+)\s+-?\d+\.\d+\] ?"), False),
    HostStamp("grabserial -T", re.compile(rf"\[{_CLOCK}\s+-?\d+\.\d+\] ?"), True),
    HostStamp(
        "time of day (ts '%H:%M:%.S', tio)",
        re.compile(rf"\[?(?:\d{{4}}-\d\d-\d\d[ T]|[A-Z][a-z]{{2}} +\d+ )?{_CLOCK}\]? "),
        True,
    ),
    HostStamp("epoch seconds (ts '%.s')", re.compile(r"(?P<t>\d{9,}\.\d+) "), False),
)
#: Lines looked at to pick the host stamp format; most of them must carry it.
SNIFF_LINES = 20
XEN_STAMP = re.compile(r"\(XEN\) \[\s*(\d+\.\d+)\] ")
#: The project's bare-metal guest's entry counter and, where it asks Xen, when Xen last
#: switched to it (ns on Xen's clock) and how long it had run before that (0: that switch
#: was the first); DOMn: printed through Xen, bare when dom0 relays it.
COUNTER = re.compile(
    r"(?:DOM(\d+): )?counter 0x([0-9a-f]+) frequency 0x([0-9a-f]+)"
    r"(?: scheduled 0x([0-9a-f]+) ran 0x([0-9a-f]+))?"
)
UBOOT = re.compile(r"U-Boot (?:SPL )?\d{4}\.\d\d")
#: A signed script's hash check ("sha256+ ") ends without a newline, so the next read's
#: line can start with it (boot/image-fit.c: fit_image_check_hash, fit_image_verify_with_data).
UBOOT_READ = re.compile(r"^(?:\S+\+ )*(\d+) bytes read in (\d+) ms")
#: U-Boot's unlz4 and unzip, done: the size they wrote (cmd/unlz4.c, cmd/unzip.c).
UBOOT_UNPACKED = re.compile(r"^Uncompressed size: (\d+) = 0[xX][0-9a-fA-F]+")
HANDOVER = re.compile(r"^Starting kernel")
XEN = re.compile(r"^\(XEN\) ")
CREATED = re.compile(r"^\(XEN\) (?:\[[^]]*\] )?Loading d(\d+) kernel")
#: Xen's end of boot, searched for: it may start inside the console owner's line (a domU
#: on a CPU of its own runs before it), never inside a "DOMn: " line Xen wrote whole.
XEN_DONE = re.compile(r"\(XEN\) (?:\[[^]]*\] )?Freed \d+kB init memory")
#: A domain's own output: through Xen's vpl011 ("DOMn: ") or its console hypercall ("(dn) ").
DOMAIN_LINE = re.compile(r"^(?:\(XEN\) (?:\[[^]]*\] )?DOM(\d+): |\(d(\d+)\) )")
#: The domain Xen gives its console input to. From Xen 4.20 that can be a domU (the first,
#: with no dom0), and then Xen prints that domU's vpl011 output without "DOMn: ".
FOCUS = re.compile(r"^\(XEN\) (?:\[[^]]*\] )?\*\*\* Serial input to DOM(\d+)")
#: Xen's prefix (and stamp) where Xen began a line of its own inside another's.
INNER_PREFIX = re.compile(r"\(XEN\) (?:\[[^]]*\] )?")
LEADING_PREFIX = re.compile(r"^\(XEN\) (?:\[[^]]*\] )?")
#: Xen's own lines once domains may run: about a vCPU ("d2v0: vGICD: ..."), its banners
#: ("*** ...") or the end of its boot (a domain on a CPU of its own runs before it).
_REMARK = r"d\d+v\d+|\*\*\*|Freed \d+kB init memory"
XEN_REMARK = re.compile(rf"^\(XEN\) (?:\[[^]]*\] )?(?:{_REMARK}|$)")
#: Another domain's whole line, or one of Xen's remarks, which Xen printed inside the
#: console owner's.
INNER_LINE = re.compile(rf"\(XEN\) (?:\[[^]]*\] )?(?:DOM\d+: |{_REMARK})")


@dataclass(frozen=True)
class Line:
    """One console line: its number in the file, its text without the host stamp, its dates."""

    number: int
    text: str
    host: Optional[float]  # seconds since the capture's first stamped line
    xen: Optional[float]  # Xen's console_timestamps=boot stamp


@dataclass(frozen=True)
class Event:
    name: str
    line: Line
    time: Optional[float]  # seconds on the timeline's clock


class Unpacked(NamedTuple):
    """One decompression U-Boot did before Xen (its "Uncompressed size" line)."""

    size: int  # bytes written
    line: Line
    #: Seconds it took, from the host stamps of its line and the one before (what U-Boot
    #: printed last, as a read's end); None without host stamps: U-Boot does not time it.
    seconds: Optional[float]


@dataclass
class Timeline:
    """The milestones of one boot, each dated on ``clock`` where the capture allows."""

    clock: str
    events: list[Event]
    lines: list[Line]
    #: Seconds from the timeline's zero to Xen's clock's zero, when known.
    xen_zero: Optional[float]
    #: Domain id -> seconds its bare-metal guest says it started (0: relayed by dom0).
    entered: dict[int, float] = field(default_factory=dict)
    #: Domain id -> seconds on Xen's clock when Xen first ran it, where its guest says: the
    #: order Xen ran the domains in, even where an emulator's CPU threads (QEMU under a
    #: loaded host) delay a guest's first instruction after it.
    scheduled: dict[int, float] = field(default_factory=dict)
    #: U-Boot's reads before Xen: (bytes, milliseconds) per file.
    reads: list[tuple[int, int]] = field(default_factory=list)
    #: U-Boot's decompressions (unlz4, unzip) before Xen, in order.
    unpacked: list[Unpacked] = field(default_factory=list)

    def time_of(self, line: Line) -> Optional[float]:
        if line.host is not None:
            return line.host
        return None if line.xen is None else self.on_clock(line.xen)

    def on_clock(self, xen_seconds: float) -> Optional[float]:
        """A time on Xen's clock on the timeline's, where the timeline is Xen's clock
        or placed from it (not with host stamps: Xen's clock may not tick at the host's
        rate, as under QEMU's -icount)."""
        return None if self.xen_zero is None else self.xen_zero + xen_seconds

    def first(self, text: str) -> Optional[Event]:
        """The first line holding ``text``, dated (a marker a boot test waits for)."""
        for line in self.lines:
            if text in line.text:
                return Event(text, line, self.time_of(line))
        return None

    def event(self, name: str) -> Optional[Event]:
        return next((e for e in self.events if e.name == name), None)


def host_format(raw: list[str]) -> Optional[HostStamp]:
    """The host stamp format most of the first non-blank lines carry, if any."""
    sample = [line for line in raw if line.strip()][:SNIFF_LINES]
    for stamp in HOST_STAMPS:
        if sum(bool(stamp.pattern.match(line)) for line in sample) * 2 > len(sample) > 0:
            return stamp
    return None


def dated_lines(raw: list[str]) -> tuple[Optional[str], list[Line]]:
    """The host stamp format's name and every line with its stamps taken off and read.

    A stamp going backwards is grabserial ``-m`` restarting its count at the line
    before, or a time of day passing midnight.
    """
    found = host_format(raw)
    lines: list[Line] = []
    offset: Optional[float] = None  # host seconds = stamp + offset
    last: Optional[tuple[float, float]] = None  # the previous stamp and its host seconds
    for number, text in enumerate(raw, 1):
        host = None
        match = found.pattern.match(text) if found else None
        if found and match:
            text = text[match.end() :]
            stamp = found.seconds(match)
            if offset is None:
                offset = -stamp
            elif last is not None and stamp < last[0]:
                offset = offset + 86400 if found.daily else last[1]
            host = stamp + offset
            last = (stamp, host)
        lines.append(_line(number, text, host))
    return (found.name if found else None), lines


def read(text: str) -> Timeline:
    """The timeline of one boot's console ``text``."""
    stamps, lines = dated_lines(text.splitlines())
    counters = _counters(lines)
    xen_zero = _xen_zero(counters) if stamps is None else None
    if stamps is not None:
        clock = f"host time stamps ({stamps}), seconds from the capture's first line"
    elif xen_zero is not None:
        clock = "seconds from reset: Xen's stamps, dated by a guest's entry counter"
    elif any(line.xen is not None for line in lines):
        xen_zero = 0.0
        clock = "Xen's clock (console_timestamps=boot), seconds from Xen's start"
    else:
        clock = (
            "none: no time stamps (capture with grabserial -t or `picocom | ts`, "
            "or add console_timestamps=boot to Xen's command line); order only"
        )
    timeline = Timeline(
        clock,
        [],
        lines,
        xen_zero,
        _entered(counters),
        _scheduled(counters),
        _reads(lines),
        _unpacked(lines),
    )
    timeline.events.extend(
        Event(name, line, timeline.time_of(line)) for name, line in _milestones(lines)
    )
    return timeline


def _milestones(lines: list[Line]) -> list[tuple[str, Line]]:
    """(name, line) of each milestone in console order, each named once."""
    found: dict[str, Line] = {}
    in_xen = False
    pieces = [piece for line in lines for piece in _pieces(line)]
    for line, speaker in zip(pieces, _speakers(pieces)):
        text = line.text
        if not in_xen:
            banner = UBOOT.search(text)
            if banner:
                found.setdefault("U-Boot SPL" if "SPL" in banner.group() else "U-Boot", line)
            if HANDOVER.match(text):
                found.setdefault("U-Boot starts Xen", line)
        if XEN.match(text):
            in_xen = True
            found.setdefault("Xen", line)
        created = CREATED.match(text)
        if created:
            found.setdefault(f"d{created.group(1)} created", line)
        if _xen_done(text):
            found.setdefault("Xen starts the domains", line)
        if speaker is not None:
            found.setdefault(f"d{speaker} first line", line)
    return sorted(found.items(), key=lambda item: item[1].number)


def _xen_done(text: str) -> Optional[re.Match]:
    """Xen's "Freed NkB init memory" in a line without its host stamp: at its start or
    where Xen began it inside the console owner's output; not in a domain's own line."""
    return None if DOMAIN_LINE.match(text) else XEN_DONE.search(text)


def _pieces(line: Line) -> list[Line]:
    """``line`` cut where Xen began a line of its own (another domain's, or one of its
    remarks) inside the console owner's or dom0's output, each piece with Xen's stamp where
    it begins; a domain's line Xen wrote whole is not cut."""
    inner = [] if DOMAIN_LINE.match(line.text) else list(INNER_LINE.finditer(line.text))
    cuts = [0, *(m.start() for m in inner if m.start() > 0), len(line.text)]
    if len(cuts) == 2:
        return [line]
    return [_line(line.number, line.text[a:b], line.host) for a, b in zip(cuts, cuts[1:])]


def _line(number: int, text: str, host: Optional[float]) -> Line:
    xen = XEN_STAMP.match(text)
    return Line(number, text, host, float(xen.group(1)) if xen else None)


def _speakers(lines: list[Line]) -> list[Optional[int]]:
    """For each line, the domain whose output it is, or None for U-Boot's and Xen's own.

    Prefixed lines name their domain. Once Xen has started the domains, unprefixed
    output is the console's owner's: a domU's inside Xen's lines (Xen 4.20 and later),
    dom0's as its own lines.
    """
    speakers: list[Optional[int]] = []
    focus, done, dom0 = 0, False, False
    for line in lines:
        text = line.text
        own, switched, created = DOMAIN_LINE.match(text), FOCUS.match(text), CREATED.match(text)
        focus = int(switched.group(1)) if switched else focus
        dom0 = dom0 or bool(created and created.group(1) == "0")
        if own:
            speakers.append(int(own.group(1) or own.group(2)))
        elif not done or not text.strip():
            speakers.append(None)
        elif XEN.match(text):
            speakers.append(focus if focus and not XEN_REMARK.match(text) else None)
        else:  # dom0's own line, or a domU owner's going on after another's line
            speakers.append(focus if focus else 0 if dom0 else None)
        # Xen hands its console input over (FOCUS) just before it unpauses the domains.
        done = done or bool(_xen_done(text) or switched)
    return speakers


class Counter(NamedTuple):
    """A guest's entry counter line."""

    domid: int
    seconds: float  # since reset
    #: seconds on Xen's clock when Xen first ran the guest, where the guest's line says
    scheduled: Optional[float]
    line: Line


def _counters(lines: list[Line]) -> list[Counter]:
    """Each guest entry counter printed, in order.

    From Xen 4.20 the console-owning domU's output goes out as it comes, and Xen puts its
    own lines and other domains' whole lines in the middle of it: "counter 0x(XEN) [
    6.518478] 00000000..." (a stamp), "c(XEN) [ 1.369335] DOM2: counter ..." or one of
    Xen's remarks ("Freed ..."), the owner's text going on at the next line's start. So
    the owner's output is read as one stream of the pieces between the others' lines.
    """
    found = []
    stream: list[tuple[str, Line, int]] = []  # the owning domU's output, piece by piece
    for line, speaker in zip(lines, _speakers(lines)):
        text = line.text
        if speaker and not DOMAIN_LINE.match(text):
            body = LEADING_PREFIX.sub("", text)
            inserted = INNER_LINE.search(body)
            piece = body[: inserted.start()] if inserted else body + "\n"
            stream.append((INNER_PREFIX.sub("", piece), line, speaker))
            text = body[inserted.start() :] if inserted else ""
        for counter in COUNTER.finditer(INNER_PREFIX.sub("", text)):
            domid = int(counter.group(1)) if counter.group(1) else (speaker or 0)
            found.append((domid, counter, line))
    starts, joined = [], ""
    for piece, line, owner in stream:
        starts.append((len(joined), line, owner))
        joined += piece
    for counter in COUNTER.finditer(joined):
        _, line, owner = next(start for start in reversed(starts) if start[0] <= counter.start())
        found.append((owner, counter, line))
    return [
        Counter(
            domid,
            int(c.group(2), 16) / int(c.group(3), 16),
            int(c.group(4), 16) / 1e9 if c.group(4) and int(c.group(5), 16) == 0 else None,
            line,
        )
        for domid, c, line in sorted(found, key=lambda f: f[2].number)
        if int(c.group(3), 16)
    ]


def _entered(counters: list[Counter]) -> dict[int, float]:
    entered: dict[int, float] = {}
    for counter in counters:
        entered.setdefault(counter.domid, counter.seconds)
    return entered


def _scheduled(counters: list[Counter]) -> dict[int, float]:
    scheduled: dict[int, float] = {}
    for counter in counters:
        if counter.scheduled is not None:
            scheduled.setdefault(counter.domid, counter.scheduled)
    return scheduled


def _xen_zero(counters: list[Counter]) -> Optional[float]:
    """Seconds from reset to Xen's clock's zero, from a Xen-stamped entry counter line."""
    for counter in counters:
        if counter.line.xen is not None:
            return counter.seconds - counter.line.xen
    return None


def _before_xen(lines: list[Line]) -> list[Line]:
    """The lines before Xen's first: U-Boot's (and what came before it)."""
    first = next((n for n, line in enumerate(lines) if XEN.match(line.text)), len(lines))
    return lines[:first]


def _reads(lines: list[Line]) -> list[tuple[int, int]]:
    """U-Boot's 'N bytes read in M ms' before Xen speaks."""
    found = (UBOOT_READ.match(line.text) for line in _before_xen(lines))
    return [(int(match.group(1)), int(match.group(2))) for match in found if match]


def _unpacked(lines: list[Line]) -> list[Unpacked]:
    """U-Boot's decompressions before Xen, each timed by host stamps where it can be."""
    found, last = [], None
    for line in _before_xen(lines):
        match = UBOOT_UNPACKED.match(line.text)
        if match:
            before = None if last is None else last.host
            took = None if before is None or line.host is None else line.host - before
            found.append(Unpacked(int(match.group(1)), line, took))
        last = line if line.text.strip() else last
    return found
