"""Sizes and addresses as people write them ("256M", "0x40000000")."""

from __future__ import annotations

import re

from .errors import UserError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
#: Xen's unit of mapping and allocation on Arm (4 KiB granule).
XEN_PAGE = 4 * KiB

_SUFFIX = {"": 1, "K": KiB, "M": MiB, "G": GiB, "T": 1024 * GiB}
_SIZE = re.compile(r"^ *(0x[0-9a-f]+|[0-9]+) *([KMGT]?)(i?B)? *$", re.IGNORECASE | re.ASCII)
#: SOURCE_DATE_EPOCH must fit the 32-bit time stamp of the script image (mkimage's ih_time).
EPOCH_MAX = 0xFFFFFFFF


def parse_int(text: str) -> int:
    """Hex with 0x, else decimal: "016" is 16 (int(text, 0) would refuse it)."""
    text = text.strip()
    return int(text, 16) if text[:2].lower() == "0x" else int(text, 10)


def parse_size(value: int | str) -> int:
    """Return bytes for 4096, "0x1000", "64K", "256M", "1GiB"; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a size")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a size (write e.g. 256M, 64K, 0x1000)")
    number, suffix = match.group(1), match.group(2).upper()
    return parse_int(number) * _SUFFIX[suffix]


def format_size(size: int) -> str:
    """The shortest exact form: 256M rather than 268435456."""
    for suffix in ("T", "G", "M", "K"):
        unit = _SUFFIX[suffix]
        if size and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


def align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def hexaddr(value: int) -> str:
    return f"0x{value:08x}"


def human_size(size: int) -> str:
    """Rounded for people: 1.0M, 512K, 300 bytes."""
    for suffix in ("G", "M", "K"):
        unit = _SUFFIX[suffix]
        if size >= unit:
            return f"{size / unit:.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"{size} bytes"


def parse_epoch(value: str) -> int:
    """``SOURCE_DATE_EPOCH`` in seconds; a UserError when it is not a whole number."""
    if not re.fullmatch("[0-9]{1,10}", value) or int(value) > EPOCH_MAX:
        raise UserError(
            f"SOURCE_DATE_EPOCH={value!r} is not a number of seconds up to {EPOCH_MAX} "
            "(the script image's 32-bit time stamp): set it to a Unix time such as "
            "1700000000 or unset it"
        )
    return int(value)


#: The largest value one device-tree cell holds.
CELL_MAX = 0xFFFFFFFF


def cells(value: int, count: int = 2) -> tuple[int, ...]:
    """``value`` as ``count`` big-endian 32-bit cells.

    The first cell keeps whatever does not fit, so value_problems refuses it
    instead of the value being cut short.
    """
    return tuple((value >> (32 * (count - 1 - i))) & (CELL_MAX if i else -1) for i in range(count))


def combine_cells(words: list[int]) -> int:
    """The number that big-endian 32-bit cells stand for."""
    value = 0
    for word in words:
        value = (value << 32) | word
    return value
