"""Read a shell-variable configuration file (ImageBuilder's) without running a shell.

ImageBuilder sources its config with bash. Running a user's file to learn a
few variables would execute whatever else it contains, so this reads only
plain assignments (``NAME=value``, ``NAME[3]=value``) with bash's quoting and
``$NAME`` / ``${NAME}`` references to variables set earlier in the file, and
refuses everything else with the line and what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import files
from ..errors import InputFileError, Problems

#: Largest config read: ImageBuilder's are a few KiB; anything near this is the wrong file.
MAX_CONFIG = 1 << 20

_ASSIGNMENT = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?=")
_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass
class ShellConfig:
    """The variables a config sets: scalars by name, arrays by name then index."""

    path: Path
    scalars: dict[str, str] = field(default_factory=dict)
    arrays: dict[str, dict[int, str]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # NAME or NAME[i] -> line number

    def get(self, name: str, index: int | None = None) -> str | None:
        if index is None:
            return self.scalars.get(name)
        return self.arrays.get(name, {}).get(index)

    def names(self) -> list[str]:
        """Every variable set, as written (NAME or NAME[i]), in file order."""
        return list(self.lines)


class _Refused(Exception):
    """One line's value cannot be read: the message says why and what to write instead."""


def read(path: Path) -> ShellConfig:
    """Every assignment in ``path``; InputFileError listing every line refused."""
    config = ShellConfig(path)
    problems = Problems(str(path), InputFileError)
    for number, raw in enumerate(_lines(path), start=1):
        try:
            stripped = raw.decode("utf-8").strip()
        except UnicodeDecodeError as error:
            problems.add(
                "", f"byte {raw[error.start]:#04x} is not UTF-8: save the config as UTF-8", number
            )
            continue
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.match(stripped)
        try:
            if match is None:
                raise _Refused(
                    f"'{_shorten(stripped)}' is not a plain assignment: import reads NAME=value "
                    "and NAME[n]=value lines only (it never runs the file); write the value "
                    "literally"
                )
            name, index = match.group(1), match.group(2)
            if index is None and stripped[match.end() :].startswith("("):
                raise _Refused(
                    f"{name}=(...) is a bash array literal, which import does not read: write "
                    f"one {name}[0]=..., {name}[1]=... line per element"
                )
            value = _value(stripped[match.end() :], config)
        except _Refused as refused:
            problems.add("", str(refused), line=number)
            if match is not None:  # stands in, so lines naming it are read on; never used
                config.scalars.setdefault(match.group(1), "")
            continue
        key = name if index is None else f"{name}[{int(index)}]"
        config.lines[key] = number
        if index is None:
            config.scalars[name] = value
        else:
            config.arrays.setdefault(name, {})[int(index)] = value
    problems.raise_if_any()
    return config


def _lines(path: Path) -> list[bytes]:
    """The file's lines, split at newlines only as bash splits them; only a regular file is read
    (a FIFO would block the import forever)."""
    try:
        data = files.read(path, MAX_CONFIG, "an ImageBuilder config")
    except files.UnusableFile as error:
        raise InputFileError(f"{error}: name the config file itself") from None
    return data.split(b"\n")


def _value(rest: str, config: ShellConfig) -> str:
    """The assigned word: quotes removed, earlier variables expanded, then only a comment."""
    out: list[str] = []
    i = 0
    while i < len(rest) and not rest[i].isspace():
        char = rest[i]
        if char == "'":
            end = rest.find("'", i + 1)
            if end < 0:
                raise _Refused("unterminated ' quote: close it on the same line")
            out.append(rest[i + 1 : end])
            i = end + 1
        elif char == '"':
            i, text = _double_quoted(rest, i + 1, config)
            out.append(text)
        else:
            i, text = _plain(rest, i, config)
            out.append(text)
    trailing = rest[i:].strip()
    if trailing and not trailing.startswith("#"):
        raise _Refused(
            f"'{_shorten(trailing)}' after the value: quote a value with spaces "
            "and put one assignment per line"
        )
    return "".join(out)


def _double_quoted(rest: str, i: int, config: ShellConfig) -> tuple[int, str]:
    out: list[str] = []
    while i < len(rest):
        char = rest[i]
        if char == '"':
            return i + 1, "".join(out)
        if char == "\\" and i + 1 < len(rest) and rest[i + 1] in '"\\$`':
            out.append(rest[i + 1])
            i += 2
        elif char == "$":
            i, text = _reference(rest, i, config)
            out.append(text)
        elif char == "`":
            raise _Refused("command substitution (`...`) is not read: write the value")
        else:
            out.append(char)
            i += 1
    raise _Refused('unterminated " quote: close it on the same line')


def _plain(rest: str, i: int, config: ShellConfig) -> tuple[int, str]:
    out: list[str] = []
    while i < len(rest) and not rest[i].isspace() and rest[i] not in "'\"":
        char = rest[i]
        if char == "$":
            i, text = _reference(rest, i, config)
            out.append(text)
        elif char in "`;&|<>()":
            raise _Refused(f"'{char}' in an unquoted value is shell syntax: quote it")
        elif char == "\\" and i + 1 == len(rest):
            raise _Refused(
                "a backslash at the end of the line continues it in bash, which "
                "import does not follow: write the assignment on one line"
            )
        elif char == "\\":
            out.append(rest[i + 1])
            i += 2
        else:
            out.append(char)
            i += 1
    return i, "".join(out)


def _reference(rest: str, i: int, config: ShellConfig) -> tuple[int, str]:
    """``$NAME`` or ``${NAME}``: a variable this file set earlier; anything else is refused."""
    match = _REFERENCE.match(rest, i)
    if match is None:
        raise _Refused(
            f"'{_shorten(rest[i:])}' is a shell expansion import does not run: write the value"
        )
    name = match.group(1) or match.group(2)
    if name not in config.scalars:
        raise _Refused(
            f"${name} is not set earlier in the file: write its value (the "
            "environment is not read, so the result does not depend on who imports)"
        )
    return match.end(), config.scalars[name]


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
