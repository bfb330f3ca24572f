SUMMARY = "The dom0less backend: Xen's toolstack and the generated services"
DESCRIPTION = "For the image of dom0 (or of the hardware domain): meta-virtualization's \
               xen-tools (xl and init-dom0less, xenstored, xenconsoled, the xenstore \
               clients) and dom0less-services, which runs them for the description. Build \
               the hypervisor from the same release (XEN_DOM0LESS_XEN_PROVIDER = \"xen\")."
LICENSE = "MIT"

# The services are the machine's own (its description).
PACKAGE_ARCH = "${MACHINE_ARCH}"

inherit packagegroup

# xl runs Xen's hotplug scripts for every PV device it attaches (vif-bridge, block); without
# them each attach fails. The backends, bridge and loop are modules in many kernels.
RDEPENDS:${PN} = "\
    dom0less-services \
    xen-tools-scripts-block \
    xen-tools-scripts-network \
    xen-tools-xencommons \
    xen-tools-xenstore \
    xen-tools-xl \
"
RRECOMMENDS:${PN} = "\
    kernel-module-bridge \
    kernel-module-loop \
    kernel-module-xen-blkback \
    kernel-module-xen-netback \
"
