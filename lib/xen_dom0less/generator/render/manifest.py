"""manifest.json: every artefact with its address, size and checksum.

Read by ``run-qemu`` (which also compares the board it describes, ``host``, with the
machine it starts), the Yocto recipes and people checking a memory map;
written last so it can hash the generated files too.
"""

from __future__ import annotations

import hashlib
import json

from ... import outputs
from .context import Context
from .fit_image import CONFIGURATION

#: The file this renderer writes.
FILE = outputs.MANIFEST


def render(context: Context) -> dict[str, bytes]:
    plan = context.plan
    boot = plan.system.boot
    artefacts = []
    for blob in plan.blobs:
        generated = context.outputs.get(blob.file)
        artefacts.append(
            {
                "file": blob.file,
                "role": blob.role,
                "address": f"0x{blob.address:x}",
                "size": context.size_of(blob),
                "sha256": hashlib.sha256(generated).hexdigest()
                if generated is not None
                else blob.sha256,
                "users": blob.users,
                **({"in": plan.container(blob)} if plan.container(blob) else {}),
            }
        )
    document = {
        "format": outputs.MANIFEST_FORMAT,
        "description": plan.system.source.name,
        "xen_version": plan.version,
        "xen_bootargs": plan.xen_bootargs,
        "host": {
            "cpus": len(plan.host.cpus),
            "gic": plan.host.gic_version,
            "memory": sum(bank.size for bank in plan.host.memory_banks),
        },
        "domains": [d.name for d in plan.system.domains],
        "dom0": plan.system.dom0 is not None,
        "boot": {
            "load": boot.load,
            "command": boot.command,
            "device_tree": boot.device_tree,
            "format": boot.format,
            "script": {"file": plan.script.file, "address": f"0x{plan.script.address:x}"},
        },
        "fit": _fit(plan, context.outputs),
        "kconfig": sorted(plan.kconfig),
        "artefacts": artefacts,
    }
    return {FILE: (json.dumps(document, indent=2) + "\n").encode()}


def _fit(plan, files: dict[str, bytes]):
    """The FIT's configuration and key, and U-Boot's DTB holding the key; None if no FIT."""
    if plan.fit is None:
        return None
    sign = plan.system.boot.signing
    return {
        "file": plan.fit.file,
        "configuration": CONFIGURATION,
        "key_name": sign.key_name if sign is not None else None,
        "uboot_dtb": outputs.UBOOT_DTB if outputs.UBOOT_DTB in files else None,
    }
