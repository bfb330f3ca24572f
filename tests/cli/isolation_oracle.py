"""The fuzz campaign's oracle for isolation: which overlaps a description that built must
not have, computed here without the product's code.

The host tree is walked with the ``fdt`` package alone: each node's ``reg`` is turned into
CPU addresses through its parents' cell counts and ``ranges`` (a bus without ``ranges``
hides its children). A passed-through device's 4 KiB pages must not touch RAM (a memory
node), a /reserved-memory node, a /memreserve/ area, Xen's console UART or GIC, or another
domain's device pages. Only the categories the product always refuses are checked, so an
overlap found here in a case that exited 0 is a rule that let one through.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, Optional

import fdt

PAGE = 0x1000
GIC_COMPATIBLES = (b"arm,gic-v3", b"arm,gic-400", b"arm,cortex-a15-gic")

Span = tuple[int, int]  # start, end


def _words(node: fdt.Node, name: str) -> Optional[list[int]]:
    prop = node.get_property(name)
    if prop is None:
        return None
    if isinstance(prop, fdt.PropWords):
        return list(prop.data)
    raw = bytes(prop.data) if isinstance(prop, fdt.PropBytes) else b""
    return list(struct.unpack(f">{len(raw) // 4}I", raw[: len(raw) // 4 * 4]))


def _number(words: list[int]) -> int:
    value = 0
    for word in words:
        value = value << 32 | word
    return value


def _string(node: fdt.Node, name: str) -> bytes:
    prop = node.get_property(name)
    if prop is None:
        return b""
    if isinstance(prop, fdt.PropStrings):
        return b"\0".join(s.encode() for s in prop.data)
    return bytes(prop.data) if isinstance(prop, fdt.PropBytes) else b""


def cpu_spans(tree: fdt.FDT) -> tuple[dict[str, list[Span]], dict[str, bytes]]:
    """path -> the CPU address ranges of its reg, for every node the CPU can address; and
    path -> compatible of every node."""
    found: dict[str, list[Span]] = {}
    compatible: dict[str, bytes] = {}

    def visit(node: fdt.Node, path: str, cells: tuple[int, int], up) -> None:
        compatible[path] = _string(node, "compatible")
        reg = _words(node, "reg") or []
        step = sum(cells)
        if path != "/" and step and all(0 < c <= 4 for c in cells):
            spans = []
            for i in range(0, len(reg) - step + 1, step):
                start = _number(reg[i : i + cells[0]])
                size = _number(reg[i + cells[0] : i + step])
                mapped = up(start, size) if size else None
                if mapped is not None:
                    spans.append(mapped)
            if spans:
                found[path] = spans
        own = (
            (_words(node, "#address-cells") or [2])[0],
            (_words(node, "#size-cells") or [1])[0],
        )
        for child in node.nodes:
            child_path = f"{path.rstrip('/')}/{child.name}"
            visit(child, child_path, own, through(node, own, cells, up, path == "/"))

    def through(node, own, parent_cells, up, root):
        if root:
            return lambda start, size: (start, start + size)
        ranges = _words(node, "ranges")
        if ranges is None:
            return lambda start, size: None
        if not ranges:
            return up
        step = own[0] + parent_cells[0] + own[1]
        windows = [
            (
                _number(ranges[i : i + own[0]]),
                _number(ranges[i + own[0] : i + own[0] + parent_cells[0]]),
                _number(ranges[i + own[0] + parent_cells[0] : i + step]),
            )
            for i in range(0, len(ranges) - step + 1, step)
            if step
        ]

        def mapped(start: int, size: int) -> Optional[Span]:
            for child, parent, length in windows:
                if child <= start and start + size <= child + length:
                    return up(start - child + parent, size)
            return None

        return mapped

    visit(tree.root, "/", (2, 1), lambda start, size: (start, start + size))
    return found, compatible


def _pages(span: Span) -> Span:
    return span[0] // PAGE * PAGE, -(-span[1] // PAGE) * PAGE


def _overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def protected(
    tree: fdt.FDT, spans: dict[str, list[Span]], compatible: dict[str, bytes], console
) -> list[tuple[str, Span]]:
    """(what, span) no domain may reach: RAM, reservations, Xen's console and GIC."""
    found = [("/memreserve/", (e["address"], e["address"] + e["size"])) for e in tree.entries]
    memory = {
        f"/{n.name}"
        for n in tree.root.nodes
        if _string(n, "device_type").split(b"\0")[0] == b"memory"
    }
    gics = [p for p, c in compatible.items() if any(g in c.split(b"\0") for g in GIC_COMPATIBLES)]
    for path, node_spans in spans.items():
        if (
            path in memory
            or path.startswith("/reserved-memory/")
            or path == console
            or any(path == g or path.startswith(g + "/") for g in gics)
        ):
            found += [(path, s) for s in node_spans]
    return found


def console_path(tree: fdt.FDT, document: dict) -> Optional[str]:
    """Xen's console as the description or /chosen names it, resolved through /aliases."""
    xen = document.get("xen") or {}
    name = xen.get("console")
    if name is None and isinstance(xen.get("bootargs"), str):
        words = dict(w.partition("=")[::2] for w in xen["bootargs"].split())
        name = words.get("dtuart", "").split(":")[0] or None
    if name is None:
        try:
            chosen = tree.get_node("/chosen")
        except ValueError:
            return None
        name = _string(chosen, "stdout-path").split(b"\0")[0].decode(errors="replace")
        name = name.split(":")[0]
    if name and not name.startswith("/"):
        try:
            aliases = tree.get_node("/aliases")
        except ValueError:
            return None
        name = _string(aliases, name).split(b"\0")[0].decode(errors="replace")
    return name or None


def overlaps(description: Path) -> list[str]:
    """Every forbidden overlap of a description that built: empty when it is isolated."""
    import yaml

    document: Any = yaml.safe_load(description.read_text())
    tree = fdt.parse_dtb(Path(document["host"]["dtb"]).read_bytes())
    tree.entries = [dict(e) for e in tree.entries]  # fdt shares one list between trees
    spans, compatible = cpu_spans(tree)
    forbidden = protected(tree, spans, compatible, console_path(tree, document))
    given: list[tuple[str, str, Span]] = []
    for domain in document.get("domains") or []:
        for item in domain.get("passthrough") or []:
            path = item if isinstance(item, str) else item["path"]
            given += [(domain["name"], path, _pages(s)) for s in spans.get(path, [])]
    found = []
    for name, path, page in given:
        found += [
            f"{name}: {path} {page[0]:#x}-{page[1]:#x} overlaps {what}"
            for what, span in forbidden
            if _overlap(page, span)
        ]
        found += [
            f"{name}: {path} shares a page with {other}'s {other_path}"
            for other, other_path, other_page in given
            if other != name and _overlap(page, other_page)
        ]
    return found
