"""A timeline drawn (``dom0less timeline --svg``): one lane each for U-Boot, Xen and every domain.

Each lane is a bar from where its stage begins to where it hands on (U-Boot
to "Starting kernel", Xen to freeing its init memory, a domain from Xen
loading its kernel to its first line), to scale on one time axis. Over them,
where dated: U-Boot decompressing (a darker span) and when Xen first ran a
domain (a black tick). Plain SVG, the same bytes for the same log.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional
from xml.sax.saxutils import escape

from ..svg import page
from .read import Timeline

WIDTH, MARGIN, LABEL, ROW, BAR = 960, 20, 110, 30, 16
COLOURS = {"U-Boot": "#bcbd22", "Xen": "#d62728", "domain": "#1f77b4", "unpacking": "#6b6d11"}
DOMAIN = re.compile(r"d(\d+) (created|first line)")


class Lane(NamedTuple):
    name: str
    start: Optional[float]
    end: Optional[float]
    colour: str
    #: (start, end) of work drawn darker inside the bar: U-Boot's dated decompressions.
    spans: tuple[tuple[float, float], ...] = ()
    #: A moment ticked on the bar: when Xen first ran the domain, where placed.
    tick: Optional[float] = None


def lanes(timeline: Timeline) -> list[Lane]:
    """U-Boot, Xen, then the domains by id: each stage's dated start and end."""

    def at(name: str) -> Optional[float]:
        event = timeline.event(name)
        return None if event is None else event.time

    uboot = at("U-Boot SPL") if at("U-Boot SPL") is not None else at("U-Boot")
    unpacking = tuple(
        (end - unpacked.seconds, end)
        for unpacked in timeline.unpacked
        if unpacked.seconds is not None and (end := timeline.time_of(unpacked.line)) is not None
    )
    found = [
        Lane("U-Boot", uboot, at("U-Boot starts Xen"), COLOURS["U-Boot"], unpacking),
        Lane("Xen", at("Xen"), at("Xen starts the domains"), COLOURS["Xen"]),
    ]
    domains = sorted({int(m.group(1)) for e in timeline.events if (m := DOMAIN.match(e.name))})
    ran = {d: timeline.on_clock(seconds) for d, seconds in timeline.scheduled.items()}
    found += [
        Lane(
            f"d{d}", at(f"d{d} created"), at(f"d{d} first line"), COLOURS["domain"], (), ran.get(d)
        )
        for d in domains
    ]
    return [lane for lane in found if lane.start is not None or lane.end is not None]


def svg(timeline: Timeline, title: str) -> str:
    """The picture; the caller makes sure some milestone is dated."""
    drawn = lanes(timeline)
    times = [
        t
        for lane in drawn
        for t in (lane.start, lane.end, lane.tick, *(t for span in lane.spans for t in span))
        if t is not None
    ]
    low, high = min(0.0, *times), max(times)
    span = (high - low) or 1.0
    scale = (WIDTH - 2 * MARGIN - LABEL - 60) / span

    def x(seconds: float) -> float:
        return MARGIN + LABEL + (seconds - low) * scale

    legend = "; ".join(
        said
        for said, shown in (
            ("darker: U-Boot decompressing", any(lane.spans for lane in drawn)),
            ("black tick: Xen first ran the domain", any(lane.tick is not None for lane in drawn)),
        )
        if shown
    )
    height = 60 + ROW * len(drawn) + 30 + 16 * bool(legend)
    out = [
        *page(WIDTH, height),
        f"<text x='{MARGIN}' y='24' font-size='13' font-weight='bold'>{escape(title)}</text>",
        f"<text x='{MARGIN}' y='42' fill='#555'>{escape(timeline.clock)}</text>",
    ]
    for row, lane in enumerate(drawn):
        y = 56 + row * ROW
        out.append(f"<text x='{MARGIN}' y='{y + 12}'>{escape(lane.name)}</text>")
        start = lane.start if lane.start is not None else lane.end
        end = lane.end if lane.end is not None else lane.start
        width = max(x(end) - x(start), 2.0)
        out.append(
            f"<rect x='{x(start):.1f}' y='{y}' width='{width:.1f}' height='{BAR}' "
            f"fill='{lane.colour}'/>"
        )
        out += [
            f"<rect x='{x(begin):.1f}' y='{y}' width='{max(x(finish) - x(begin), 1.0):.1f}' "
            f"height='{BAR}' fill='{COLOURS['unpacking']}'/>"
            for begin, finish in lane.spans
        ]
        if lane.tick is not None:
            out.append(
                f"<line x1='{x(lane.tick):.1f}' y1='{y - 3}' x2='{x(lane.tick):.1f}' "
                f"y2='{y + BAR + 3}' stroke='black' stroke-width='2'/>"
            )
        out.append(f"<text x='{x(start) + width + 4:.1f}' y='{y + 12}'>{end:.3f} s</text>")
    axis = 56 + ROW * len(drawn) + 4
    out.append(
        f"<line x1='{x(low):.1f}' y1='{axis}' x2='{x(high):.1f}' y2='{axis}' stroke='black'/>"
    )
    for seconds in (low, high):
        out.append(
            f"<text x='{x(seconds):.1f}' y='{axis + 16}' text-anchor='middle'>{seconds:.3f}</text>"
        )
    if legend:
        out.append(f"<text x='{MARGIN}' y='{axis + 34}' fill='#555'>{legend}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
