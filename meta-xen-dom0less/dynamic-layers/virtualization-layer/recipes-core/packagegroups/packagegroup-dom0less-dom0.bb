SUMMARY = "The dom0less backend: Xen's toolstack and the generated services"
DESCRIPTION = "For the image of dom0 (or of the hardware domain): meta-virtualization's \
               xen-tools (xl and init-dom0less, xenstored, xenconsoled, the xenstore \
               clients) and dom0less-services, which runs them for the description. Build \
               the hypervisor from the same release (XEN_DOM0LESS_XEN_PROVIDER = \"xen\")."
LICENSE = "MIT"

# The services are the machine's own (its description).
PACKAGE_ARCH = "${MACHINE_ARCH}"

inherit packagegroup

RDEPENDS:${PN} = "\
    dom0less-services \
    xen-tools-xencommons \
    xen-tools-xenstore \
    xen-tools-xl \
"
