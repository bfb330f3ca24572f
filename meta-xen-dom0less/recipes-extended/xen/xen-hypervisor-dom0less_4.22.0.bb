SUMMARY = "The Xen hypervisor alone, configured for a dom0less system description"
DESCRIPTION = "Builds only the hypervisor binary with one make: Xen's defconfig, \
               the Kconfig options the system description needs and the .cfg fragments in \
               SRC_URI. No Xen tools, no target libraries: the cross compiler and the host \
               tools Kconfig needs are its only dependencies."
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

inherit deploy nopackages xen_dom0less_system

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

do_configure[noexec] = "1"
do_install[noexec] = "1"

do_compile[file-checksums] += "${@xen_dom0less_system_checksums(d) if d.getVar('XEN_DOM0LESS_XEN_FROM_SYSTEM') == '1' else ''}"
do_compile[cleandirs] = "${B}/xen-out"
do_compile[vardeps] += "XEN_DOM0LESS_SYSTEM"

def xen_dom0less_fragments(d):
    """The Kconfig fragments (.cfg) in SRC_URI, in order, where do_unpack puts them."""
    unpackdir = d.getVar("UNPACKDIR") or d.getVar("WORKDIR")
    found = []
    for uri in (d.getVar("SRC_URI") or "").split():
        location, *params = uri.split(";")
        if location.startswith("file://") and location.endswith(".cfg"):
            subdir = dict(p.partition("=")[::2] for p in params).get("subdir", "")
            found.append(os.path.join(unpackdir, subdir, location[len("file://"):]))
    return repr(found)

# The library's hypervisor build, in native Python (arguments: S, the output
# directory, the object directory).
do_compile() {
    xen_dom0less_python "${S}" "${B}/xen-out" "${B}/xen-build" <<'EOF'
import sys

import xen_dom0less.errors
import xen_dom0less.xenbuild

try:
    xen_dom0less.xenbuild.build_hypervisor(
        sys.argv[1], sys.argv[2], build_dir=sys.argv[3],
        arch="${XEN_DOM0LESS_XEN_ARCH}", cross_compile="${TARGET_PREFIX}",
        description="${XEN_DOM0LESS_SYSTEM}" if "${XEN_DOM0LESS_XEN_FROM_SYSTEM}" == "1" else None,
        fragments=${@xen_dom0less_fragments(d)}, jobs=${@oe.utils.parallel_make(d) or None},
        progress=lambda line: print(line, file=sys.stderr))
except xen_dom0less.errors.UserError as error:
    sys.exit("\n".join(error.problems))
EOF
}

# B must not be S: the library refuses a source tree configured in place.
B = "${WORKDIR}/build"

do_deploy() {
    install -m 0644 ${B}/xen-out/xen ${DEPLOYDIR}/xen-dom0less-${MACHINE}
    install -m 0644 ${B}/xen-out/.config ${DEPLOYDIR}/xen-dom0less-${MACHINE}.config
    install -m 0644 ${B}/xen-out/xen-kconfig.cfg ${DEPLOYDIR}/xen-dom0less-${MACHINE}-kconfig.cfg
    if [ -e ${B}/xen-out/xen.efi ]; then
        install -m 0644 ${B}/xen-out/xen.efi ${DEPLOYDIR}/xen-dom0less-${MACHINE}.efi
    fi
}
addtask deploy after do_compile before do_build
