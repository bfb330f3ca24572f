SUMMARY = "A true dom0less system on an SD card: Xen starts every domU at boot"
DESCRIPTION = "No dom0: the boot partition holds Xen, its device tree, the \
               domU images and the U-Boot script starting them, all generated in this build \
               from XEN_DOM0LESS_SYSTEM. The small root partition is for the BSP's own use."
LICENSE = "MIT"

IMAGE_INSTALL = "packagegroup-core-boot"
IMAGE_LINGUAS = ""

inherit core-image xen_dom0less_image
