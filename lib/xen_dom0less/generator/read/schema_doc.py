"""Render the description reference (docs/description.md) from the JSON Schema.

The schema is the single source: the loader checks against it, editors
complete from it, and this page is generated from it (a test keeps it current).
"""

from __future__ import annotations

from typing import Any

from .schema_check import load_schema, resolve


def render() -> str:
    schema = load_schema()
    lines = [
        "# The system description (version 1)",
        "",
        "<!-- Generated from lib/xen_dom0less/generator/read/schema/system.schema.json by",
        "     `python3 -m xen_dom0less.generator.read.schema_doc > docs/description.md`:",
        "     edit the schema. -->",
        "",
        schema["description"],
        "",
        "Paths are relative to the YAML file; `${VAR}` expands from the environment. Sizes take",
        "K/M/G suffixes (`256M`); addresses are integers or hex strings (`0x40000000`).",
        "Numbers have one syntax: ASCII decimal digits (a leading zero is still decimal) or `0x`",
        "hex, up to 64 bits; YAML 1.1's octal (`0100`), `0b`, `1_000` and `1:30` are refused,",
        "as are a key given twice in one mapping and aliases that expand past 100,000 values.",
        "Command lines are printable ASCII. Point your editor's YAML language server at the",
        "schema for completion:",
        "`# yaml-language-server: $schema=<path>/system.schema.json`.",
        "",
    ]
    _object(schema, schema, "", lines)
    return "\n".join(lines).rstrip() + "\n"


def _type(node: dict[str, Any], root: dict[str, Any]) -> str:
    node = resolve(node, root)
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if "oneOf" in node:
        return " or ".join(_type(o, root) for o in node["oneOf"])
    if node.get("type") == "array":
        return f"list of {_type(node.get('items', {}), root)}"
    return node.get("type", "value")


def _object(node: dict[str, Any], root: dict[str, Any], prefix: str, lines: list[str]) -> None:
    node = resolve(node, root)
    required = set(node.get("required", ()))
    rows = []
    nested = []
    for key, child in node.get("properties", {}).items():
        child = resolve(child, root)
        items = resolve(child.get("items", {}), root) if child.get("type") == "array" else {}
        default = f" Default: `{child['default']}`." if "default" in child else ""
        text = child.get("description", items.get("description", "")) + default
        rows.append(
            f"| `{key}` | {'yes' if key in required else ''} | {_type(child, root)} | {text} |"
        )
        for sub in (child, items):
            if sub.get("properties"):
                nested.append((f"{prefix}{key}{'[]' if sub is items else ''}", sub))
    lines += [
        f"## `{prefix.rstrip('.')}`" if prefix else "## Top level",
        "",
        "| key | required | type | meaning |",
        "|---|---|---|---|",
        *rows,
        "",
    ]
    for name, sub in nested:
        _object(sub, root, f"{name}.", lines)


if __name__ == "__main__":
    print(render(), end="")
