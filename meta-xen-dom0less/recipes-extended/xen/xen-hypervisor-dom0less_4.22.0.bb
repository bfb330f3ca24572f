SUMMARY = "The Xen hypervisor alone, configured for a dom0less system description"
DESCRIPTION = "Builds only the hypervisor binary: Xen's defconfig merged with \
               the Kconfig options the system description needs and the .cfg fragments in \
               SRC_URI (cml1: menuconfig, diffconfig and devtool work as for the kernel). No \
               Xen tools, no target libraries: the cross compiler and the host tools Kconfig \
               needs are its only dependencies."
HOMEPAGE = "https://xenproject.org/"
LICENSE = "GPL-2.0-only"
# RELEASE-4.22.0's COPYING (md5 checked against xen-project/xen at that tag).
LIC_FILES_CHKSUM = "file://COPYING;md5=d1a1e216f80b6d8da95fec897d0dbec9"

# Coexists with meta-virtualization: this recipe PROVIDES only its own name
# and deploys xen-dom0less-${MACHINE}*, so meta-virtualization's "xen" and
# "xen-tools" (and its xen-${MACHINE} deploy names) are untouched and no
# PREFERRED_PROVIDER is needed. The boot files take Xen from the recipe named
# by XEN_DOM0LESS_XEN_PROVIDER (this one by default).

# Kconfig is built from flex and bison sources.
DEPENDS += "bison-native flex-native"

# destsuffix=${BP} puts the tree where S defaults to on every supported release
# (${WORKDIR}/${BP} on scarthgap, ${UNPACKDIR}/${BP} from walnascar on).
SRC_URI = "git://xenbits.xen.org/git-http/xen.git;protocol=https;branch=stable-4.22;destsuffix=${BP}"
# RELEASE-4.22.0 on stable-4.22, read from github.com/xen-project/xen (a mirror
# of xenbits.xen.org/git-http/xen.git).
SRCREV = "d45d5687f1441495f4ee20d5e9940066c5fa5beb"

# cml1: Kconfig the Yocto way, as for U-Boot and the kernel: .cfg fragments in
# SRC_URI (a BSP's bbappend adds its own), bitbake -c menuconfig / diffconfig /
# savedefconfig, devtool modify.
inherit cml1 deploy nopackages xen_dom0less_system

# Only the cross compiler from the default dependencies: the hypervisor is
# freestanding and needs no C library or compiler runtime. Both spellings of
# compilerlibs are removed (virtual/compilerlibs from walnascar on).
BASE_DEFAULT_DEPS:remove = "virtual/libc virtual/compilerlibs virtual/${HOST_PREFIX}compilerlibs"

COMPATIBLE_HOST = "(aarch64|arm).*-linux.*"
PACKAGE_ARCH = "${MACHINE_ARCH}"

# Xen's architecture name for TARGET_ARCH.
XEN_DOM0LESS_XEN_ARCH ?= "${@'arm32' if d.getVar('TARGET_ARCH') == 'arm' else 'arm64'}"
# Build the options the system description needs into this Xen ("0": defconfig
# plus the .cfg fragments only).
XEN_DOM0LESS_XEN_FROM_SYSTEM ?= "1"
# The description Kconfig is asked to satisfy, if any.
XEN_DOM0LESS_KCONFIG_SYSTEM = "${@d.getVar('XEN_DOM0LESS_SYSTEM') if d.getVar('XEN_DOM0LESS_XEN_FROM_SYSTEM') == '1' else ''}"

# B must not be S: the library refuses a source tree configured in place.
B = "${WORKDIR}/build"
# Xen's make for one out-of-tree build in B: the Kconfig targets of do_configure
# and of cml1's tasks (make menuconfig ${EXTRA_OEMAKE}, oe_runmake -C ${B} savedefconfig).
EXTRA_OEMAKE = "-C ${S}/xen O=${B} XEN_TARGET_ARCH=${XEN_DOM0LESS_XEN_ARCH} CROSS_COMPILE=${TARGET_PREFIX}"

do_install[noexec] = "1"

do_configure[file-checksums] += "${@xen_dom0less_system_checksums(d) if d.getVar('XEN_DOM0LESS_KCONFIG_SYSTEM') else ''}"
do_configure[cleandirs] = "${B}"
do_compile[file-checksums] += "${@xen_dom0less_system_checksums(d) if d.getVar('XEN_DOM0LESS_KCONFIG_SYSTEM') else ''}"
do_compile[cleandirs] = "${B}/xen-out"

# Xen's defconfig, then the description's options as a Kconfig fragment (each
# line under the reason it is needed), then the recipe's and the BSP's .cfg
# fragments, merged by Xen's own merge_config.sh; Kconfig resolves the result,
# and a setting it dropped fails here, naming the dependency to add.
do_configure() {
    oe_runmake defconfig
    xen_dom0less_python "${S}" "${XEN_DOM0LESS_KCONFIG_SYSTEM}" "${B}/dom0less-description.cfg" <<'EOF'
import sys
from pathlib import Path

import xen_dom0less.errors
import xen_dom0less.xenbuild

source, description, fragment = sys.argv[1:4]
try:
    text = xen_dom0less.xenbuild.description_fragment(source, description) if description else ""
except xen_dom0less.errors.UserError as error:
    sys.exit(xen_dom0less.errors.report(error))
Path(fragment).write_text(text)
EOF
    ${S}/xen/tools/kconfig/merge_config.sh -m -O ${B} ${B}/.config \
        ${B}/dom0less-description.cfg ${@" ".join(find_cfgs(d))}
    oe_runmake olddefconfig
    xen_dom0less_python "${S}" "${XEN_DOM0LESS_KCONFIG_SYSTEM}" "${B}/.config" ${@" ".join(find_cfgs(d))} <<'EOF'
import sys

import xen_dom0less.errors
import xen_dom0less.xenbuild

source, description, config, *fragments = sys.argv[1:]
try:
    xen_dom0less.xenbuild.check_config(
        source, config, arch="${XEN_DOM0LESS_XEN_ARCH}", description=description or None,
        fragments=fragments)
except xen_dom0less.errors.UserError as error:
    sys.exit(xen_dom0less.errors.report(error))
EOF
}

# The library's hypervisor build in the configured B, in native Python. The
# .config is checked against the description again: menuconfig may have changed it.
do_compile() {
    xen_dom0less_python "${S}" "${XEN_DOM0LESS_KCONFIG_SYSTEM}" "${B}/xen-out" "${B}" <<'EOF'
import sys

import xen_dom0less.errors
import xen_dom0less.xenbuild

source, description, outdir, build = sys.argv[1:5]
try:
    xen_dom0less.xenbuild.build_hypervisor(
        source, outdir, build_dir=build, configured=True,
        arch="${XEN_DOM0LESS_XEN_ARCH}", cross_compile="${TARGET_PREFIX}",
        description=description or None, jobs=${@oe.utils.parallel_make(d) or None},
        progress=lambda line: print(line, file=sys.stderr))
except xen_dom0less.errors.UserError as error:
    sys.exit(xen_dom0less.errors.report(error))
EOF
}

do_deploy() {
    install -m 0644 ${B}/xen-out/xen ${DEPLOYDIR}/xen-dom0less-${MACHINE}
    install -m 0644 ${B}/xen-out/.config ${DEPLOYDIR}/xen-dom0less-${MACHINE}.config
    install -m 0644 ${B}/xen-out/xen-kconfig.cfg ${DEPLOYDIR}/xen-dom0less-${MACHINE}-kconfig.cfg
    if [ -e ${B}/xen-out/xen.efi ]; then
        install -m 0644 ${B}/xen-out/xen.efi ${DEPLOYDIR}/xen-dom0less-${MACHINE}.efi
    fi
}
addtask deploy after do_compile before do_build
