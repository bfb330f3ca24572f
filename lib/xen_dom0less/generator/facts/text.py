"""Which strings may reach the device tree and the boot script, and why others may not.

Device-tree strings are NUL-terminated and read by Xen and Linux as ASCII, so
they must be printable ASCII. The boot script is parsed by U-Boot's hush,
where a newline ends a command and ``;``, ``$`` or a quote change what runs;
every word taken from data is written single-quoted (see
:func:`script_word`), which hush takes literally up to the next single quote.
"""

from __future__ import annotations

import re
from typing import Optional

_PRINTABLE_ASCII = re.compile(r"[ -~]*")
#: Words hush reads literally even unquoted (no quote, space, ;, $, #, \, & or |).
_BARE_WORD = re.compile(r"[A-Za-z0-9._+:@/,-]+")
#: How U-Boot's ``fdt set`` reads a first value starting with these: cells or bytes.
_FDT_SET_NON_STRING = ("<", "[")


def describe_char(char: str) -> str:
    """'a newline', 'U+00E9 (é)': a character as a user can find it in the file."""
    names = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\0": "a NUL byte"}
    if char in names:
        return names[char]
    if char.isprintable():
        return f"U+{ord(char):04X} ({char})"
    return f"the control character U+{ord(char):04X}"


def not_printable_ascii(text: str) -> Optional[str]:
    """Why ``text`` cannot be a device-tree string, or None."""
    match = _PRINTABLE_ASCII.match(text)
    if match.end() == len(text):
        return None
    return (
        f"holds {describe_char(text[match.end()])} at character {match.end() + 1}: "
        "only printable ASCII can go into the device tree and the boot script"
    )


def not_script_word(text: str) -> Optional[str]:
    """Why ``text`` cannot be one literal word of the boot script, or None."""
    problem = not_printable_ascii(text)
    if problem is None and "'" in text:
        problem = (
            "holds a single quote ('), which U-Boot's script parser cannot take "
            "literally inside a quoted word"
        )
    return problem


def not_fdt_set_string(text: str) -> Optional[str]:
    """Why ``text`` cannot be a string value of U-Boot's ``fdt set``, or None."""
    problem = not_script_word(text)
    if problem is None and text.startswith(_FDT_SET_NON_STRING):
        problem = f"starts with '{text[0]}', which U-Boot's fdt set reads as numbers, not text"
    return problem


def script_word(text: str) -> str:
    """``text`` as one literal word for hush: bare when safe, else single-quoted.

    Callers check the text first (:func:`not_script_word`); one that gets here
    anyway is a bug, not a script steered by data.
    """
    if not_script_word(text) is not None:
        raise ValueError(f"{text!r} cannot be quoted for U-Boot's script parser")
    return text if _BARE_WORD.fullmatch(text) else f"'{text}'"


def script_word_in_double_quotes(text: str) -> str:
    """``text`` for the inside of a double-quoted hush string: closed, quoted, reopened.

    Both U-Boot parsers agree on it: the old hush starts a single-quoted part at
    any ``'``, even inside double quotes, so the double quotes are closed first.
    """
    word = script_word(text)
    return word if word == text else f'"{word}"'


def printable(text: str) -> str:
    """``text`` with anything but printable ASCII shown escaped, for comments and messages."""
    return "".join(c if _PRINTABLE_ASCII.fullmatch(c) else ascii(c)[1:-1] for c in text)
