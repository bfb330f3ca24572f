"""BitBake's own parser (PyPI bitbake-setup) on the layer, and the boot-files task run for real.

oe-core is not available offline, so the few oe-core classes the recipes
inherit are stood in for by empty classes written here; everything of ours
(layer.conf, classes, recipes) goes through BitBake's parser unchanged.
"""

from __future__ import annotations

import json
import struct
import sys
import types
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAYER = REPO / "meta-xen-dom0less"
MACHINE = "qemuarm64"
# oe-core classes our recipes inherit; they only need to exist for parsing.
STUB_CLASSES = {
    "base": 'PN = "${@bb.parse.vars_from_file(d.getVar("FILE", False), d)[0] or "pkg"}"\n'
    'PV = "${@bb.parse.vars_from_file(d.getVar("FILE", False), d)[1] or "1.0"}"\n'
    "do_configure() {\n:\n}\ndo_compile() {\n:\n}\ndo_install() {\n:\n}\ndo_build() {\n:\n}\n"
    "addtask configure\naddtask compile after do_configure\n"
    "addtask install after do_compile\naddtask build after do_install\n",
    "deploy": 'DEPLOYDIR = "${WORKDIR}/deploy-${PN}"\n',
    "nopackages": "",
    "core-image": "",
}


def _stub_hashserv() -> None:
    """bitbake-setup ships bb but not hashserv, which bb.siggen imports."""
    if "hashserv" not in sys.modules:
        package = types.ModuleType("hashserv")
        package.__path__ = []
        client = types.ModuleType("hashserv.client")
        package.client = client
        sys.modules["hashserv"] = package
        sys.modules["hashserv.client"] = client


_stub_hashserv()
pytest.importorskip("bb")
import bb.build  # noqa: E402
import bb.data  # noqa: E402
import bb.parse  # noqa: E402
import bb.parse.parse_py.BBHandler  # noqa: E402
import bb.siggen  # noqa: E402
import bb.utils  # noqa: E402


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("oe-core-stubs")
    (root / "classes").mkdir()
    for name, text in STUB_CLASSES.items():
        (root / "classes" / f"{name}.bbclass").write_text(text)
    (root / "conf").mkdir()
    return root


def configuration(stubs: Path, topdir: Path) -> bb.data_smart.DataSmart:
    """A datastore as BitBake's cooker leaves it after bblayers.conf: our layer.conf parsed."""
    d = bb.data.init()
    d.setVar("TOPDIR", str(topdir))
    d.setVar("BBPATH", str(stubs))
    d.setVar("MACHINE", MACHINE)
    d.setVar("BB_CURRENT_MC", "")
    d.setVar("__bbclasstype", "recipe")
    d.setVar("LAYERDIR", str(LAYER))
    bb.parse.handle(str(LAYER / "conf" / "layer.conf"), d, baseconfig=True)
    d.expandVarref("LAYERDIR")
    d.delVar("LAYERDIR")
    bb.parse.siggen = bb.siggen.init(d)
    bb.parse.BBHandler.inherit("base", "configuration INHERITs", 0, d)
    return d


def parse_recipe(stubs: Path, topdir: Path, recipe: Path, **variables: str):
    d = configuration(stubs, topdir)
    for name, value in variables.items():
        d.setVar(name, value)
    d.setVar("TMPDIR", str(topdir / "tmp"))
    d.setVar("WORKDIR", str(topdir / "work" / recipe.stem))
    d.setVar("DEPLOY_DIR_IMAGE", str(topdir / "tmp" / "deploy" / "images" / MACHINE))
    d.setVar("T", "${WORKDIR}/temp")
    d.setVar("S", "${WORKDIR}/src")
    d.setVar("B", "${WORKDIR}/build")
    d.setVar("PATH", "/usr/bin:/bin")
    d.setVar("SOURCE_DATE_EPOCH", "1302044400")
    return bb.parse.handle(str(recipe), d)[""]


def recipes() -> list[Path]:
    return sorted(LAYER.glob("recipes-*/*/*.bb"))


def test_layer_conf(stubs: Path, tmp_path: Path) -> None:
    d = configuration(stubs, tmp_path)
    assert d.getVar("BBFILE_COLLECTIONS").split() == ["xen-dom0less"]
    assert d.getVar("LAYERDEPENDS_xen-dom0less") == "core"
    assert set(d.getVar("LAYERSERIES_COMPAT_xen-dom0less").split()) >= {"scarthgap", "wrynose"}
    assert d.getVar("XEN_DOM0LESS_LIBDIR") == str(REPO / "lib" / "xen_dom0less")
    # addpylib put the library where tasks find it.
    assert "xen_dom0less" in bb.utils._context


@pytest.mark.parametrize("recipe", recipes(), ids=lambda p: p.name)
def test_recipe_parses(stubs: Path, tmp_path: Path, recipe: Path) -> None:
    d = parse_recipe(stubs, tmp_path, recipe)
    assert d.getVar("SUMMARY")
    assert d.getVar("LICENSE")


def test_image_class_adds_boot_files(stubs: Path, tmp_path: Path) -> None:
    d = parse_recipe(
        stubs,
        tmp_path,
        LAYER / "recipes-core/images/dom0less-image.bb",
        IMAGE_BOOT_FILES="boot.bin boot.scr Image",
        LAYERSERIES_CORENAMES="wrynose",
    )
    assert d.getVar("IMAGE_BOOT_FILES").split() == ["boot.bin", "Image", "dom0less/*"]
    assert "wic" in d.getVar("IMAGE_FSTYPES").split()
    assert d.getVar("WKS_FILE") == "dom0less-sdimage.wks.in"
    assert "dom0less-boot-files:do_deploy" in d.getVarFlag("do_image_wic", "depends")
    assert d.getVar("XEN_DOM0LESS_WIC_BOOT_SOURCE") == "bootimg_partition"
    d.setVar("LAYERSERIES_CORENAMES", "scarthgap")
    assert d.getVar("XEN_DOM0LESS_WIC_BOOT_SOURCE") == "bootimg-partition"


def test_hypervisor_depends_on_no_target_library(stubs: Path, tmp_path: Path) -> None:
    d = parse_recipe(
        stubs,
        tmp_path,
        next(LAYER.glob("recipes-extended/xen/*.bb")),
        BASE_DEFAULT_DEPS="virtual/cross-cc virtual/compilerlibs virtual/libc",
    )
    assert d.getVar("BASE_DEFAULT_DEPS").split() == ["virtual/cross-cc"]
    assert set(d.getVar("DEPENDS").split()) <= {"bison-native", "flex-native"}


MULTICONFIGS = (
    "domu-linux:core-image-minimal domu-linux:virtual/kernel "
    "domu-baremetal:dom0less-hello-baremetal"
)


def boot_files(stubs: Path, topdir: Path, enabled: str = "domu-linux domu-baremetal"):
    return parse_recipe(
        stubs,
        topdir,
        next(LAYER.glob("recipes-bsp/dom0less-boot-files/*.bb")),
        BBMULTICONFIG=enabled,
        XEN_DOM0LESS_MULTICONFIGS=MULTICONFIGS,
    )


def test_mcdepends_only_on_enabled_multiconfigs(stubs: Path, tmp_path: Path) -> None:
    d = boot_files(stubs, tmp_path)
    assert d.getVarFlag("do_compile", "mcdepends").split() == [
        "mc::domu-linux:core-image-minimal:do_image_complete",
        "mc::domu-linux:virtual/kernel:do_deploy",
        "mc::domu-baremetal:dom0less-hello-baremetal:do_deploy",
    ]
    assert "xen-hypervisor-dom0less:do_deploy" in d.getVarFlag("do_compile", "depends")
    skipped = boot_files(stubs, tmp_path, enabled="domu-linux").getVar("__SKIPPED")
    assert "'domu-baremetal'" in skipped and "BBMULTICONFIG" in skipped


def _arm64_image(payload: bytes = b"\0" * 64) -> bytes:
    """An arm64 Image: the 64-byte header booti and Xen check, then the payload."""
    size = 64 + len(payload)
    header = struct.pack("<II6Q4sI", 0x14000010, 0, 0, size, 0xA, 0, 0, 0, b"ARM\x64", 0)
    return header + payload


def _fill_deploy_dirs(d) -> None:
    """What Xen's recipe and the two domU multiconfigs would have deployed."""
    import xen_dom0less.generator.description
    import xen_dom0less.generator.kconfig

    deploy = Path(d.getVar("DEPLOY_DIR_IMAGE"))
    deploy.mkdir(parents=True)
    (deploy / f"xen-dom0less-{MACHINE}").write_bytes(_arm64_image(b"xen" * 100))
    mc = {
        name: Path(path)
        for name, path in (
            ("domu_linux", d.expand(f"${{TOPDIR}}/tmp-domu-linux/deploy/images/{MACHINE}")),
            ("domu_baremetal", d.expand(f"${{TOPDIR}}/tmp-domu-baremetal/deploy/images/{MACHINE}")),
        )
    }
    for path in mc.values():
        path.mkdir(parents=True)
    (mc["domu_linux"] / "Image").write_bytes(_arm64_image(b"linux" * 1000))
    (mc["domu_linux"] / f"core-image-minimal-{MACHINE}.rootfs.cpio.gz").write_bytes(
        b"\x1f\x8b" + b"\0" * 500
    )
    (mc["domu_baremetal"] / "dom0less-hello-baremetal.bin").write_bytes(_arm64_image())
    environ = {
        "DEPLOY_DIR_IMAGE": str(deploy),
        "MACHINE": MACHINE,
        "MC_DEPLOY_domu_linux": str(mc["domu_linux"]),
        "MC_DEPLOY_domu_baremetal": str(mc["domu_baremetal"]),
    }
    system = xen_dom0less.generator.description.load(Path(d.getVar("XEN_DOM0LESS_SYSTEM")), environ)
    options = xen_dom0less.generator.kconfig.required(system)
    # as Xen's defconfig (its console drivers are on by default) plus the fragment
    (deploy / f"xen-dom0less-{MACHINE}.config").write_text(
        "CONFIG_HAS_PL011=y\n" + "".join(f"CONFIG_{name}=y\n" for name in options)
    )


def test_boot_files_task_writes_the_artefacts(stubs: Path, tmp_path: Path) -> None:
    d = boot_files(stubs, tmp_path)
    _fill_deploy_dirs(d)
    for task in ("do_compile", "do_deploy"):
        bb.build.exec_func(task, d)
    out = Path(d.getVar("DEPLOYDIR")) / "dom0less"
    names = {p.name for p in out.iterdir()}
    assert {"boot.scr", "boot.cmd", "xen.dtb", "manifest.json"} <= names
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest
    binaries = names - {"boot.scr", "boot.cmd", "xen.dtb", "manifest.json", "xen-kconfig.cfg"}
    assert len(binaries) >= 4, binaries  # xen, the two kernels and the ramdisk
    assert "mmc" not in (out / "boot.cmd").read_text()  # qemuarm64 loads from virtio


def test_boot_files_signature_follows_the_library(stubs: Path, tmp_path: Path) -> None:
    d = boot_files(stubs, tmp_path)
    if d.getVar("__exportlist", False) is None:
        d.setVar("__exportlist", [])  # oe-core's exports; our stubs have none
    _, deps, _ = bb.data.generate_dependencies(d, set())
    compile_deps = deps["do_compile"]
    assert "xen_dom0less.tasks.boot_files" in compile_deps, (
        "BitBake does not see the library call: lib/xen_dom0less/__init__.py needs "
        "BBIMPORTS listing 'tasks' (and 'xenbuild') for addpylib to register it"
    )
    assert "xen_dom0less_environ" in compile_deps
    assert "XEN_DOM0LESS_MC_DEPLOY_DIR[domu-linux]" in compile_deps
    checksums = d.getVarFlag("do_compile", "file-checksums")
    assert "xen_dom0less/*.py:True" in d.expand(checksums)
    assert d.getVar("XEN_DOM0LESS_SYSTEM") + ":True" in d.expand(checksums)


@pytest.mark.xenbuild
def test_hypervisor_task_builds_xen_through_the_library(
    stubs: Path, tmp_path: Path, xen_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recipe's do_compile and do_deploy, run on Debian's Xen source with a .cfg in SRC_URI."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "pools.cfg").write_text("CONFIG_BOOT_TIME_CPUPOOLS=y\n")
    d = parse_recipe(
        stubs,
        tmp_path,
        next(LAYER.glob("recipes-extended/xen/*.bb")),
        FILESPATH=str(files),
        DL_DIR=str(tmp_path / "downloads"),
        TARGET_ARCH="aarch64",
        TARGET_PREFIX="aarch64-linux-gnu-",
        XEN_DOM0LESS_XEN_FROM_SYSTEM="0",
    )
    d.appendVar("SRC_URI", " file://pools.cfg")  # as a BSP's bbappend adds a fragment
    d.setVar("S", str(xen_source))
    # oe-core's lib is not available offline; the task asks it only for a -j value.
    utils = types.SimpleNamespace(parallel_make=lambda d: 2)
    monkeypatch.setitem(bb.utils._context, "oe", types.SimpleNamespace(utils=utils))
    for task in ("do_compile", "do_deploy"):
        bb.utils.mkdirhier(d.getVar("DEPLOYDIR"))
        bb.build.exec_func(task, d)
    deployed = Path(d.getVar("DEPLOYDIR"))
    assert (deployed / f"xen-dom0less-{MACHINE}").read_bytes()[0x38:0x3C] == b"ARM\x64"
    config = (deployed / f"xen-dom0less-{MACHINE}.config").read_text()
    assert "CONFIG_BOOT_TIME_CPUPOOLS=y" in config
