"""What a real oe-core build of each supported release needs from the layer, checked offline.

Each test stands for a fault seen with the real BitBake and oe-core (see
docs/yocto.md): a parse that imports the library's third-party modules (the
host's Python has neither PyYAML nor fdt), a BBIMPORTS module BitBake 2.8
cannot read, a kickstart where some release's wic does not look, and what
oelint-adv finds.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("bb")
from layer_parse import LAYER, MACHINE, configuration, parse_recipe, write_stubs

HERE = Path(__file__).resolve().parent

#: Where each release's wic searches a WKS_FILE given by name, besides the
#: recipe's own directory (WKS_SEARCH_PATH in oe-core's
#: meta/classes-recipe/image_types_wic.bbclass on each branch): a "wic"
#: directory of every BBPATH entry up to whinlatter, "files/wic" from wrynose.
WIC_SEARCH_SUBDIR = {
    "scarthgap": "wic",
    "walnascar": "wic",
    "whinlatter": "wic",
    "wrynose": "files/wic",
}
#: Layer directories wrynose's sanity check refuses (sanity.bbclass: kickstarts
#: belong in files/wic there).
REFUSED_BY_WRYNOSE = ("wic", "scripts/lib/wic/canned-wks")


def compatible_releases() -> list[str]:
    text = (LAYER / "conf" / "layer.conf").read_text()
    return re.search(r'^LAYERSERIES_COMPAT_\S+\s*=\s*"([^"]*)"', text, re.M)[1].split()


def test_parsing_imports_no_third_party_module(tmp_path: Path) -> None:
    """Every recipe parses, signatures included, in an interpreter without PyYAML and fdt.

    BitBake parses in the host's python3, which oe-core does not require to
    have either; the layer must import neither (nor the library, which does).
    """
    script = textwrap.dedent(f"""
        import importlib.abc, json, sys

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("yaml", "fdt"):
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, Blocker())
        sys.path.insert(0, {str(HERE)!r})
        import layer_parse
        parsed = layer_parse.parse_everything(__import__("pathlib").Path({str(tmp_path)!r}))
        library = sorted(m for m in sys.modules if m.startswith("xen_dom0less"))
        print(json.dumps({{"parsed": parsed, "library": library}}))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    result = __import__("json").loads(run.stdout.splitlines()[-1])
    assert len(result["parsed"]) == len(list(LAYER.glob("recipes-*/*/*.bb")))
    assert result["library"] == [], "parsing the layer imported the library"


def _addpylib_namespaces() -> list[tuple[Path, str]]:
    text = (LAYER / "conf" / "layer.conf").read_text().replace("${LAYERDIR}", str(LAYER))
    return [(Path(m[1]), m[2]) for m in re.finditer(r"^\s*addpylib\s+(\S+)\s+(\S+)", text, re.M)]


def test_bbimports_readable_by_bitbake_2_8() -> None:
    """BitBake 2.8 reads the source of every public callable of a BBIMPORTS module.

    Its ast.PyLibNode passes each to inspect.getsourcefile, which raises
    TypeError for typing.Optional and the like and crashes the configuration
    parse (2.18 skips them). The layer has no addpylib, and the library then
    keeps no BBIMPORTS list nobody reads.
    """
    namespaces = _addpylib_namespaces()
    if not namespaces:
        init = (LAYER.parent / "lib" / "xen_dom0less" / "__init__.py").read_text()
        assert "BBIMPORTS" not in init, "BBIMPORTS without an addpylib in layer.conf"
        return
    unreadable = []
    for libdir, namespace in namespaces:
        sys.path.insert(0, str(libdir))
        try:
            package = __import__(namespace)
            for name in getattr(package, "BBIMPORTS", []):
                module = __import__(f"{namespace}.{name}", fromlist=["_"])
                for attribute in dir(module):
                    value = getattr(module, attribute)
                    if attribute.startswith("_") or not callable(value):
                        continue
                    try:
                        inspect.getsourcefile(value)
                    except TypeError:
                        unreadable.append(f"{namespace}.{name}.{attribute}")
        finally:
            sys.path.remove(str(libdir))
    assert unreadable == []


@pytest.mark.parametrize("release", sorted(WIC_SEARCH_SUBDIR))
def test_kickstart_found_by_every_release(tmp_path: Path, release: str) -> None:
    """The image's WKS_FILE resolves through that release's own search path."""
    wic_class = (
        'WKS_FILE ??= "${IMAGE_BASENAME}.${MACHINE}.wks"\n'
        "WKS_SEARCH_PATH ?= \"${THISDIR}:${@':'.join('%s/"
        + WIC_SEARCH_SUBDIR[release]
        + "' % p for p in '${BBPATH}'.split(':'))}\"\n"
    )
    stubs = write_stubs(tmp_path / "stubs", {"core-image": wic_class})
    d = parse_recipe(
        stubs,
        tmp_path,
        LAYER / "recipes-core/images/dom0less-image.bb",
        LAYERSERIES_CORENAMES=release,
    )
    import bb.utils

    found = bb.utils.which(d.getVar("WKS_SEARCH_PATH"), d.getVar("WKS_FILE"))
    assert found, f"{release}'s wic does not find {d.getVar('WKS_FILE')}"
    assert Path(found).is_relative_to(LAYER)


def test_no_layer_directory_wrynose_refuses() -> None:
    for refused in REFUSED_BY_WRYNOSE:
        assert not (LAYER / refused).exists(), f"wrynose's sanity check refuses {refused}/"


def test_every_compatible_release_is_checked() -> None:
    assert set(compatible_releases()) <= set(WIC_SEARCH_SUBDIR)


def test_layer_conf_sets_only_layer_variables(tmp_path: Path) -> None:
    d = configuration(write_stubs(tmp_path / "stubs"), tmp_path)
    assert d.getVar("MACHINE") == MACHINE
    ours = [name for name in d if name.startswith("XEN_DOM0LESS")]
    assert ours == [], "layer.conf leaks variables into every configuration"


@pytest.mark.parametrize("release", ["scarthgap", "wrynose"])
def test_oelint_finds_nothing(release: str) -> None:
    """oelint-adv with the repository's .oelint.cfg, over every file of the layer it reads."""
    pytest.importorskip("oelint_adv")
    files = sorted(
        str(p)
        for pattern in ("*.bb", "*.bbappend", "*.bbclass", "*.conf")
        for p in LAYER.rglob(pattern)
    )
    run = subprocess.run(
        [sys.executable, "-m", "oelint_adv", "--release", release, "--quiet", *files],
        capture_output=True,
        text=True,
        cwd=LAYER.parent,
    )
    findings = (run.stdout + run.stderr).strip()
    assert (run.returncode, findings) == (0, "")


def test_readme_passes_yocto_check_layer() -> None:
    """yocto-check-layer's test_readme: maintainer, patch instructions, an address."""
    text = (LAYER / "README.md").read_text()
    assert "README" not in text, "a README naming another README skips the checks"
    assert "maintainer" in text.lower() and "patch" in text.lower()
    assert re.search(r"[^@\s]+@[^@\s]+", text)


def test_licence_file_matches_the_recipes() -> None:
    """Our own recipes say MIT, and so does the repository's LICENSE."""
    assert (LAYER.parent / "LICENSE").read_text().startswith("MIT License")
    ours = [p for p in LAYER.glob("recipes-*/*/*.bb") if p.name.startswith("dom0less-")]
    assert ours
    for recipe in ours:
        assert re.search(r'^LICENSE = "MIT"$', recipe.read_text(), re.M), recipe.name


def test_recipes_build_from_unpacked_sources() -> None:
    """${THISDIR} is the layer's checkout, not what do_unpack and the checksums saw."""
    for recipe in LAYER.glob("recipes-*/*/*.bb"):
        assert "${THISDIR}" not in recipe.read_text(), recipe.name
