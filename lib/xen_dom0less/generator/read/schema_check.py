"""Check a parsed description against our JSON Schema, reporting every problem.

The schema file is the single source of truth; this walks the subset of JSON
Schema it uses. We do not import ``jsonschema`` here because its import alone
costs about as long as ImageBuilder takes for a whole run; the test suite
checks that both agree.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from ...errors import article

SCHEMA_PATH = Path(__file__).with_name("schema") / "system.schema.json"

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
}


@cache
def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def check(document: Any) -> list[tuple[str, str]]:
    """Return (key path, message) for each violation, in document order."""
    schema = load_schema()
    problems: list[tuple[str, str]] = []
    _check(document, schema, "", schema, problems)
    return problems


def resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        merged = {k: v for k, v in node.items() if k != "$ref"}
        node = {**root["$defs"][name], **merged}
    return node


def _is_type(value: Any, name: str) -> bool:
    if name == "integer" and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


#: How to write a value of each type, for a value of another.
_TYPE_FIXES = {
    "object": "write key: value lines indented under it",
    "array": "write a list: '- item' lines or [a, b]",
    "string": "write text, quoted if YAML would read it as something else",
    "boolean": "write true or false",
    "integer": "write a whole number without quotes",
}


def _shown(value: Any) -> str:
    """A value as the user wrote it, for messages (null as 'an empty value')."""
    return "an empty value (YAML null)" if value is None else repr(value)


def _same(value: Any, wanted: Any) -> bool:
    """Equal and of the same kind: Python's ``True == 1`` must not let a boolean pass for 1."""
    return value == wanted and isinstance(value, bool) == isinstance(wanted, bool)


def _rule(node: dict[str, Any], fallback: str) -> str:
    """The rule a value broke, in words, with how to fix it (the schema's ``x-rule``)."""
    return node.get("x-rule", fallback)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    for name, kind in _TYPES.items():
        if isinstance(value, kind):
            return article(name)
    if value is None:
        return "nothing (YAML null: quote the word if you meant the text)"
    if isinstance(value, float):  # as YAML read it: 2023.10 unquoted is 2023.1
        return f"the number {value!r}"
    return type(value).__name__


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _check(
    value: Any, node: dict[str, Any], path: str, root: dict[str, Any], out: list[tuple[str, str]]
) -> None:
    node = resolve(node, root)
    where = path or "(top level)"
    if "oneOf" in node:
        matches = sum(1 for option in node["oneOf"] if not _sub_problems(value, option, root))
        if matches != 1:
            rule = _rule(node, node.get("description", "wrong form"))
            out.append((where, f"{_shown(value)} is not valid: {rule}"))
        return
    if "const" in node and not _same(value, node["const"]):
        out.append((where, f"must be {node['const']!r}, not {value!r}"))
        return
    wanted = node.get("type")
    if wanted and not _is_type(value, wanted):
        out.append(
            (where, f"expected {article(wanted)}, got {_describe(value)}: {_TYPE_FIXES[wanted]}")
        )
        return
    if "enum" in node and not any(_same(value, choice) for choice in node["enum"]):
        choices = ", ".join(str(c) for c in node["enum"])
        out.append((where, f"{value!r} is not one of: {choices} (write one of these)"))
    if isinstance(value, str):
        _check_string(value, node, where, out)
    elif isinstance(value, int) and not isinstance(value, bool):
        _check_number(value, node, where, out)
    elif isinstance(value, dict):
        _check_object(value, node, path, root, out)
    elif isinstance(value, list):
        _check_array(value, node, path, root, out)


def _sub_problems(value: Any, node: dict[str, Any], root: dict[str, Any]) -> list:
    found: list[tuple[str, str]] = []
    _check(value, node, "", root, found)
    return found


def _check_string(value: str, node: dict[str, Any], where: str, out: list) -> None:
    if len(value) < node.get("minLength", 0):
        out.append((where, "must not be empty"))
    pattern = node.get("pattern")
    if pattern and not re.search(pattern, value):
        hint = _rule(node, f"it must match the regular expression {pattern}")
        out.append((where, f"{value!r} is not valid: {hint}"))


def _check_number(value: int, node: dict[str, Any], where: str, out: list) -> None:
    if "minimum" in node and value < node["minimum"]:
        out.append((where, f"{value} is below the minimum {node['minimum']}"))
    if "maximum" in node and value > node["maximum"]:
        out.append((where, f"{value} is above the maximum {node['maximum']}"))
    if "multipleOf" in node and value % node["multipleOf"]:
        out.append((where, f"{value} must be a multiple of {node['multipleOf']}"))


def _check_object(
    value: dict, node: dict[str, Any], path: str, root: dict[str, Any], out: list
) -> None:
    where = path or "(top level)"
    properties = node.get("properties", {})
    for key in node.get("required", ()):
        if key not in value:
            out.append((where, f"missing required key '{key}': add it"))
    patterns = node.get("patternProperties", {})
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], _join(path, key), root, out)
            continue
        matched = [p for p in patterns if re.search(p, str(key))]
        for pattern in matched:
            _check(item, patterns[pattern], _join(path, str(key)), root, out)
        if not matched and node.get("additionalProperties", True) is False:
            allowed = ", ".join(properties) or node.get("x-keys", ", ".join(patterns))
            out.append((_join(path, str(key)), f"unknown key '{key}' (allowed here: {allowed})"))


def _check_array(
    value: list, node: dict[str, Any], path: str, root: dict[str, Any], out: list
) -> None:
    where = path or "(top level)"
    if len(value) < node.get("minItems", 0):
        out.append((where, f"needs at least {node['minItems']} item(s)"))
    if node.get("uniqueItems"):
        seen: list[Any] = []
        for item in value:
            if any(_same(item, other) for other in seen):
                out.append((where, f"{item!r} is listed twice"))
            seen.append(item)
    if "items" in node:
        for index, item in enumerate(value):
            _check(item, node["items"], _join(path, index), root, out)
