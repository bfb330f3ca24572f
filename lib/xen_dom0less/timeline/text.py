"""A timeline as the table ``dom0less timeline`` prints."""

from __future__ import annotations

from ..units import human_size
from .read import Timeline

#: Characters of each milestone's console line quoted.
QUOTE = 72


def table(timeline: Timeline, source: str) -> str:
    """The milestones with their times (or '-') and console lines, then U-Boot's reads."""
    rows = [f"Boot timeline of {source}", f"clock: {timeline.clock}", ""]
    rows.append(f"{'time (s)':>10}  {'milestone':<24}  line")
    for event in timeline.events:
        when = "-" if event.time is None else f"{event.time:.3f}"
        quoted = event.line.text.strip()[:QUOTE]
        rows.append(f"{when:>10}  {event.name:<24}  {event.line.number}: {quoted}")
    if not timeline.events:
        rows.append("(no U-Boot, Xen or domain line found)")
    if timeline.reads:
        size = sum(b for b, _ in timeline.reads)
        millis = sum(m for _, m in timeline.reads)
        rate = f", {size / millis / 1000:.1f} MB/s" if millis else ""
        rows += [
            "",
            f"U-Boot read {human_size(size)} ({size} bytes) in {len(timeline.reads)} files "
            f"before Xen, {millis} ms by its own count{rate}",
        ]
    for domid, seconds in sorted(timeline.entered.items()):
        rows.append(f"d{domid}'s guest entered at {seconds:.3f} s from reset (its own counter)")
    return "\n".join(rows) + "\n"
