"""Cache colours in an ImageBuilder config, as Xen 4.20 and later take them.

ImageBuilder writes a colour set as a range, "start-end" (XEN_COLORS, DOM0_COLORS,
DOMU_COLORS[n]). Xen 4.20+ reads a list of numbers and ranges ("0-3,8": the llc-colors
property, xen-llc-colors= and dom0-llc-colors= in docs/misc/xen-command-line.pandoc), of
which a range is one case, so a value is carried over as written once it reads as such a
list. Configs written for Xen's colouring before it was upstream (Xilinx's tree) carry its
options in XEN_CMD (xen_colors=, dom0_colors=, way_size=); Xen 4.20+ ignores them, so the
colours become the description's (which writes the 4.20+ options) and way_size, which has
no successor (4.20+ probes the cache, or takes llc-size and llc-nr-ways), is named.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: Xen's colour list: numbers and ranges, comma-separated (the description's schema too).
COLOUR_LIST = re.compile(r"[0-9]{1,4}(-[0-9]{1,4})?(,[0-9]{1,4}(-[0-9]{1,4})?)*")
#: Colour options of Xen's command line, before upstream and from 4.20 -> whose colours.
COLOUR_OPTIONS = {
    "xen_colors": "xen",
    "xen-llc-colors": "xen",
    "dom0_colors": "dom0",
    "dom0-llc-colors": "dom0",
}
#: Options the description writes itself once colouring is on.
TURNED_ON = ("llc-coloring=on", "llc-coloring=1", "llc-coloring=true", "llc-coloring=yes")
#: Pre-upstream options with no 4.20+ successor.
NO_SUCCESSOR = {
    "way_size": "Xen 4.20+ has no way_size: it probes the cache, or set xen.llc_coloring.size "
    "and .ways (llc-size, llc-nr-ways)",
}


def is_colour_list(text: str) -> bool:
    """Whether ``text`` is a colour set Xen 4.20+ reads (an ImageBuilder range is one)."""
    return COLOUR_LIST.fullmatch(text) is not None


class CommandColours(NamedTuple):
    """XEN_CMD without its colouring words, and what they said."""

    command: str
    colours: dict[str, str]  # "xen" / "dom0" -> the colour list given
    turned_on: bool  # llc-coloring=on was there
    unused: list[str]  # words with no successor, each with why
    unreadable: list[str]  # colour words whose value Xen 4.20+ cannot read


def from_command(command: str) -> CommandColours:
    """Take the colouring options out of Xen's command line ``command``."""
    kept: list[str] = []
    colours: dict[str, str] = {}
    turned_on = False
    unused: list[str] = []
    unreadable: list[str] = []
    for word in command.split():
        option, _, value = word.partition("=")
        if option in COLOUR_OPTIONS:
            colours[COLOUR_OPTIONS[option]] = value
            if not is_colour_list(value):
                unreadable.append(word)
        elif word in TURNED_ON:
            turned_on = True
        elif option in NO_SUCCESSOR:
            unused.append(f"{word} left out of xen.bootargs: {NO_SUCCESSOR[option]}")
        else:
            kept.append(word)
    return CommandColours(" ".join(kept), colours, turned_on, unused, unreadable)
