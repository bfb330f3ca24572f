"""The layer through BitBake's own parser (PyPI bitbake-setup), with stand-ins for oe-core.

oe-core is not available offline, so the few oe-core classes the recipes
inherit are stood in for by small classes written here; everything of ours
(layer.conf, classes, recipes) goes through BitBake's parser unchanged, and the
signature generator finalises each recipe as the cooker does (which expands
the tasks' file-checksums). Imported by the tests and, as a plain module, by
a subprocess whose interpreter cannot import PyYAML or fdt.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAYER = REPO / "meta-xen-dom0less"
MACHINE = "qemuarm64"
MULTICONFIGS = (
    "domu-linux:core-image-minimal domu-linux:virtual/kernel "
    "domu-baremetal:dom0less-hello-baremetal"
)
# oe-core classes our recipes inherit, reduced to what the tests look at.
STUB_CLASSES = {
    "base": 'PN = "${@bb.parse.vars_from_file(d.getVar("FILE", False), d)[0] or "pkg"}"\n'
    'PV = "${@bb.parse.vars_from_file(d.getVar("FILE", False), d)[1] or "1.0"}"\n'
    'BPN = "${PN}"\nBP = "${BPN}-${PV}"\n'
    'oe_runmake() {\n    make ${EXTRA_OEMAKE} "$@"\n}\n'
    # oe-core's logging.bbclass (base inherits it): bbwarn hands BitBake a warning
    'LOGFIFO = "${T}/fifo.${@os.getpid()}"\n'
    'bbwarn() {\n    printf "%b\\0" "bbwarn $*" > ${LOGFIFO}\n}\n'
    "do_configure() {\n:\n}\ndo_compile() {\n:\n}\ndo_install() {\n:\n}\ndo_build() {\n:\n}\n"
    "addtask configure\naddtask compile after do_configure\n"
    "addtask install after do_compile\naddtask build after do_install\n",
    "deploy": 'DEPLOYDIR = "${WORKDIR}/deploy-${PN}"\n',
    # oe-core's find_cfgs gives the .cfg files of SRC_URI where do_unpack put them.
    "cml1": "def find_cfgs(d):\n"
    "    found = []\n"
    '    for uri in (d.getVar("SRC_URI") or "").split():\n'
    '        location = uri.split(";")[0]\n'
    '        if location.startswith("file://") and location.endswith(".cfg"):\n'
    '            found.append(os.path.join(d.getVar("WORKDIR"), location[len("file://"):]))\n'
    "    return found\n",
    "nopackages": "",
    "systemd": "",
    "packagegroup": "",
    "core-image": "",
    # oe-core's python3native puts the native python3 in PYTHON; the tests' own
    # interpreter (which has the library's dependencies) stands in for it.
    "python3native": f'PYTHON = "{sys.executable}"\nDEPENDS:append = " python3-native"\n',
    "pypi": "",
    "setuptools3": "",
    "native": "",
    "nativesdk": "",
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
import bb.data  # noqa: E402
import bb.parse  # noqa: E402
import bb.parse.parse_py.BBHandler  # noqa: E402
import bb.siggen  # noqa: E402


def write_stubs(root: Path, extra: dict[str, str] | None = None) -> Path:
    """A directory on BBPATH holding the stand-in classes (``extra`` adds or replaces some)."""
    (root / "classes").mkdir(parents=True, exist_ok=True)
    (root / "conf").mkdir(exist_ok=True)
    for name, text in {**STUB_CLASSES, **(extra or {})}.items():
        (root / "classes" / f"{name}.bbclass").write_text(text)
    return root


#: oe-core's BB_BASEHASH_IGNORE_VARS (meta/conf/bitbake.conf, BB_HASHEXCLUDE_COMMON and the
#: additions, scarthgap and wrynose alike but for PSEUDO_*_PATHS): the variables no
#: signature sees. TOPDIR is not among them.
OE_CORE_IGNORED_VARS = (
    "TMPDIR FILE PATH PWD BB_TASKHASH BBPATH BBSERVER DL_DIR THISDIR FILESEXTRAPATHS "
    "FILE_DIRNAME HOME LOGNAME SHELL USER FILESPATH STAGING_DIR_HOST STAGING_DIR_TARGET "
    "COREBASE PRSERV_HOST STAMPS_DIR PRSERV_DUMPDIR PRSERV_DUMPFILE PRSERV_LOCKDOWN "
    "PARALLEL_MAKE CCACHE_DIR EXTERNAL_TOOLCHAIN CCACHE CCACHE_NOHASHDIR LICENSE_PATH "
    "SDKPKGSUFFIX WARN_QA WORKDIR STAMPCLEAN PKGDATA_DIR BUILD_ARCH SSTATE_PKGARCH "
    "BB_WORKERCONTEXT BB_LIMITEDDEPS BB_UNIHASH extend_recipe_sysroot DEPLOY_DIR "
    "SSTATE_HASHEQUIV_METHOD SSTATE_HASHEQUIV_REPORT_TASKDATA SSTATE_HASHEQUIV_OWNER "
    "CCACHE_TOP_DIR BB_HASHSERVE GIT_CEILING_DIRECTORIES OMP_NUM_THREADS BB_CURRENTTASK "
    "BUILDHISTORY_DIR SSTATE_DIR SOURCE_DATE_EPOCH RUST_BUILD_SYS RUST_HOST_SYS RUST_TARGET_SYS"
)


def configuration(stubs: Path, topdir: Path, layer: Path = LAYER) -> bb.data_smart.DataSmart:
    """A datastore as BitBake's cooker leaves it after bblayers.conf: our layer.conf parsed."""
    d = bb.data.init()
    d.setVar("TOPDIR", str(topdir))
    d.setVar("BBPATH", str(stubs))
    d.setVar("MACHINE", MACHINE)
    d.setVar("BB_CURRENT_MC", "")
    d.setVar("__bbclasstype", "recipe")
    d.setVar("LAYERDIR", str(layer))
    bb.parse.handle(str(layer / "conf" / "layer.conf"), d, baseconfig=True)
    d.expandVarref("LAYERDIR")
    d.delVar("LAYERDIR")
    bb.parse.siggen = bb.siggen.init(d)
    bb.parse.BBHandler.inherit("base", "configuration INHERITs", 0, d)
    return d


def sign_as_oe_core(d: bb.data_smart.DataSmart) -> None:
    """BitBake's basic signature generator ignoring oe-core's variables, for what comes next."""
    d.setVar("BB_SIGNATURE_HANDLER", "basichash")
    d.setVar("BB_BASEHASH_IGNORE_VARS", OE_CORE_IGNORED_VARS)
    d.setVar("__exportlist", [])  # oe-core's exported variables; the stand-ins export none
    bb.parse.siggen = bb.siggen.init(d)


def parse_recipe(
    stubs: Path,
    topdir: Path,
    recipe: Path,
    layer: Path = LAYER,
    signed: bool = False,
    **variables: str,
):
    """The recipe's datastore after parsing and finalising, with a build's usual directories.

    The directories are written as in oe-core's bitbake.conf; ``signed`` computes the
    tasks' base hashes as oe-core does (``__siggen_basehashes``).
    """
    d = configuration(stubs, topdir, layer)
    if signed:
        sign_as_oe_core(d)
    for name, value in variables.items():
        d.setVar(name, value)
    d.setVar("TMPDIR", "${TOPDIR}/tmp")
    d.setVar("WORKDIR", "${TMPDIR}/work/" + recipe.stem)
    d.setVar("DEPLOY_DIR", "${TMPDIR}/deploy")
    d.setVar("DEPLOY_DIR_IMAGE", "${DEPLOY_DIR}/images/${MACHINE}")
    d.setVar("T", "${WORKDIR}/temp")
    d.setVar("S", "${WORKDIR}/${BP}")
    d.setVar("B", "${WORKDIR}/build")
    d.setVar("PATH", "/usr/bin:/bin")
    d.setVar("SOURCE_DATE_EPOCH", "1302044400")
    return bb.parse.handle(str(recipe), d)[""]


def recipes(layer: Path = LAYER) -> list[Path]:
    return sorted(layer.glob("recipes-*/*/*.bb"))


def parse_everything(root: Path) -> list[str]:
    """Every recipe of the layer, the domU multiconfigs enabled; the names of those parsed."""
    stubs = write_stubs(root / "stubs")
    parsed = []
    for recipe in recipes():
        d = parse_recipe(
            stubs,
            root,
            recipe,
            BBMULTICONFIG="domu-linux domu-baremetal",
            XEN_DOM0LESS_MULTICONFIGS=MULTICONFIGS,
        )
        assert not d.getVar("__SKIPPED"), f"{recipe.name}: {d.getVar('__SKIPPED')}"
        d.getVarFlag("do_compile", "file-checksums")  # expanded, as the signature generator does
        parsed.append(recipe.name)
    return parsed
