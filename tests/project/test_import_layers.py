"""The package's layers import only downwards, the generator's stages too, and the harness
(a distribution of its own) depends on the product, never the reverse.

Read from the source (every ``import``, at the top or inside a function), so an
import that would only run on some path still counts.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from ..conftest import ROOT

PACKAGE = ROOT / "lib" / "xen_dom0less"
HARNESS = ROOT / "lib" / "harness" / "xen_dom0less_harness"

#: Top-level module or subpackage -> its layer, lowest first (see the package docstring).
LAYERS = {
    "__init__": 0,
    "errors": 0,
    "units": 0,
    "hosttools": 0,
    "cache": 0,
    "outputs": 0,
    "manifest": 0,
    "atomic": 0,
    "diskimage": 0,
    "files": 0,
    "svg": 0,
    "generator": 1,
    "importer": 1,  # other tools' configurations turned into descriptions, beside the generator
    "timeline": 1,  # serial captures read into boot milestones, beside the generator
    "xenbuild": 2,
    "cli": 4,
}
#: (importer, imported) pairs refused even though the second is not higher: the generator
#: reads descriptions, never another tool's configuration (the importer is beside it).
FORBIDDEN = {("generator", "importer")}
#: The generator's parts, lowest first (see generator/__init__.py): the data, the facts,
#: then one package per stage; a stage imports only the data and the stages before it.
STAGES = {
    "model": 0,
    "facts": 1,
    "hostdt": 1,
    "plan": 2,
    "read": 3,
    "check": 4,
    "place": 5,
    "render": 6,
    "pipeline": 7,
    "output_dir": 7,
    "__init__": 7,
}
#: What of the product the harness may use: the shared modules, the Xen build, the CLI it
#: adds subcommands to and the serial-log reader (one pattern for Xen's stamps); it reads
#: what the generator wrote (the manifest), never its code.
HARNESS_MAY_IMPORT = {
    "__init__",
    "errors",
    "units",
    "hosttools",
    "cache",
    "outputs",
    "manifest",
    "atomic",
    "diskimage",
    "files",
    "xenbuild",
    "cli",
    "timeline",
}


def top_of(module: str) -> str:
    """The top-level part of ``xen_dom0less.a.b`` ("a")."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def stage_of(module: str) -> str:
    """The generator part of ``xen_dom0less.generator.a.b`` ("a")."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 else "__init__"


def module_name(path: Path) -> str:
    top = PACKAGE.parent if path.is_relative_to(PACKAGE) else HARNESS.parent
    parts = path.relative_to(top).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    """Whether ``name`` is a module or package of the product or the harness."""
    top = HARNESS.parent if name.startswith("xen_dom0less_harness") else PACKAGE.parent
    base = top.joinpath(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists() or base.is_dir()


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
            # ``from . import model`` imports the submodule, not its package
            found += [
                (
                    node.lineno,
                    f"{target}.{alias.name}" if is_module(f"{target}.{alias.name}") else target,
                )
                for alias in node.names
            ]
    return [
        (line, name)
        for line, name in found
        if name.split(".")[0] in ("xen_dom0less", "xen_dom0less_harness")
    ]


def violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = module_name(path)
        importer = top_of(here) if path.parent != PACKAGE else path.stem
        for line, name in imports(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            if name.split(".")[0] != "xen_dom0less":
                found.append(f"{where}: the product imports {name}")
                continue
            imported = top_of(name)
            if imported not in LAYERS:
                found.append(f"{where}: {name} is in no layer")
            elif LAYERS[imported] > LAYERS[importer] or (importer, imported) in FORBIDDEN:
                found.append(f"{where}: {importer} imports {name}")
            elif importer == imported == "generator" and stage_violation(here, name):
                found.append(f"{where}: generator.{stage_of(here)} imports {name}")
    return found


def stage_violation(importer: str, imported: str) -> bool:
    """Whether a generator module imports a later stage (or a part in no stage)."""
    low, high = stage_of(importer), stage_of(imported)
    if low not in STAGES or high not in STAGES:
        return True
    return STAGES[high] > STAGES[low]


def harness_violations() -> list[str]:
    found = []
    for path in sorted(HARNESS.rglob("*.py")):
        for line, name in imports(path):
            if name.split(".")[0] == "xen_dom0less" and top_of(name) not in HARNESS_MAY_IMPORT:
                found.append(f"{path.relative_to(ROOT)}:{line}: the harness imports {name}")
    return found


def test_every_top_level_module_has_a_layer():
    tops = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.parent.name for p in PACKAGE.glob("*/__init__.py")
    }
    assert tops <= set(LAYERS), f"give {sorted(tops - set(LAYERS))} a layer"


def test_no_import_goes_up_a_layer_or_a_stage_or_into_the_harness():
    assert violations() == []


def test_the_harness_uses_the_product_but_not_the_generator():
    assert harness_violations() == []


def test_a_stage_importing_a_later_one_is_reported(tmp_path, monkeypatch):
    """check may use read, never render: the stages are in pipeline order."""
    package = tmp_path / "xen_dom0less"
    (package / "generator" / "check").mkdir(parents=True)
    for folder in (package, package / "generator", package / "generator" / "check"):
        (folder / "__init__.py").write_text("")
    (package / "generator" / "check" / "probe.py").write_text(
        "from ..read import description\nfrom ..render import chosen\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations() == [
        "xen_dom0less/generator/check/probe.py:2: "
        "generator.check imports xen_dom0less.generator.render"
    ]


def test_the_product_importing_the_harness_is_reported(tmp_path, monkeypatch):
    package = tmp_path / "xen_dom0less"
    (package / "cli").mkdir(parents=True)
    for folder in (package, package / "cli"):
        (folder / "__init__.py").write_text("")
    (package / "cli" / "probe.py").write_text("import xen_dom0less_harness.runner\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations() == [
        "xen_dom0less/cli/probe.py:1: the product imports xen_dom0less_harness.runner"
    ]


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
