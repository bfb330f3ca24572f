"""A flattened device tree checked whole before anything reads it: header, blocks, tokens.

U-Boot and Xen read DTBs with libfdt, which trusts offsets and sizes it has
checked only loosely; the ``fdt`` package used here raises bare exceptions or
reads past the end. So every DTB taken in (the board's and the domains'
partial ones) passes the checks libfdt's ``fdt_check_full`` and dtc make:
the header's offsets and sizes inside the blob and aligned, the reservation
map terminated, every structure-block token known and whole, nodes balanced
under one root, every property name inside the strings block.
"""

from __future__ import annotations

import struct
from typing import Optional

from ..facts.images import DTB_MAGIC

#: DTBs are tens of KiB; one past this is the wrong file.
MAX_DTB = 16 * 1024 * 1024
_HEADER = struct.Struct(">10I")
#: The versions libfdt and the ``fdt`` package read (dtc writes 17).
FIRST_VERSION, LAST_VERSION = 16, 17
BEGIN_NODE, END_NODE, PROP, NOP, END = 1, 2, 3, 4, 9
#: Deeper nesting than any board has; bounds the recursion of whoever walks the tree.
MAX_DEPTH = 64
#: Properties that hold exactly one cell, as dtc (which asserts it) and dom0less read them.
ONE_CELL = frozenset(
    {
        b"phandle",
        b"linux,phandle",
        b"interrupt-parent",
        b"#address-cells",
        b"#size-cells",
        b"#interrupt-cells",
    }
)
_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,._+-@#?")


class _Invalid(Exception):
    pass


def problem(data: bytes) -> Optional[str]:
    """Why ``data`` is not a well-formed DTB (with the offset of the fault), or None."""
    try:
        _check(data)
    except _Invalid as error:
        return str(error)
    return None


def _check(data: bytes) -> None:
    if len(data) < _HEADER.size:
        raise _Invalid(f"it is {len(data)} bytes, shorter than a DTB header ({_HEADER.size})")
    (
        magic,
        total,
        struct_off,
        strings_off,
        rsv_off,
        version,
        last_compatible,
        _boot_cpu,
        strings_size,
        struct_size,
    ) = _HEADER.unpack_from(data)
    if magic != DTB_MAGIC:
        raise _Invalid("its magic number is wrong (is it a .dts, or not a device tree at all?)")
    if not FIRST_VERSION <= version <= LAST_VERSION or last_compatible > FIRST_VERSION:
        raise _Invalid(
            f"its version is {version} (compatible down to {last_compatible}); "
            f"tools read versions {FIRST_VERSION} to {LAST_VERSION}: recompile it with dtc"
        )
    if total > len(data):
        raise _Invalid(f"its header says {total} bytes but the file has {len(data)} (truncated?)")
    if total < _HEADER.size:
        raise _Invalid(f"its header's total size {total} is smaller than the header")
    _block("memory reservation map", rsv_off, 0, total, 8)
    _block("structure block", struct_off, struct_size, total, 4)
    _block("strings block", strings_off, strings_size, total, 1)
    _reservations(data, rsv_off, total)
    strings = data[strings_off : strings_off + strings_size]
    _structure(data[struct_off : struct_off + struct_size], struct_off, strings)


def _block(name: str, offset: int, size: int, total: int, alignment: int) -> None:
    if offset < _HEADER.size or offset + size > total:
        raise _Invalid(
            f"its {name} (offset {offset:#x}, {size} bytes) lies outside the blob "
            f"({_HEADER.size:#x} to {total:#x})"
        )
    if offset % alignment:
        raise _Invalid(f"its {name} at {offset:#x} is not {alignment}-byte aligned")


def _reservations(data: bytes, offset: int, total: int) -> None:
    while True:
        if offset + 16 > total:
            raise _Invalid("its memory reservation map has no terminating entry")
        address, size = struct.unpack_from(">QQ", data, offset)
        if address == 0 and size == 0:
            return
        if address + size > 1 << 64:
            raise _Invalid(f"its memory reservation at {address:#x} runs past 64 bits")
        offset += 16


def _name(block: bytes, start: int, base: int, what: str) -> tuple[bytes, int]:
    end = block.find(b"\0", start)
    if end < 0:
        raise _Invalid(f"the {what} at {base + start:#x} has no terminating NUL")
    return block[start:end], end + 1


def _structure(block: bytes, base: int, strings: bytes) -> None:
    """Walk every token of the structure block (``base``: its offset, for messages)."""
    offset, depth, closed = 0, 0, False
    nodes = 0  # nodes begun so far: which one holds each phandle
    phandles: dict[int, int] = {}
    while True:
        if offset + 4 > len(block):
            raise _Invalid("its structure block ends without an END token")
        token = struct.unpack_from(">I", block, offset)[0]
        at = base + offset
        offset += 4
        if token == NOP:
            continue
        if token == END:
            if depth or not closed:
                raise _Invalid(f"END token at {at:#x} inside an open node")
            return
        if closed:
            raise _Invalid(f"token {token} at {at:#x} after the root node closed")
        if token == BEGIN_NODE:
            name, end = _name(block, offset, base, "node name")
            if depth == 0 and name:
                raise _Invalid(f"the root node at {at:#x} has a name ({name!r})")
            if depth and not _valid_name(name):
                raise _Invalid(f"the node name {name!r} at {at:#x} is empty or has bad characters")
            depth += 1
            nodes += 1
            if depth > MAX_DEPTH:
                raise _Invalid(f"its nodes nest deeper than {MAX_DEPTH} levels at {at:#x}")
            offset = _aligned(end)
        elif token == END_NODE:
            if depth == 0:
                raise _Invalid(f"END_NODE token at {at:#x} closes no node")
            depth -= 1
            closed = depth == 0
        elif token == PROP:
            if depth == 0:
                raise _Invalid(f"property at {at:#x} outside any node")
            if offset + 8 > len(block):
                raise _Invalid(f"the property at {at:#x} is cut short")
            length, name_offset = struct.unpack_from(">II", block, offset)
            offset += 8
            if offset + length > len(block):
                raise _Invalid(f"the property at {at:#x} ({length} bytes) runs past its block")
            if name_offset >= len(strings):
                raise _Invalid(f"the property at {at:#x} names a string past the strings block")
            end = strings.find(b"\0", name_offset)
            name = strings[name_offset:end] if end >= 0 else None
            if name is None or not _valid_name(name):
                raise _Invalid(f"the property at {at:#x} has an unterminated or bad name")
            if name in ONE_CELL and length != 4:
                raise _Invalid(f"its {name.decode()} at {at:#x} is {length} bytes, not one cell")
            if name in (b"phandle", b"linux,phandle"):
                value = struct.unpack_from(">I", block, offset)[0]
                if value in (0, 0xFFFFFFFF) or phandles.setdefault(value, nodes) != nodes:
                    raise _Invalid(f"its phandle {value:#x} at {at:#x} is invalid or used twice")
            offset = _aligned(offset + length)
        else:
            raise _Invalid(f"unknown token {token:#x} at {at:#x} in its structure block")


def _aligned(offset: int) -> int:
    return (offset + 3) & ~3


def _valid_name(name: bytes) -> bool:
    return bool(name) and set(name) <= _NAME_CHARS
