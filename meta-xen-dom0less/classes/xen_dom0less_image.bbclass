# For image recipes: put the dom0less boot files on the SD card's FAT boot
# partition. Inherit it (or IMAGE_CLASSES += "xen_dom0less_image") and build
# the image's wic type.

# The deploy recipe making the boot files, and the DEPLOY_DIR_IMAGE
# subdirectory it writes them to.
XEN_DOM0LESS_BOOT_FILES_RECIPE ?= "dom0less-boot-files"
XEN_DOM0LESS_DEPLOY_SUBDIR ?= "dom0less"
# Entries of the machine's IMAGE_BOOT_FILES the boot files replace (a BSP's
# own boot.scr would hide ours: U-Boot runs the first boot.scr it finds).
XEN_DOM0LESS_BOOT_FILES_REPLACE ?= "boot.scr boot.cmd uEnv.txt"

# Where the boot files land: "root" (the partition's root, where boot.scr looks for them),
# or "esp" for a description with boot.format: uefi (an EFI system partition: boot.scr at
# the root, everything in EFI/BOOT/, where UEFI firmware starts BOOTAA64.EFI and Xen's EFI
# loader reads BOOTAA64.cfg, the DTB and the modules).
XEN_DOM0LESS_BOOT_LAYOUT ?= "root"
IMAGE_BOOT_FILES:remove = "${XEN_DOM0LESS_BOOT_FILES_REPLACE}"
IMAGE_BOOT_FILES:append = " ${@xen_dom0less_boot_files(d)}"

def xen_dom0less_boot_files(d):
    """IMAGE_BOOT_FILES entries for the boot files, in wic's "SOURCE;DESTINATION" form."""
    subdir = d.getVar("XEN_DOM0LESS_DEPLOY_SUBDIR")
    layout = d.getVar("XEN_DOM0LESS_BOOT_LAYOUT")
    if layout == "esp":
        return "%s/boot.scr %s/*;EFI/BOOT" % (subdir, subdir)
    if layout != "root":
        bb.fatal("XEN_DOM0LESS_BOOT_LAYOUT is '%s': give root or esp" % layout)
    return "%s/*" % subdir

# An SD card with a FAT boot partition and the root file system after it.
IMAGE_FSTYPES:append = " wic"
WKS_FILE ?= "dom0less-sdimage.wks.in"
# Kickstarts live in a layer's files/wic/, the only place wic searches from
# wrynose on (whose sanity check refuses a layer-level wic/); earlier releases
# search wic/ only, so the files/wic/ of every layer is searched first there too.
WKS_SEARCH_PATH:prepend = "${@''.join('%s/files/wic:' % p for p in d.getVar('BBPATH').split(':') if p)}"
WKS_FILE_DEPENDS:append = " ${XEN_DOM0LESS_BOOT_FILES_RECIPE}"
# wic's plugin writing IMAGE_BOOT_FILES: named bootimg-partition up to
# scarthgap, bootimg_partition from walnascar on.
XEN_DOM0LESS_WIC_BOOT_SOURCE ?= "${@'bootimg-partition' if 'scarthgap' in (d.getVar('LAYERSERIES_CORENAMES') or '').split() else 'bootimg_partition'}"
# Size of the boot partition in MiB: Xen, the domU kernels and ramdisks.
XEN_DOM0LESS_BOOT_PART_SIZE ?= "256"

do_image_wic[depends] += "${XEN_DOM0LESS_BOOT_FILES_RECIPE}:do_deploy"
