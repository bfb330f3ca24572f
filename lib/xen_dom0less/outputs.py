"""The generator's outputs as their readers see them: fixed file names and the manifest format.

The contract between the generator (which plans and writes these files), the
harness and the layer (which read them): kept here, below both, so that
planning need not import the renderers to learn a name and the harness need
not import the generator to read a manifest.
"""

from __future__ import annotations

#: The U-Boot script, as text and as the script image U-Boot runs.
BOOT_CMD = "boot.cmd"
BOOT_SCR = "boot.scr"
#: The Kconfig fragment Xen needs for the description.
KCONFIG_FRAGMENT = "xen-kconfig.cfg"
#: The DTB Xen boots from when the generator patches the board's one (boot.device_tree: patched).
PATCHED_DTB = "xen.dtb"
#: The FIT image holding Xen, the DTB and every module (boot.format: fit).
BOOT_ITB = "boot.itb"
#: U-Boot's control DTB with the FIT's public key under /signature (boot.signing.uboot_dtb).
UBOOT_DTB = "u-boot.dtb"
#: Every artefact with its address, size and checksum.
MANIFEST = "manifest.json"
#: manifest.json's "format": readers refuse another.
MANIFEST_FORMAT = 1

#: The fixed names the generator writes, which no input may take in the output directory.
GENERATED = (BOOT_CMD, BOOT_SCR, BOOT_ITB, UBOOT_DTB, KCONFIG_FRAGMENT, MANIFEST)
