"""A timeline as the table ``dom0less timeline`` prints."""

from __future__ import annotations

from ..units import human_size
from .read import Timeline

#: Characters of each milestone's console line quoted.
QUOTE = 72


def table(timeline: Timeline, source: str) -> str:
    """The milestones with their times (or '-') and console lines, then U-Boot's work
    before Xen and what each guest said of its start."""
    rows = [f"Boot timeline of {source}", f"clock: {timeline.clock}", ""]
    rows.append(f"{'time (s)':>10}  {'milestone':<24}  line")
    for event in timeline.events:
        when = "-" if event.time is None else f"{event.time:.3f}"
        quoted = event.line.text.strip()[:QUOTE]
        rows.append(f"{when:>10}  {event.name:<24}  {event.line.number}: {quoted}")
    if not timeline.events:
        rows.append("(no U-Boot, Xen or domain line found)")
    if timeline.reads or timeline.unpacked:
        rows += ["", *uboot_work(timeline)]
    guests = sorted(timeline.entered.keys() | timeline.scheduled.keys())
    rows += [f"d{domid}: {guest(timeline, domid)}" for domid in guests]
    return "\n".join(rows) + "\n"


def uboot_work(timeline: Timeline) -> list[str]:
    """What U-Boot read and decompressed before Xen, timed where the capture allows."""
    rows = []
    if timeline.reads:
        size = sum(b for b, _ in timeline.reads)
        millis = sum(m for _, m in timeline.reads)
        rate = f", {size / millis / 1000:.1f} MB/s" if millis else ""
        rows.append(
            f"U-Boot read {human_size(size)} ({size} bytes) in {len(timeline.reads)} files "
            f"before Xen, {millis} ms by its own count{rate}"
        )
    for unpacked in timeline.unpacked:
        took = (
            "not dated: U-Boot prints no time for it and the capture has no host stamps"
            if unpacked.seconds is None
            else f"{unpacked.seconds * 1000:.0f} ms by the host stamps (from the line before)"
        )
        rows.append(
            f"U-Boot decompressed {human_size(unpacked.size)} ({unpacked.size} bytes), "
            f"line {unpacked.line.number}: {took}"
        )
    return rows


def guest(timeline: Timeline, domid: int) -> str:
    """When Xen first ran the domain and when its guest says it entered, where known."""
    said = []
    ran = timeline.scheduled.get(domid)
    if ran is not None:
        placed = timeline.on_clock(ran)
        said.append(
            f"Xen first ran it at {ran:.3f} s on Xen's clock"
            + (
                ""
                if placed is None or placed == ran
                else f" ({placed:.3f} s on the timeline's clock)"
            )
        )
    if domid in timeline.entered:
        said.append(
            f"its guest entered at {timeline.entered[domid]:.3f} s from reset (its own counter)"
        )
    return ", ".join(said)
