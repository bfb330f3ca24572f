SUMMARY = "A dom0less system on an SD card: Xen starts every domU at boot"
DESCRIPTION = "The boot partition holds Xen, its device tree, the \
               domU images and the U-Boot script starting them, all generated in this build \
               from XEN_DOM0LESS_SYSTEM. The root partition is for the BSP's own use, or \
               dom0's root file system when the description has a dom0 (add \
               packagegroup-dom0less-dom0 to IMAGE_INSTALL: kas/qemuarm64-dom0.yml)."
LICENSE = "MIT"

IMAGE_INSTALL = "packagegroup-core-boot"
IMAGE_LINGUAS = ""

inherit core-image xen_dom0less_image
