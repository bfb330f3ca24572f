"""The description's defaults, taken from the schema's ``default`` keywords: stated once, there.

The model and the converter carry no defaults of their own; a key the user
left out gets the schema's value before conversion, so the documentation
(schema_doc prints each ``default``) and the behaviour cannot disagree.
"""

from __future__ import annotations

from typing import Any

from .schema_check import load_schema, resolve


def fill(document: Any) -> Any:
    """``document`` (schema-valid) with every absent key that has a schema default added."""
    schema = load_schema()
    return _fill(document, schema, schema)


def _fill(value: Any, node: dict[str, Any], root: dict[str, Any]) -> Any:
    node = resolve(node, root)
    if isinstance(value, dict):
        properties = node.get("properties", {})
        filled = {key: _fill(item, properties.get(key, {}), root) for key, item in value.items()}
        for key, child in properties.items():
            child = resolve(child, root)
            if key not in filled and "default" in child:
                filled[key] = _fill(child["default"], child, root)
        return filled
    if isinstance(value, list):
        items = node.get("items", {})
        return [_fill(item, items, root) for item in value]
    return value
