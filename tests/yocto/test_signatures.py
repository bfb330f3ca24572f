"""No path of the builder in the layer's task signatures: sstate and hash equivalence are shared.

Two builders parse the same layer at different absolute places (the checkout with
the layer and the library beside it, and TOPDIR, all elsewhere) through BitBake's
own signature generator, ignoring what oe-core ignores. A variable any task reads
whose value carries an absolute path makes the two base hashes differ; the failure
names the variable and both values.
"""

from __future__ import annotations

import os
import shutil
import types
from pathlib import Path

import pytest

pytest.importorskip("bb")
import bb.data
import bb.utils
from layer_parse import LAYER, MULTICONFIGS, REPO, parse_recipe, recipes, write_stubs

PLACES = ("one", "second-builder/deeper")


@pytest.fixture(autouse=True)
def oe_utils(monkeypatch: pytest.MonkeyPatch) -> None:
    """oe-core's lib is not available offline; Xen's task asks it only for a -j value."""
    utils = types.SimpleNamespace(parallel_make=lambda d: 2)
    monkeypatch.setitem(bb.utils._context, "oe", types.SimpleNamespace(utils=utils))


def _checkout(root: Path) -> Path:
    """The layer and the library beside it, copied under ``root`` as another checkout."""
    layer = root / "checkout" / LAYER.name
    shutil.copytree(LAYER, layer)
    shutil.copytree(
        REPO / "lib" / "xen_dom0less",
        layer.parent / "lib" / "xen_dom0less",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return layer


def _inputs(d, task: str) -> dict[str, str]:
    """Every variable entering ``task``'s signature, with the value the signature sees."""
    _, deps, values = bb.data.generate_dependencies(
        d, set(d.getVar("BB_BASEHASH_IGNORE_VARS").split())
    )
    seen, todo = {}, [task]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen[name] = str(values.get(name))
            todo += sorted(deps.get(name, ()))
    return seen


def _builder(root: Path, recipe: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """One builder's base hash per task, and each task's inputs."""
    layer = _checkout(root)
    d = parse_recipe(
        write_stubs(root / "stubs"),
        root / "build",
        layer / recipe,
        layer=layer,
        signed=True,
        BBMULTICONFIG="domu-linux domu-baremetal",
        XEN_DOM0LESS_MULTICONFIGS=MULTICONFIGS,
    )
    hashes = {
        task.rpartition(":")[2]: h for task, h in d.getVar("__siggen_basehashes", False).items()
    }
    return hashes, {task: _inputs(d, task) for task in hashes}


@pytest.mark.parametrize(
    "recipe", [str(p.relative_to(LAYER)) for p in recipes()], ids=lambda p: Path(p).name
)
def test_two_builders_compute_the_same_signatures(tmp_path: Path, recipe: str) -> None:
    (hashes, inputs), (other_hashes, other_inputs) = (
        _builder(tmp_path / place, recipe) for place in PLACES
    )
    assert hashes
    differing = [
        f"{task}: {name} is {value!r} at one place and {other_inputs[task].get(name)!r} at "
        "the other: give it a [vardepvalue] without the path, or [vardepsexclude] the "
        "variable carrying it"
        for task in sorted(hashes)
        for name, value in sorted(inputs[task].items())
        if other_inputs[task].get(name) != value
    ]
    assert differing == []
    assert hashes == other_hashes


@pytest.mark.parametrize("recipe", ["recipes-bsp", "recipes-extended"])
def test_library_files_are_parse_dependencies(tmp_path: Path, recipe: str) -> None:
    """What BitBake's cache keeps of the recipe: a changed library file re-parses it.

    BitBake 2.8 and 2.18 copy the recipe's parse dependencies into the cache before a
    task's file-checksums are expanded, so files listed only then are never re-checked:
    a new import would never enter the list.
    """
    import bb.cache  # after layer_parse, which stands in for hashserv

    path = next(LAYER.glob(f"{recipe}/*/*.bb"))
    d = parse_recipe(
        write_stubs(tmp_path / "stubs"),
        tmp_path,
        path,
        BBMULTICONFIG="domu-linux domu-baremetal",
        XEN_DOM0LESS_MULTICONFIGS=MULTICONFIGS,
    )
    info = bb.cache.CoreRecipeInfo(str(path), d)
    watched = {Path(f) for f, _ in info.file_depends}
    lib = REPO / "lib" / "xen_dom0less"
    tracked = [
        Path(entry.rpartition(":")[0])
        for entry in info.file_checksums["do_compile"].split()
        if Path(entry.rpartition(":")[0]).is_relative_to(lib)
    ]
    assert len(tracked) > 10
    assert [f for f in tracked if f not in watched and f.parent not in watched] == []


def test_a_new_import_enters_the_signature(tmp_path: Path) -> None:
    """Once a tracked module changes the recipe is re-parsed, and the new module is listed."""
    import bb.cache

    layer = _checkout(tmp_path)
    recipe = next(layer.glob("recipes-bsp/*/*.bb"))
    stubs = write_stubs(tmp_path / "stubs")

    def parsed():
        d = parse_recipe(stubs, tmp_path / "build", recipe, layer=layer)
        return bb.cache.CoreRecipeInfo(str(recipe), d)

    before = parsed()
    lib = layer.parent / "lib" / "xen_dom0less"
    (lib / "brand_new.py").write_text("VALUE = 1\n")
    pipeline = lib / "generator" / "pipeline.py"
    pipeline.write_text("from .. import brand_new  # noqa\n" + pipeline.read_text())
    os.utime(pipeline, ns=(1, 1))  # a stamp the first parse cannot have seen
    bb.parse.clear_cache()
    # The cache's validity check: a parse dependency whose stamp changed.
    assert dict(before.file_depends)[str(pipeline)] != bb.parse.cached_mtime_noerror(str(pipeline))
    assert "/./xen_dom0less/brand_new.py:" in parsed().file_checksums["do_compile"]
