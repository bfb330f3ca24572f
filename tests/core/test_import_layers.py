"""The package's layers import only downwards, and the harness never imports the generator.

Read from the source (every ``import``, at the top or inside a function), so an
import that would only run on some path still counts.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from ..conftest import ROOT

PACKAGE = ROOT / "lib" / "xen_dom0less"

#: Top-level module or subpackage -> its layer, lowest first (see the package docstring).
LAYERS = {
    "__init__": 0,
    "errors": 0,
    "units": 0,
    "hosttools": 0,
    "cache": 0,
    "outputs": 0,
    "atomic": 0,
    "diskimage": 0,
    "files": 0,
    "generator": 1,
    "importer": 1,  # other tools' configurations turned into descriptions, beside the generator
    "xenbuild": 2,
    "harness": 3,
    "cli": 4,
}
#: (importer, imported) pairs refused even though the second is not higher: the harness reads
#: what the generator wrote, never its code; the generator reads descriptions, never another
#: tool's configuration (the importer is beside it, not under it).
FORBIDDEN = {("harness", "generator"), ("generator", "importer")}


def top_of(module: str) -> str:
    """The top-level part of ``xen_dom0less.a.b`` ("a")."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import of the package in ``path``."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            # ``from .. import generator`` imports the subpackage, not the package root
            package_root = target == "xen_dom0less"
            found += [
                (node.lineno, f"{target}.{alias.name}" if package_root else target)
                for alias in node.names
            ]
    return [(line, name) for line, name in found if name.split(".")[0] == "xen_dom0less"]


def violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = top_of(module_name(path)) if path.parent != PACKAGE else path.stem
        for line, name in imports(path):
            imported = top_of(name)
            if imported not in LAYERS:
                found.append(f"{path.relative_to(ROOT)}:{line}: {name} is in no layer")
            elif LAYERS[imported] > LAYERS[importer] or (importer, imported) in FORBIDDEN:
                found.append(f"{path.relative_to(ROOT)}:{line}: {importer} imports {name}")
    return found


def test_every_top_level_module_has_a_layer():
    tops = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.parent.name for p in PACKAGE.glob("*/__init__.py")
    }
    assert tops <= set(LAYERS), f"give {sorted(tops - set(LAYERS))} a layer"


def test_no_import_goes_up_a_layer_or_from_the_harness_into_the_generator():
    assert violations() == []


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path, monkeypatch):
    """The reader resolves what the package uses: relative, absolute and in-function imports."""
    cli = imports(PACKAGE / "cli" / "__init__.py")
    assert any(name == "xen_dom0less.errors" for _, name in cli)
    package = tmp_path / "xen_dom0less"
    package.mkdir()
    (package / "probe.py").write_text("def f():\n    from .generator import pipeline\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    assert [name for _, name in imports(package / "probe.py")] == ["xen_dom0less.generator"]


def test_a_sideways_import_is_reported(tmp_path, monkeypatch):
    """The generator and the importer share a layer; only the importer's side may be used by
    the CLI, so a generator module importing the importer is a violation."""
    package = tmp_path / "xen_dom0less"
    (package / "generator").mkdir(parents=True)
    (package / "generator" / "__init__.py").write_text("")
    (package / "generator" / "probe.py").write_text("from ..importer import imagebuilder\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations() == [
        "xen_dom0less/generator/probe.py:1: generator imports xen_dom0less.importer"
    ]
