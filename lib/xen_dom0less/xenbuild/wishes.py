"""The Kconfig settings asked for: the description's needs plus the user's fragments.

Each setting keeps the reason it was asked for, so a setting Kconfig later
drops can be reported against the feature or fragment line that wanted it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFileError, Problem
from ..generator.facts import kconfig


@dataclass(frozen=True)
class Wish:
    """One setting asked for: its value (``n`` for off) and why."""

    value: str
    why: str


def collect(needed: Mapping[str, str], fragments: Sequence[Path]) -> dict[str, Wish]:
    """``needed`` (option -> why, all ``y``) merged with fragments; later fragments win."""
    wishes = {option: Wish("y", why) for option, why in needed.items()}
    problems: list[Problem] = []
    for path in fragments:
        for number, option, value in _settings(Path(path), problems):
            if option in needed and value != "y":
                problems.append(
                    Problem(
                        f"sets CONFIG_{option}={value} but {needed[option]} needs it: remove "
                        "that line",
                        str(path),
                        line=number,
                    )
                )
            elif option not in needed:
                wishes[option] = Wish(value, f"{path}:{number}")
    if problems:
        raise InputFileError(problems)
    return wishes


def _settings(path: Path, problems: list[Problem]) -> list[tuple[int, str, str]]:
    """The fragment's settings with their lines; what cannot be read goes to ``problems``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        problems.append(Problem(f"cannot read the config fragment {path}: {reason}"))
        return []
    found = []
    for number, line in enumerate(lines, 1):
        parsed = kconfig.parse(line)
        if parsed:
            found += [(number, option, value) for option, value in parsed.items()]
        elif line.strip() and not line.lstrip().startswith("#"):
            problems.append(
                Problem(
                    f"'{line.strip()}' is not a Kconfig setting: write CONFIG_NAME=value or "
                    "'# CONFIG_NAME is not set'",
                    str(path),
                    line=number,
                )
            )
    return found


def setting(option: str, value: str) -> str:
    """The .config line for one setting."""
    return f"# CONFIG_{option} is not set" if value == "n" else f"CONFIG_{option}={value}"


def merge(config: str, wishes: Mapping[str, Wish]) -> str:
    """``config`` with each wished setting replacing the option's line, or appended."""
    lines, seen = [], set()
    for line in config.splitlines():
        option = next(iter(kconfig.parse(line)), None)
        if option in wishes:
            seen.add(option)
            line = setting(option, wishes[option].value)
        lines.append(line)
    lines += [setting(o, w.value) for o, w in wishes.items() if o not in seen]
    return "\n".join(lines) + "\n"


def fragment(wishes: Mapping[str, Wish]) -> str:
    """The wished settings as a fragment, each under a comment saying why."""
    return "".join(f"# {w.why}\n{setting(o, w.value)}\n" for o, w in wishes.items())


def dropped(wishes: Mapping[str, Wish], resolved: Mapping[str, str]) -> list[str]:
    """Options whose resolved value is not the one asked for."""
    return [o for o, w in wishes.items() if resolved.get(o, "n") != w.value]
