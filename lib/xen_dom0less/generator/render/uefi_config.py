"""BOOTAA64.EFI and BOOTAA64.cfg: Xen's EFI binary and its configuration, for boot.format uefi.

The binary is copied under the removable-media name UEFI firmware starts by itself; Xen
reads the configuration file named after it from the same directory (generator.uefi).
"""

from __future__ import annotations

from ... import outputs
from .. import uefi

#: The files this renderer writes.
FILES = (outputs.EFI_BINARY, outputs.EFI_CONFIG)


def render(context) -> dict[str, bytes]:
    plan = context.plan
    if plan.system.boot.format != "uefi":
        return {}
    text = uefi.config_text(plan.system, plan.xen_bootargs, plan.dtb.file)
    return {
        outputs.EFI_BINARY: uefi.efi_binary(plan.system).read_bytes(),
        outputs.EFI_CONFIG: text.encode(),
    }
