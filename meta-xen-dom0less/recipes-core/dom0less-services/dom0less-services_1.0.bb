SUMMARY = "dom0less-services.sh and its unit: the dom0less domains' backend"
DESCRIPTION = "Generated from XEN_DOM0LESS_SYSTEM for the image of the domain that runs \
               them (dom0, or the hardware domain): starts xenstored and xenconsoled, \
               introduces the dom0less domains to xenstore with init-dom0less, creates the \
               bridges and attaches every PV device. Needs Xen's tools of the hypervisor's \
               release (meta-virtualization's xen-tools: packagegroup-dom0less-dom0)."
HOMEPAGE = "https://github.com/meta-xen-dom0less/meta-xen-dom0less"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

inherit systemd xen_dom0less_system

# Made from the description alone: no image and no boot file is waited for, so the image
# booting from the boot files (a dom0's root file system) can hold this package while the
# boot files wait for that image.
PACKAGE_ARCH = "${MACHINE_ARCH}"
COMPATIBLE_HOST = "(aarch64|arm).*-linux.*"

SYSTEMD_SERVICE:${PN} = "dom0less-services.service"

do_compile[file-checksums] += "${@xen_dom0less_system_checksums(d)}"
do_compile[cleandirs] = "${B}"
do_compile[vardeps] += "XEN_DOM0LESS_SYSTEM"

# The library renders the two files; a description no domain cooperates in (no domU in
# xenstore, no PV device) has no services, and the package would be a mistake.
do_compile() {
    xen_dom0less_python "${XEN_DOM0LESS_SYSTEM}" "${B}/services" <<'EOF'
import os
import sys
from pathlib import Path

import xen_dom0less.errors
import xen_dom0less.generator.pipeline

try:
    files = xen_dom0less.generator.pipeline.services(sys.argv[1], os.environ)
except xen_dom0less.errors.UserError as error:
    sys.exit(xen_dom0less.errors.report(error))
if not files:
    sys.exit(
        "error: %s: no domain uses xenstore or PV devices, so there are no services to "
        "install: leave dom0less-services out of the image" % sys.argv[1]
    )
out = Path(sys.argv[2])
out.mkdir()
for name, data in files.items():
    (out / name).write_bytes(data)
EOF
}

do_configure[noexec] = "1"

# The unit runs the script from /usr/libexec/dom0less (the library's SERVICES_INSTALL_PATH).
do_install() {
    install -D -m 0755 ${B}/services/dom0less-services.sh \
        ${D}${libexecdir}/dom0less/dom0less-services.sh
    install -D -m 0644 ${B}/services/dom0less-services.service \
        ${D}${systemd_system_unitdir}/dom0less-services.service
}

FILES:${PN} += "${libexecdir}/dom0less"
