"""Why Kconfig dropped a setting, read from the Kconfig files of the Xen source itself.

Reading the source (rather than a table) keeps the advice right for any Xen
release: each option's ``depends on``, ``if`` blocks, menus (``visible if``
too) and prompt conditions are collected, and the unmet ones are named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .wishes import Wish

_SYMBOL = re.compile(r"(!?)\s*\b([A-Z][A-Z0-9_]*)\b")
_PROMPT = re.compile(r'^(?:bool|tristate|string|int|hex|prompt)\s+"[^"]*"(?:\s+if\s+(.+))?$')


@dataclass
class Definition:
    """What Kconfig requires before it lets an option be set."""

    conditions: list[str] = field(default_factory=list)
    prompt: bool = False


def definitions(xen_dir: Path, srcarch: str) -> dict[str, Definition]:
    """Every option defined in Kconfig files for ``srcarch`` (``arm``) or common code."""
    found: dict[str, Definition] = {}
    for path in sorted(xen_dir.rglob("Kconfig*")):
        parts = path.relative_to(xen_dir).parts
        if parts[0] == "tools" or (parts[0] == "arch" and len(parts) > 2 and parts[1] != srcarch):
            continue
        _read(path.read_text(errors="replace"), found)
    return found


def _read(text: str, found: dict[str, Definition]) -> None:
    """Add the options of one Kconfig file, with the conditions of enclosing blocks."""
    frames: list[list[str]] = []  # the conditions of each open if, menu and choice
    entry: Optional[Definition] = None  # the config entry whose attributes follow
    attach: Optional[list[str]] = None  # where a 'depends on' line adds its condition
    in_help = False
    for raw in text.splitlines():
        if in_help and (not raw.strip() or raw[0].isspace()):
            continue
        in_help = False
        line = raw.split("#", 1)[0].strip()
        word = line.split(maxsplit=1)[0] if line else ""
        if word in ("help", "---help---"):
            in_help = True
        elif word in ("config", "menuconfig"):
            entry = found.setdefault(line.split()[1], Definition())
            entry.conditions += [c for frame in frames for c in frame]
            attach = entry.conditions
        elif word in ("if", "menu", "choice"):
            frames.append([line[3:].strip()] if word == "if" else [])
            entry, attach = None, frames[-1]
        elif word in ("endif", "endmenu", "endchoice", "source", "comment", "mainmenu"):
            if word.startswith("end") and frames:
                frames.pop()
            entry = attach = None
        elif word in ("depends", "visible") and attach is not None:
            attach.append(line.split(maxsplit=2)[2])
        elif entry is not None and (prompt := _PROMPT.match(line)):
            entry.prompt = True
            if prompt.group(1):
                entry.conditions.append(prompt.group(1))


def explain(
    option: str,
    wish: Wish,
    resolved: Mapping[str, str],
    known: Mapping[str, Definition],
    version: str,
) -> str:
    """One sentence: which setting was dropped, why it was wanted, and what to change."""
    got = resolved.get(option, "n")
    head = (
        f"CONFIG_{option}={wish.value} (asked for by {wish.why}) was not kept: "
        f"Kconfig made it {got}"
    )
    if option not in known:
        return f"{head} because Xen {version} has no such option: check its name and version"
    if wish.value == "n":
        return (
            f"{head} because another enabled option selects it or it has no prompt: "
            "turn that option off too"
        )
    blockers = _blockers(known[option].conditions, resolved)
    if not blockers:
        return f"{head}: check the option's range and dependencies with 'make menuconfig'"
    fixed = [s for s, _ in blockers if s not in known or not known[s].prompt]
    if fixed:
        return f"{head} because it needs CONFIG_{fixed[0]}, which this architecture cannot set"
    advice = ", ".join(
        f"CONFIG_{s}=y" if on else f"'# CONFIG_{s} is not set'" for s, on in blockers
    )
    return f"{head} because its dependencies are not met: add {advice} to a config fragment"


def _blockers(conditions: list[str], resolved: Mapping[str, str]) -> list[tuple[str, bool]]:
    """(symbol, whether it must be on) for each symbol whose state fails a condition."""
    found: list[tuple[str, bool]] = []
    for condition in conditions:
        for negated, symbol in _SYMBOL.findall(condition):
            must_be_on = not negated
            unmet = (resolved.get(symbol, "n") == "y") != must_be_on
            if unmet and (symbol, must_be_on) not in found:
                found.append((symbol, must_be_on))
    return found
