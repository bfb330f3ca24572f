"""BitBake's own parser (PyPI bitbake-setup) on the layer, and the boot-files task run for real.

The stand-ins for oe-core and the parsing helpers are in layer_parse.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

pytest.importorskip("bb")
import bb
import bb.build
import bb.data
import bb.process
import bb.utils
from layer_parse import (
    LAYER,
    MACHINE,
    MULTICONFIGS,
    REPO,
    configuration,
    parse_recipe,
    recipes,
    write_stubs,
)

from tests.conftest import arm64_image
from xen_dom0less.generator.facts.images import ARM64_IMAGE, classify


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_stubs(tmp_path_factory.mktemp("oe-core-stubs"))


def test_layer_conf(stubs: Path, tmp_path: Path) -> None:
    d = configuration(stubs, tmp_path)
    assert d.getVar("BBFILE_COLLECTIONS").split() == ["xen-dom0less"]
    assert d.getVar("LAYERDEPENDS_xen-dom0less") == "core"
    assert set(d.getVar("LAYERSERIES_COMPAT_xen-dom0less").split()) >= {"scarthgap", "wrynose"}
    # The library is no part of BitBake's configuration: the tasks run it in native Python.
    assert "xen_dom0less" not in bb.utils._context


@pytest.mark.parametrize("recipe", recipes(), ids=lambda p: p.name)
def test_recipe_parses(stubs: Path, tmp_path: Path, recipe: Path) -> None:
    d = parse_recipe(stubs, tmp_path, recipe)
    assert d.getVar("SUMMARY")
    assert d.getVar("LICENSE")


@pytest.mark.parametrize("recipe", ["recipes-bsp", "recipes-extended"])
def test_library_tasks_run_in_native_python(stubs: Path, tmp_path: Path, recipe: str) -> None:
    d = parse_recipe(stubs, tmp_path, next(LAYER.glob(f"{recipe}/*/*.bb")))
    assert {"python3-native", "python3-pyyaml-native", "python3-fdt-native"} <= set(
        d.getVar("DEPENDS").split()
    )
    assert d.getVar("XEN_DOM0LESS_LIBDIR") == str(REPO / "lib")
    assert not d.getVarFlag("do_compile", "python"), "a Python task runs in BitBake's interpreter"


def test_boot_files_wait_for_the_kernel_only_with_a_dom0(stubs: Path, tmp_path: Path) -> None:
    recipe = next(LAYER.glob("recipes-bsp/*/*.bb"))
    without = parse_recipe(stubs, tmp_path, recipe)
    assert "virtual/kernel" not in without.getVarFlag("do_compile", "depends")
    for text in ("version: 1\ndom0:\n  kernel: Image\n", '{"version": 1, "dom0": {}}\n'):
        system = tmp_path / "with-dom0.yml"
        system.write_text(text)
        d = parse_recipe(stubs, tmp_path, recipe, XEN_DOM0LESS_SYSTEM=str(system))
        assert "virtual/kernel:do_deploy" in d.getVarFlag("do_compile", "depends"), text


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
    # A UEFI build's files go in the EFI system partition's EFI/BOOT/, the script at the root.
    d.setVar("XEN_DOM0LESS_BOOT_LAYOUT", "esp")
    assert d.getVar("IMAGE_BOOT_FILES").split() == [
        "boot.bin",
        "Image",
        "dom0less/boot.scr",
        "dom0less/*;EFI/BOOT",
    ]


def test_hypervisor_depends_on_no_target_library(stubs: Path, tmp_path: Path) -> None:
    d = parse_recipe(
        stubs,
        tmp_path,
        next(LAYER.glob("recipes-extended/xen/*.bb")),
        BASE_DEFAULT_DEPS="virtual/cross-cc virtual/compilerlibs virtual/libc",
    )
    assert d.getVar("BASE_DEFAULT_DEPS").split() == ["virtual/cross-cc"]
    # Only native tools: Kconfig's flex and bison, and the Python the library runs in.
    assert all(name.endswith("-native") for name in d.getVar("DEPENDS").split())


def boot_files(
    stubs: Path, topdir: Path, enabled: str = "domu-linux domu-baremetal", **variables: str
):
    return parse_recipe(
        stubs,
        topdir,
        next(LAYER.glob("recipes-bsp/dom0less-boot-files/*.bb")),
        **{"BBMULTICONFIG": enabled, "XEN_DOM0LESS_MULTICONFIGS": MULTICONFIGS, **variables},
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


def test_mcdepends_from_the_default_configuration_of_bitbake_2_8(
    stubs: Path, tmp_path: Path
) -> None:
    """BitBake 2.8 sets BB_CURRENT_MC = "default" there, yet runqueue matches mcdepends on ""."""
    d = boot_files(stubs, tmp_path, BB_CURRENT_MC="default")
    assert all(dep.startswith("mc::") for dep in d.getVarFlag("do_compile", "mcdepends").split())


@pytest.mark.parametrize("name", ["domu-linux", "domu-baremetal"])
def test_multiconfig_tmpdir_is_where_the_boot_files_look(
    stubs: Path, tmp_path: Path, name: str
) -> None:
    """Scarthgap's defaultsetup.conf appends "-${TCLIBC}" to TMPDIR after the multiconfig file.

    Wrynose's renamed-variable check refuses TCLIBCAPPEND, the usual way to turn that off.
    """
    d = bb.data.init()
    d.setVar("TOPDIR", str(tmp_path))
    d.setVar("BB_CURRENT_MC", name)
    d.setVar("TCLIBC", "glibc")
    conf = LAYER / "conf" / "multiconfig" / f"{name}.conf"
    bb.parse.handle(str(conf), d, baseconfig=True)
    assert "TCLIBCAPPEND" not in d, "wrynose refuses TCLIBCAPPEND (a renamed variable)"
    d.setVar("TCLIBCAPPEND", "-glibc")
    d.appendVar("TMPDIR", "${TCLIBCAPPEND}")  # scarthgap's TMPDIR .= "${TCLIBCAPPEND}"
    d.setVar("DEPLOY_DIR", d.getVar("DEPLOY_DIR", False) or "${TMPDIR}/deploy")  # its ?=
    recipe = boot_files(stubs, tmp_path)  # parsed first: that defines the class's functions
    multiconfigs = bb.utils._context["xen_dom0less_multiconfigs"](recipe)
    deploy = {found[0]: found[3] for found in multiconfigs}[name]
    assert deploy.startswith(d.getVar("DEPLOY_DIR") + "/images/")


def _fill_deploy_dirs(d) -> None:
    """What Xen's recipe and the two domU multiconfigs would have deployed."""
    import xen_dom0less.generator.facts.kconfig
    import xen_dom0less.generator.read.description

    deploy = Path(d.getVar("DEPLOY_DIR_IMAGE"))
    deploy.mkdir(parents=True)
    (deploy / f"xen-dom0less-{MACHINE}").write_bytes(arm64_image(364, fill=b"x"))
    mc = {
        name: Path(path)
        for name, path in (
            ("domu_linux", d.expand(f"${{TOPDIR}}/tmp-domu-linux/deploy/images/{MACHINE}")),
            ("domu_baremetal", d.expand(f"${{TOPDIR}}/tmp-domu-baremetal/deploy/images/{MACHINE}")),
        )
    }
    for path in mc.values():
        path.mkdir(parents=True)
    (mc["domu_linux"] / "Image").write_bytes(arm64_image(5064, fill=b"l"))
    (mc["domu_linux"] / f"core-image-minimal-{MACHINE}.rootfs.cpio.gz").write_bytes(
        b"\x1f\x8b" + b"\0" * 500
    )
    (mc["domu_baremetal"] / "dom0less-hello-baremetal.bin").write_bytes(arm64_image(128))
    environ = {
        "DEPLOY_DIR_IMAGE": str(deploy),
        "MACHINE": MACHINE,
        "MC_DEPLOY_domu_linux": str(mc["domu_linux"]),
        "MC_DEPLOY_domu_baremetal": str(mc["domu_baremetal"]),
    }
    system = xen_dom0less.generator.read.description.load(
        Path(d.getVar("XEN_DOM0LESS_SYSTEM")), environ
    )
    options = xen_dom0less.generator.facts.kconfig.required(system)
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


def test_boot_files_task_passes_the_plans_warnings_to_bitbake(
    stubs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warning (here: Xen's scrubbing turned off) reaches BitBake's bb.warn with the
    description's file and line, as `dom0less build` prints it; the task still succeeds."""
    systems = LAYER / "systems"
    text = (systems / "qemuarm64.yml").read_text()
    text = text.replace("dtb: qemuarm64-virt.dtb", f"dtb: {systems / 'qemuarm64-virt.dtb'}")
    system = tmp_path / "unscrubbed.yml"
    system.write_text(text.replace("\nxen:\n", "\nxen:\n  extra_bootargs: bootscrub=0\n", 1))
    d = boot_files(stubs, tmp_path, XEN_DOM0LESS_SYSTEM=str(system))
    _fill_deploy_dirs(d)
    warned: list[str] = []
    monkeypatch.setattr(bb, "warn", lambda *args, **_: warned.append(" ".join(map(str, args))))
    bb.build.exec_func("do_compile", d)
    line = system.read_text().splitlines().index("  extra_bootargs: bootscrub=0") + 1
    assert len(warned) == 1 and warned[0].startswith(
        f"{system}:{line}: xen.extra_bootargs: bootscrub=0 leaves the RAM of dom0less domUs"
    ), warned


@pytest.mark.skipif(
    shutil.which("mkimage") is None or shutil.which("openssl") is None,
    reason="signing needs mkimage (u-boot-tools) and openssl: run `dom0less setup`",
)
def test_boot_files_task_signs_a_fit_with_oe_core_variables(stubs: Path, tmp_path: Path) -> None:
    """UBOOT_SIGN_ENABLE/KEYDIR/KEYNAME as uboot-sign.bbclass reads them sign boot.itb; the
    public key goes into a copy of U-Boot's DTB; the key itself is deployed nowhere."""
    system, variables = _signed_by_the_variables(tmp_path)
    key = Path(variables["UBOOT_SIGN_KEYDIR"]) / "release.key"
    d = boot_files(
        stubs,
        tmp_path,
        XEN_DOM0LESS_SYSTEM=str(system),
        XEN_DOM0LESS_UBOOT_DTB=str(LAYER / "systems" / "qemuarm64-virt.dtb"),
        **variables,
    )
    assert {"u-boot-tools-native", "openssl-native"} <= set(d.getVar("DEPENDS").split())
    _fill_deploy_dirs(d)
    for task in ("do_compile", "do_deploy"):
        bb.build.exec_func(task, d)
    out = Path(d.getVar("DEPLOYDIR")) / "dom0less"
    names = {p.name for p in out.iterdir()}
    assert {"boot.itb", "boot.scr", "u-boot.dtb"} <= names
    assert b"key-release" in (out / "u-boot.dtb").read_bytes()
    assert b"sha256,rsa2048" in (out / "boot.itb").read_bytes()
    secret = key.read_bytes().splitlines()[1]
    assert not any(secret in (out / name).read_bytes() for name in names)


SERVICES = LAYER / "recipes-core/dom0less-services/dom0less-services_1.0.bb"
#: The description of kas/qemuarm64-dom0.yml: a dom0 booting from the image's root partition.
DOM0_SYSTEM = LAYER / "systems/qemuarm64-dom0.yml"


def services_recipe(stubs: Path, topdir: Path, **variables: str):
    given = {
        "XEN_DOM0LESS_SYSTEM": str(DOM0_SYSTEM),
        "D": "${WORKDIR}/image",
        "libexecdir": "/usr/libexec",
        "systemd_system_unitdir": "/usr/lib/systemd/system",
    }
    return parse_recipe(stubs, topdir, SERVICES, **{**given, **variables})


def test_services_wait_for_no_image_and_no_boot_file(stubs: Path, tmp_path: Path) -> None:
    """dom0's root file system holds them and the boot files wait for that image: a task of
    theirs waiting for an image, a deploy or another multiconfig could close a cycle."""
    d = services_recipe(stubs, tmp_path)
    assert not d.getVar("__SKIPPED")
    for task in d.getVar("__BBTASKS", False):
        assert not d.getVarFlag(task, "depends"), task
        assert not d.getVarFlag(task, "mcdepends"), task
    assert all(name.endswith("-native") for name in d.getVar("DEPENDS").split())


def test_services_task_installs_what_the_unit_runs(stubs: Path, tmp_path: Path) -> None:
    """Made from the description alone (no image exists yet), installed where the unit looks."""
    from xen_dom0less import outputs
    from xen_dom0less.generator.pipeline import services

    d = services_recipe(stubs, tmp_path)
    for task in ("do_compile", "do_install"):
        bb.build.exec_func(task, d)
    image = Path(d.getVar("D"))
    script = image / outputs.SERVICES_INSTALL_PATH.lstrip("/")
    unit = image / "usr/lib/systemd/system" / d.getVar("SYSTEMD_SERVICE:dom0less-services")
    paths = {"DEPLOY_DIR_IMAGE": "/d", "MACHINE": MACHINE}
    expected = services(DOM0_SYSTEM, paths)  # the images' places do not enter the services
    assert script.read_bytes() == expected[outputs.SERVICES_SCRIPT]
    assert script.stat().st_mode & 0o777 == 0o755
    assert unit.read_bytes() == expected[outputs.SERVICES_UNIT]
    assert "network-attach linux bridge=xenbr0" in script.read_text()  # the PV interface


def test_services_task_refuses_a_system_without_services(
    stubs: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    d = services_recipe(
        stubs,
        tmp_path,
        XEN_DOM0LESS_SYSTEM=str(LAYER / "systems/qemuarm64.yml"),
        BBMULTICONFIG="domu-linux domu-baremetal",
        XEN_DOM0LESS_MULTICONFIGS=MULTICONFIGS,
    )
    with pytest.raises(bb.process.ExecutionError):
        bb.build.exec_func("do_compile", d)
    printed = capfd.readouterr()
    assert "qemuarm64.yml: no domain uses xenstore or PV devices" in printed.out + printed.err


def test_dom0_packagegroup_only_with_meta_virtualization(stubs: Path, tmp_path: Path) -> None:
    """Xen's tools come from meta-virtualization: the packagegroup naming them is parsed only
    where that layer is (BBFILES_DYNAMIC), and installs the services recipe."""
    import fnmatch

    d = configuration(stubs, tmp_path)
    dynamic = dict(entry.split(":", 1) for entry in d.getVar("BBFILES_DYNAMIC").split())
    group = next(LAYER.glob("dynamic-layers/virtualization-layer/*/*/packagegroup-*.bb"))
    assert fnmatch.fnmatch(str(group), dynamic["virtualization-layer"])
    assert not any(fnmatch.fnmatch(str(group), p) for p in d.getVar("BBFILES").split())
    parsed = parse_recipe(stubs, tmp_path, group)
    rdepends = parsed.getVar("RDEPENDS:" + parsed.getVar("PN")).split()
    services = parse_recipe(stubs, tmp_path, SERVICES, XEN_DOM0LESS_SYSTEM=str(DOM0_SYSTEM))
    assert services.getVar("PN") in rdepends
    assert {"xen-tools-xl", "xen-tools-xencommons", "xen-tools-xenstore"} <= set(rdepends)
    # xl runs these for each PV device (a boot test showed the attach needs them)
    assert {"xen-tools-scripts-block", "xen-tools-scripts-network"} <= set(rdepends)


def test_dom0_boot_files_from_meta_virtualization_xen(stubs: Path, tmp_path: Path) -> None:
    """kas/qemuarm64-dom0.yml: Xen from meta-virtualization's recipe (xen-${MACHINE}), this
    build's kernel for dom0 (root on the image's second partition) and for the domU, whose
    initramfs is this build's core-image-minimal."""
    d = boot_files(
        stubs,
        tmp_path,
        enabled="",
        XEN_DOM0LESS_SYSTEM=str(DOM0_SYSTEM),
        XEN_DOM0LESS_MULTICONFIGS="",
        XEN_DOM0LESS_XEN_PROVIDER="xen",
        XEN_DOM0LESS_DEPENDS="core-image-minimal:do_image_complete",
    )
    assert not d.getVarFlag("do_compile", "mcdepends")
    assert {
        "xen:do_deploy",
        "virtual/kernel:do_deploy",
        "core-image-minimal:do_image_complete",
    } <= set(d.getVarFlag("do_compile", "depends").split())
    deploy = Path(d.getVar("DEPLOY_DIR_IMAGE"))
    deploy.mkdir(parents=True)
    (deploy / "Image").write_bytes(arm64_image(5064, fill=b"l"))
    (deploy / f"xen-{MACHINE}").write_bytes(arm64_image(364, fill=b"x"))
    (deploy / f"core-image-minimal-{MACHINE}.rootfs.cpio.gz").write_bytes(b"\x1f\x8b" + b"\0" * 500)
    for task in ("do_compile", "do_deploy"):
        bb.build.exec_func(task, d)
    out = Path(d.getVar("DEPLOYDIR")) / "dom0less"
    assert {"dom0less-services.sh", "dom0less-services.service"} <= {p.name for p in out.iterdir()}
    assert b"root=/dev/vda2" in (out / "xen.dtb").read_bytes()


def _library_files(d) -> set[str]:
    """The library's files in do_compile's file-checksums, relative to lib/xen_dom0less."""
    lib = REPO / "lib" / "xen_dom0less"
    found = set()
    for entry in d.getVarFlag("do_compile", "file-checksums").split():
        path, _, exists = entry.rpartition(":")
        if Path(path).is_relative_to(lib):
            assert exists == "True", entry
            assert "/./xen_dom0less/" in path, f"{entry}: its place would enter the signature"
            found.add(Path(path).relative_to(lib).as_posix())
    return found


def _harness_files(d) -> list[str]:
    """do_compile's file-checksums entries of the QEMU harness (lib/harness): a task runs the
    product only, so none may be there."""
    harness = REPO / "lib" / "harness"
    entries = d.getVarFlag("do_compile", "file-checksums").split()
    return [e for e in entries if Path(e.rpartition(":")[0]).is_relative_to(harness)]


def test_boot_files_signature_follows_the_library(stubs: Path, tmp_path: Path) -> None:
    d = boot_files(stubs, tmp_path)
    files = _library_files(d)
    assert {
        "__init__.py",
        "errors.py",
        "generator/pipeline.py",
        "generator/read/description.py",
        "generator/render/devicetree.py",
        "generator/read/schema/system.schema.json",
    } <= files
    assert not {f for f in files if f.startswith(("cli/", "xenbuild/"))}, files
    assert not _harness_files(d)
    system = Path(d.getVar("XEN_DOM0LESS_SYSTEM"))
    assert f"{system.parent}/./{system.name}:True" in d.getVarFlag("do_compile", "file-checksums")
    if d.getVar("__exportlist", False) is None:
        d.setVar("__exportlist", [])  # oe-core's exports; our stubs have none
    _, deps, _ = bb.data.generate_dependencies(d, set())
    assert "xen_dom0less_python" in deps["do_compile"]
    assert "XEN_DOM0LESS_MC_DEPLOY_DIR[domu-linux]" in deps["do_compile"]


def test_xen_signature_follows_only_the_hypervisor_build(stubs: Path, tmp_path: Path) -> None:
    """Editing the CLI, the QEMU harness or a renderer does not rebuild Xen."""
    d = parse_recipe(stubs, tmp_path, next(LAYER.glob("recipes-extended/xen/*.bb")))
    files = _library_files(d)
    assert {
        "errors.py",
        "xenbuild/__init__.py",
        "xenbuild/hypervisor.py",
        "xenbuild/make.py",
        "generator/read/description.py",
        "generator/facts/kconfig.py",
    } <= files
    assert not {f for f in files if f.startswith(("cli/", "generator/render/"))}, files
    assert not _harness_files(d)


@pytest.mark.xenbuild
def test_hypervisor_task_builds_xen_through_the_library(
    stubs: Path, tmp_path: Path, xen_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recipe's tasks on Debian's Xen source: a bbappend's .cfg reaches Xen's .config.

    do_configure merges it after Xen's defconfig with Xen's own merge_config.sh (as
    cml1 recipes do), do_compile builds from that .config as it is, do_deploy ships it.
    """
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
    (Path(d.getVar("WORKDIR")) / "pools.cfg").parent.mkdir(parents=True, exist_ok=True)
    (Path(d.getVar("WORKDIR")) / "pools.cfg").write_text(
        (files / "pools.cfg").read_text()
    )  # where do_unpack puts it
    # oe-core's lib is not available offline; the task asks it only for a -j value.
    utils = types.SimpleNamespace(parallel_make=lambda d: 2)
    monkeypatch.setitem(bb.utils._context, "oe", types.SimpleNamespace(utils=utils))
    for task in ("do_configure", "do_compile", "do_deploy"):
        for directory in (d.getVarFlag(task, "cleandirs") or "").split():
            shutil.rmtree(directory, ignore_errors=True)
        bb.utils.mkdirhier(d.getVar("DEPLOYDIR"))
        bb.utils.mkdirhier(d.getVar("B"))
        bb.build.exec_func(task, d)
        if task == "do_configure":
            assert "CONFIG_BOOT_TIME_CPUPOOLS=y" in (Path(d.getVar("B")) / ".config").read_text()
    deployed = Path(d.getVar("DEPLOYDIR"))
    assert classify((deployed / f"xen-dom0less-{MACHINE}").read_bytes()[:64]) == ARM64_IMAGE
    config = (deployed / f"xen-dom0less-{MACHINE}.config").read_text()
    assert "CONFIG_BOOT_TIME_CPUPOOLS=y" in config


#: What oe-core's native Python has for the tasks: the stdlib and the two native recipes.
NATIVE_PACKAGES = {"yaml", "fdt", "xen_dom0less"}


@pytest.mark.skipif(sys.version_info < (3, 10), reason="sys.stdlib_module_names")
@pytest.mark.parametrize("recipe", ["recipes-bsp", "recipes-extended"])
def test_task_modules_import_only_what_native_python_has(
    stubs: Path, tmp_path: Path, recipe: str
) -> None:
    """A new third-party import in a module a task runs needs a native recipe first."""
    import ast

    d = parse_recipe(stubs, tmp_path, next(LAYER.glob(f"{recipe}/*/*.bb")))
    lib = REPO / "lib" / "xen_dom0less"
    foreign = set()
    for entry in d.getVarFlag("do_compile", "file-checksums").split():
        path = Path(entry.rpartition(":")[0])
        if path.suffix != ".py" or not path.is_relative_to(lib):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            foreign |= {
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] not in sys.stdlib_module_names | NATIVE_PACKAGES
            }
    assert foreign == set()


def test_a_failing_boot_files_task_prints_the_commands_lines(
    stubs: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The task printed the problems bare; it prints what `dom0less check` prints."""
    from xen_dom0less.cli import main

    system = tmp_path / "broken.yaml"
    system.write_text("version: 1\nversion: 1\nxen: {version: '4.17', image: 1_0}\n")
    d = boot_files(stubs, tmp_path)
    _fill_deploy_dirs(d)
    d.setVar("XEN_DOM0LESS_SYSTEM", str(system))  # after parsing, which reads it too
    with pytest.raises(bb.process.ExecutionError):
        bb.build.exec_func("do_compile", d)
    task = capfd.readouterr()
    assert main(["check", str(system)]) == 1
    command = capfd.readouterr().err.splitlines()
    assert len(command) == 2 and all(line.startswith("error: ") for line in command)
    printed = (task.out + task.err).splitlines()
    assert [line for line in printed if line.startswith("error: ")] == command


#: The host programs the boot files' task runs -> the oe-core native recipe providing each:
#: oe-core puts on a task's PATH the native sysroot of its DEPENDS and HOSTTOOLS, nothing else.
NATIVE_RECIPES = {
    "lz4": "lz4-native",
    "dtc": "dtc-native",
    "mkimage": "u-boot-tools-native",
    "openssl": "openssl-native",
}
#: oe-core's HOSTTOOLS in every release the layer supports (meta/conf/bitbake.conf of
#: scarthgap, whinlatter, wrynose): the build host's programs a task finds. scarthgap also
#: has lz4c (not lz4), whinlatter and wrynose xz.
_HOSTTOOLS = """
    [ ar as awk basename bash bunzip2 bzip2 cat chgrp chmod chown chrpath cmp comm cp cpio
    cpp cut date dd diff diffstat dirname du echo egrep env expand expr false fgrep file
    find flock g++ gawk gcc getconf getopt git grep gunzip gzip head hostname iconv id
    install ld ldd ln ls make md5sum mkdir mkfifo mknod mktemp mv nm objcopy objdump od
    patch perl pr printf pwd python3 pzstd ranlib readelf readlink realpath rm rmdir rpcgen
    sed seq sh sha1sum sha224sum sha256sum sha384sum sha512sum sleep sort split stat strings
    strip tail tar tee test touch tr true truncate uname uniq unzstd wc wget which xargs
    zstd
"""
HOSTTOOLS = frozenset(_HOSTTOOLS.split())


def _programs_named(d) -> set[str]:
    """Host programs (hosttools.PACKAGES) named in a call or a lookup by the modules the boot
    files' task runs: ``which("dtc")``, ``tool("openssl")``, ``PACKAGES["mkimage"]``."""
    import ast

    from xen_dom0less import hosttools

    lib = REPO / "lib" / "xen_dom0less"
    named = set()
    for name in _library_files(d) - {"hosttools.py"}:
        for node in ast.walk(ast.parse((lib / name).read_text(), name)):
            if isinstance(node, ast.Call):
                values = node.args
            elif isinstance(node, ast.Subscript):
                values = [node.slice]
            else:
                continue
            named |= {
                value.value
                for value in values
                if isinstance(value, ast.Constant) and value.value in hosttools.PACKAGES
            }
    return named


def test_every_program_the_boot_files_task_names_comes_from_a_native_recipe(
    stubs: Path, tmp_path: Path
) -> None:
    """A program the library runs for the boot files is in HOSTTOOLS or has a native recipe
    here (the tests below then check the recipe's DEPENDS gives it)."""
    named = _programs_named(boot_files(stubs, tmp_path))
    assert {"dtc", "mkimage", "openssl"} <= named  # what the scan finds today
    assert named - HOSTTOOLS <= set(NATIVE_RECIPES), "add its native recipe to NATIVE_RECIPES"


def _sysroot_path(d, root: Path) -> tuple[str, Path]:
    """PATH as oe-core makes it for the task: the native programs of the recipe's DEPENDS
    (each logging its run) before HOSTTOOLS, both made of the host's own programs."""
    native, hosttools_dir, log = root / "sysroot-native", root / "hosttools", root / "ran"
    native.mkdir(parents=True)
    hosttools_dir.mkdir()
    depends = set(d.getVar("DEPENDS").split())
    for program, recipe in NATIVE_RECIPES.items():
        found = shutil.which(program)
        if recipe in depends and found:
            wrapper = native / program
            wrapper.write_text(f'#!/bin/sh\necho {program} >> {log}\nexec {found} "$@"\n')
            wrapper.chmod(0o755)
    for program in HOSTTOOLS:
        found = shutil.which(program)
        if found:
            (hosttools_dir / program).symlink_to(found)
    return f"{native}:{hosttools_dir}", log


def _description(tmp_path: Path, name: str, edits: dict[str, str]) -> Path:
    """The layer's qemuarm64 description with ``edits`` (old text -> new) made."""
    systems = LAYER / "systems"
    text = (systems / "qemuarm64.yml").read_text()
    text = text.replace("dtb: qemuarm64-virt.dtb", f"dtb: {systems / 'qemuarm64-virt.dtb'}")
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.yml"
    path.write_text(text)
    return path


def _signing_key(tmp_path: Path) -> Path:
    keys = tmp_path / "keys"
    keys.mkdir()
    key = keys / "release.key"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    return key


#: The boot files' description as boot.format: fit wants it.
FIT = {"  load: virtio 0:1\n": "  load: virtio 0:1\n  format: fit\n"}


def _signed_by_the_variables(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    key = _signing_key(tmp_path)
    variables = {
        "UBOOT_SIGN_ENABLE": "1",
        "UBOOT_SIGN_KEYDIR": str(key.parent),
        "UBOOT_SIGN_KEYNAME": key.stem,
    }
    return _description(tmp_path, "fit", FIT), variables


def _signed_by_the_description(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    key = _signing_key(tmp_path)
    signed = {old: f"{new}  signing:\n    key: {key}\n" for old, new in FIT.items()}
    return _description(tmp_path, "signed", signed), {}


def _a_dts_host_tree(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    dtb = LAYER / "systems" / "qemuarm64-virt.dtb"
    dts = tmp_path / "host.dts"
    subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", "-o", str(dts), str(dtb)], check=True)
    return _description(tmp_path, "dts", {f"dtb: {dtb}": f"dtb: {dts}"}), {}


def _lz4_compression(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    lz4 = {"  load: virtio 0:1\n": "  load: virtio 0:1\n  compression: lz4\n"}
    return _description(tmp_path, "lz4", lz4), {}


def _the_layers_description(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    return _description(tmp_path, "plain", {}), {}


#: What each description makes the task run, and how the description is made.
PROGRAM_CASES = {
    "layer-description": (set(), _the_layers_description),
    "lz4-compression": ({"lz4"}, _lz4_compression),
    "signed-by-the-variables": ({"openssl", "mkimage"}, _signed_by_the_variables),
    "signed-by-the-description": ({"openssl", "mkimage"}, _signed_by_the_description),
    "dts-host-tree": ({"dtc"}, _a_dts_host_tree),
}


@pytest.mark.parametrize("case", sorted(PROGRAM_CASES))
def test_boot_files_task_runs_programs_only_from_its_native_recipes(
    stubs: Path, tmp_path: Path, case: str
) -> None:
    """The task given only the native programs of its DEPENDS and HOSTTOOLS, as oe-core gives
    them, writes the boot files, and ran the programs the description needs from there: a
    program missing from DEPENDS fails it as it fails a build on a host without that program."""
    expected, make = PROGRAM_CASES[case]
    missing = sorted(program for program in expected if shutil.which(program) is None)
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: run `dom0less setup`")
    system, variables = make(tmp_path)
    d = boot_files(stubs, tmp_path, XEN_DOM0LESS_SYSTEM=str(system), **variables)
    _fill_deploy_dirs(d)
    # a kernel big enough that boot.compression stores it compressed
    linux = Path(d.expand(f"${{TOPDIR}}/tmp-domu-linux/deploy/images/{MACHINE}"))
    (linux / "Image").write_bytes(arm64_image(1 << 20, fill=b"l"))
    path, ran = _sysroot_path(d, tmp_path / "path")
    d.setVar("PATH", path)
    d.setVarFlag("PATH", "export", True)  # as oe-core's bitbake.conf exports it
    bb.build.exec_func("do_compile", d)
    assert (Path(d.getVar("B")) / "boot-files" / "boot.scr").is_file()
    assert set(ran.read_text().split() if ran.exists() else []) == expected
