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
#: boot.format uefi: Xen's EFI binary and its configuration file, and the directory of the EFI
#: system partition holding them with the DTB and the modules (the removable-media path).
EFI_BINARY = "BOOTAA64.EFI"
EFI_CONFIG = "BOOTAA64.cfg"
ESP_DIR = "EFI/BOOT"
#: Every artefact with its address, size and checksum (its shape: the manifest module).
MANIFEST = "manifest.json"
#: What the backend domain (dom0, or the hardware domain) runs once it is up: the dom0less
#: domains' xenstore entries and their PV devices; the systemd unit runs the script from
#: SERVICES_INSTALL_PATH. Only for systems whose domUs use xenstore or PV devices.
SERVICES_SCRIPT = "dom0less-services.sh"
SERVICES_UNIT = "dom0less-services.service"
SERVICES_INSTALL_PATH = "/usr/libexec/dom0less/dom0less-services.sh"

#: The fixed names the generator writes, which no input may take in the output directory.
GENERATED = (
    BOOT_CMD,
    BOOT_SCR,
    BOOT_ITB,
    UBOOT_DTB,
    EFI_BINARY,
    EFI_CONFIG,
    KCONFIG_FRAGMENT,
    MANIFEST,
    SERVICES_SCRIPT,
    SERVICES_UNIT,
)
#: Files U-Boot reads from the partition's root; in a UEFI output all others sit in ESP_DIR.
ROOT_FILES = (BOOT_CMD, BOOT_SCR)


def disk_path(name: str, format: str) -> str:
    """Where output file ``name`` goes on the boot partition of a build of ``format``."""
    if format == "uefi" and name not in ROOT_FILES:
        return f"{ESP_DIR}/{name}"
    return name
