SUMMARY = "Xen dom0less boot files: boot.scr, xen.dtb and the images Xen starts"
DESCRIPTION = "Reads the system description named by XEN_DOM0LESS_SYSTEM, takes \
               the images it names from this build's and the domU multiconfigs' deploy \
               directories and deploys what U-Boot needs to start Xen and every domU at boot."
HOMEPAGE = "https://github.com/meta-xen-dom0less/meta-xen-dom0less"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

inherit deploy nopackages xen_dom0less_system

# Only the native Python the class adds: no compiler, no C library.
INHIBIT_DEFAULT_DEPS = "1"
# The host programs the library runs here, from native recipes: oe-core's HOSTTOOLS has
# none of them (scarthgap's lz4c is not lz4; later releases have no lz4 at all).
# dtc compiles a .dts the description names.
DEPENDS += "${@'dtc-native' if xen_dom0less_description_has(d, r'\.dts\b') else ''}"
# lz4 compresses Xen, Images and cpio ramdisks with boot.compression: lz4.
DEPENDS += "${@'lz4-native' if xen_dom0less_has_key(d, 'compression', 'lz4') else ''}"
# Signing a FIT (UBOOT_SIGN_ENABLE, below, or the description's boot.signing): mkimage -F
# adds the signature, reading the key through a certificate made with openssl.
DEPENDS += "${@'openssl-native u-boot-tools-native' if d.getVar('UBOOT_SIGN_ENABLE') == '1' or xen_dom0less_has_key(d, 'signing') else ''}"
PACKAGE_ARCH = "${MACHINE_ARCH}"
# Xen on Arm: the hypervisor recipe builds for these hosts only.
COMPATIBLE_HOST = "(aarch64|arm).*-linux.*"

# The recipe giving Xen (its do_deploy makes xen-dom0less-${MACHINE} and its
# .config); set to "xen" to boot meta-virtualization's hypervisor instead.
XEN_DOM0LESS_XEN_PROVIDER ?= "xen-hypervisor-dom0less"
# Further "recipe:task" this build's images come from (the board's DTB, ...).
XEN_DOM0LESS_DEPENDS ?= ""
# The subdirectory of DEPLOY_DIR_IMAGE receiving the boot files.
XEN_DOM0LESS_DEPLOY_SUBDIR ?= "dom0less"

# A signed FIT (the description says boot.format: fit), with oe-core's uboot-sign
# conventions: UBOOT_SIGN_ENABLE = "1" signs boot.itb's configuration and images, and
# boot.scr (then a FIT script), with ${UBOOT_SIGN_KEYDIR}/${UBOOT_SIGN_KEYNAME}.key (2048
# or 4096-bit RSA); the key stays there. With XEN_DOM0LESS_UBOOT_DTB (U-Boot's control
# DTB, e.g. from u-boot's deploy), the public key is added to a copy, deployed as
# u-boot.dtb: key-NAME required = "conf", key-NAME-image required = "image" (the
# configurations alone and key-NAME alone when the description's boot.signing.uboot_version
# is 2023.04 or later). The U-Boot options that close the chain are in docs/signed-boot.md.
UBOOT_SIGN_ENABLE ?= "0"
UBOOT_SIGN_KEYDIR ?= ""
UBOOT_SIGN_KEYNAME ?= ""
XEN_DOM0LESS_UBOOT_DTB ?= ""
XEN_DOM0LESS_SIGN_KEY = "${@'${UBOOT_SIGN_KEYDIR}/${UBOOT_SIGN_KEYNAME}.key' if d.getVar('UBOOT_SIGN_ENABLE') == '1' else ''}"
do_compile[vardeps] += "XEN_DOM0LESS_SIGN_KEY XEN_DOM0LESS_UBOOT_DTB"

do_compile[depends] += "${XEN_DOM0LESS_XEN_PROVIDER}:do_deploy ${XEN_DOM0LESS_DEPENDS}"
# A description with a dom0 boots this build's kernel: wait for it too.
do_compile[depends] += "${@'virtual/kernel:do_deploy' if xen_dom0less_has_key(d, 'dom0') else ''}"
do_compile[file-checksums] += "${@xen_dom0less_system_checksums(d)}"
do_compile[cleandirs] = "${B}"
do_compile[vardeps] += "XEN_DOM0LESS_SYSTEM"

# nooelint: oelint.task.noanonpython - mcdepends depend on BBMULTICONFIG
python () {
    # One mcdepends per domU multiconfig, and only for enabled ones: BitBake
    # refuses an mcdepends naming a multiconfig missing from BBMULTICONFIG.
    enabled = (d.getVar("BBMULTICONFIG") or "").split()
    # This configuration's name in an mcdepends: "" for the default one, which
    # BitBake 2.8 calls "default" in BB_CURRENT_MC (2.18 calls it "").
    current = d.getVar("BB_CURRENT_MC") or ""
    current = "" if current == "default" else current
    for name, recipe, task, _ in xen_dom0less_multiconfigs(d):
        if name not in enabled:
            raise bb.parse.SkipRecipe(
                "XEN_DOM0LESS_MULTICONFIGS names the multiconfig '%s' but BBMULTICONFIG (%s) "
                "does not enable it: add BBMULTICONFIG += \"%s\" and conf/multiconfig/%s.conf"
                % (name, " ".join(enabled) or "empty", name, name))
        d.appendVarFlag("do_compile", "mcdepends", " mc:%s:%s:%s:%s"
                        % (current, name, recipe, task))
        d.appendVarFlag("do_compile", "vardeps", " XEN_DOM0LESS_MC_DEPLOY_DIR[%s] "
                        "XEN_DOM0LESS_MC_TASK[%s]" % (name, recipe))
}

# The library's build, in native Python: bad input fails the task with the
# library's one line per problem; the plan's warnings (file:line: key: what and
# how to fix, as `dom0less build` prints them) become BitBake warnings, shown
# although the task succeeds.
do_compile() {
    xen_dom0less_python "${XEN_DOM0LESS_SYSTEM}" "${B}/boot-files" \
        "${XEN_DOM0LESS_SIGN_KEY}" "${XEN_DOM0LESS_UBOOT_DTB}" "${B}/warnings" <<'EOF'
import os
import sys
from pathlib import Path

import xen_dom0less.errors
import xen_dom0less.generator.pipeline

key, uboot_dtb = (Path(arg) if arg else None for arg in sys.argv[3:5])
uboot_dtb = uboot_dtb if key else None  # the DTB takes the key UBOOT_SIGN_ENABLE names
signing = xen_dom0less.generator.pipeline.SigningOverride(key=key, uboot_dtb=uboot_dtb)
try:
    plan = xen_dom0less.generator.pipeline.build(sys.argv[1], sys.argv[2], os.environ, signing)
except xen_dom0less.errors.UserError as error:
    sys.exit(xen_dom0less.errors.report(error))
lines = (xen_dom0less.errors.one_line(str(warning)) for warning in plan.warnings)
Path(sys.argv[5]).write_text("".join(line + "\n" for line in lines))
EOF
    while IFS= read -r warning; do
        bbwarn "$warning"
    done < "${B}/warnings"
}

do_configure[noexec] = "1"
do_install[noexec] = "1"

do_deploy() {
    install -d ${DEPLOYDIR}/${XEN_DOM0LESS_DEPLOY_SUBDIR}
    cp -R --no-dereference --preserve=mode,timestamps ${B}/boot-files/. \
        ${DEPLOYDIR}/${XEN_DOM0LESS_DEPLOY_SUBDIR}/
}
addtask deploy after do_compile before do_build
