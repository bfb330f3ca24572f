"""Read a description's YAML strictly: one meaning per text, bounded, every error with its place.

PyYAML's own construction follows YAML 1.1, where ``0100`` is octal, ``1_0``
and ``1:30`` are numbers, the last of two equal keys wins silently, and
aliases expand without limit (an alias bomb, or a list holding itself). Here
YAML only composes the node graph; values are built from it by these rules:

- numbers are ASCII decimal digits (a leading zero is still decimal) or ``0x``
  hex, with an optional ``-``; any other plain text YAML 1.1 reads as a number
  is refused, so it can be quoted if it is text;
- a key given twice in one mapping is refused, naming both lines;
- aliases expand to at most MAX_VALUES values and MAX_DEPTH levels, and one
  that refers to a node holding itself is refused.

Besides the document, it gives the line of every value by its key path
(``domains[0].memory``), so later problems about a key can name its line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

import yaml

from ...errors import DescriptionError, Problem

#: Values a description may expand to, aliases included (one is a few hundred).
MAX_VALUES = 100_000
#: Nesting a description may have (one has five levels).
MAX_DEPTH = 64
#: The one syntax of numbers; 20 digits hold any 64-bit value.
_NUMBER = re.compile(r"-?(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})")
_TAG = "tag:yaml.org,2002:"
_TRUE = ("true", "yes", "on")


def load(text: str, path: Path) -> tuple[Any, dict[str, int]]:
    """The document in ``text`` (read from ``path``, for messages) and the line of each value
    by key path; DescriptionError if refused."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise DescriptionError(_problem(path, mark, f"not valid YAML: {problem}")) from None
    if node is None:
        return None, {}
    builder = _Builder(path)
    value = builder.value(node, 0, "")
    if builder.problems:
        raise DescriptionError(builder.problems)
    return value, builder.lines


def _problem(path: Path, mark: Any, message: str) -> Problem:
    """``message`` placed at ``mark`` (PyYAML's 0-based line and column), if known."""
    if mark is None:
        return Problem(message, str(path))
    return Problem(message, str(path), line=mark.line + 1, column=mark.column + 1)


class _Builder:
    def __init__(self, path: Path):
        self.path = path
        self.count = 0
        self.open: set[int] = set()  # nodes being built: meeting one again is a cycle
        self.problems: list[Problem] = []
        self.lines: dict[str, int] = {}  # key path -> line of its value (of its key in a map)

    def fail(self, node: yaml.Node, message: str) -> DescriptionError:
        """A problem that stops the reading: with it, the ones found so far."""
        return DescriptionError([*self.problems, _problem(self.path, node.start_mark, message)])

    def add(self, node: yaml.Node, message: str) -> None:
        self.problems.append(_problem(self.path, node.start_mark, message))

    def value(self, node: yaml.Node, depth: int, where: Optional[str]) -> Any:
        """``node`` built, found at key path ``where`` (None for a mapping's key)."""
        if where is not None:
            self.lines.setdefault(where, node.start_mark.line + 1)
        self.count += 1
        if self.count > MAX_VALUES:
            raise self.fail(
                node,
                f"the document expands to more than {MAX_VALUES} values through its "
                "aliases (*name): write the values out or use fewer aliases",
            )
        if depth > MAX_DEPTH:
            raise self.fail(node, f"values nest deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if id(node) in self.open:
            raise self.fail(node, "an alias (*name) refers to a value that holds it")
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode) and node.tag == _TAG + "seq":
                return [
                    self.value(item, depth + 1, f"{where}[{i}]")
                    for i, item in enumerate(node.value)
                ]
            if isinstance(node, yaml.MappingNode) and node.tag == _TAG + "map":
                return self.mapping(node, depth, where)
        finally:
            self.open.discard(id(node))
        raise self.fail(node, f"the tag {node.tag} is not supported here: remove it")

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag in (_TAG + "str", _TAG + "timestamp"):
            return text
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return text.lower() in _TRUE
        if tag == _TAG + "int":
            number = _NUMBER.fullmatch(text)
            if number is None:
                self.add(
                    node,
                    f"'{text}' is not a number dom0less reads: write decimal digits "
                    "(a leading zero is still decimal) or 0x hex, up to 64 bits, or quote "
                    "it if it is text",
                )
                return text
            sign = -1 if text.startswith("-") else 1
            digits = number[1]
            return sign * (int(digits, 16) if digits.startswith("0x") else int(digits, 10))
        if tag == _TAG + "float":
            try:
                return float(text.replace("_", ""))
            except ValueError:  # .inf and .nan spellings YAML has and Python lacks
                return text
        raise self.fail(node, f"the tag {tag} is not supported: remove it or quote the value")

    def mapping(self, node: yaml.MappingNode, depth: int, where: str) -> dict:
        result: dict = {}
        lines: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merged.update(self.merge(value_node, depth, where))
                continue
            key = self.value(key_node, depth + 1, None)
            if isinstance(key, (list, dict)):
                raise self.fail(key_node, "a key must be a single value, not a list or mapping")
            line = key_node.start_mark.line + 1
            if key in lines:
                self.add(
                    key_node,
                    f"the key '{key}' is given twice, on lines {lines[key]} and {line}: keep one",
                )
                continue
            lines[key] = line
            inner = f"{where}.{key}" if where else str(key)
            self.lines.setdefault(inner, line)  # the key's line: a block value starts below it
            result[key] = self.value(value_node, depth + 1, inner)
        return {**merged, **result}

    def merge(self, node: yaml.Node, depth: int, where: str) -> dict:
        """What ``<<: *base`` (or ``<<: [*a, *b]``) merges in; explicit keys win over it."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        found: dict = {}
        for source in reversed(sources):  # the first mapping listed wins
            value = self.value(source, depth + 1, where)
            if not isinstance(value, dict):
                raise self.fail(source, "<< merges mappings only: give it *name of a mapping")
            found.update(value)
        return found
