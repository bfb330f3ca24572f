"""manifest.json: every artefact with its address, size and checksum.

Read by ``run-qemu`` (which also compares the board it describes, ``host``, with the
machine it starts), the Yocto recipes and people checking a memory map;
written last so it can hash the generated files too. Its shape is the record in
:mod:`xen_dom0less.manifest`, which its readers use too.
"""

from __future__ import annotations

import hashlib
from typing import Optional

from ... import outputs
from ...manifest import Artefact, Boot, Fit, Host, Isolation, Manifest, Reachable, Script
from ..plan import Blob, Plan
from .context import Context
from .fit_image import CONFIGURATION

#: The file this renderer writes.
FILE = outputs.MANIFEST


def render(context: Context) -> dict[str, bytes]:
    plan = context.plan
    boot = plan.system.boot
    manifest = Manifest(
        description=plan.system.source.name,
        xen_version=plan.version,
        xen_bootargs=plan.xen_bootargs,
        host=Host(
            cpus=len(plan.host.cpus),
            gic=plan.host.gic_version,
            memory=sum(bank.size for bank in plan.host.memory_banks),
        ),
        domains=tuple(d.name for d in plan.system.domains),
        dom0=plan.system.dom0 is not None,
        boot=Boot(
            load=boot.load,
            command=boot.command,
            device_tree=boot.device_tree,
            format=boot.format,
            script=Script(plan.script.file, plan.script.address),
        ),
        fit=_fit(plan, context.outputs),
        kconfig=tuple(sorted(plan.kconfig)),
        artefacts=tuple(_artefact(context, blob) for blob in plan.blobs),
        isolation=Isolation(
            tuple(
                Reachable(party, r.region.address, r.region.size, r.how, r.source, r.shared_with)
                for party, reaches in plan.isolation.reach.items()
                for r in reaches
            ),
            tuple(map(str, plan.isolation.warnings)),
        ),
    )
    return {FILE: manifest.dumps()}


def _artefact(context: Context, blob: Blob) -> Artefact:
    """``blob`` as listed: a generated file is hashed as rendered."""
    generated = context.outputs.get(blob.file)
    return Artefact(
        file=blob.file,
        role=blob.role,
        address=blob.address,
        size=context.size_of(blob),
        sha256=hashlib.sha256(generated).hexdigest() if generated is not None else blob.digest(),
        users=tuple(blob.users),
        packed_in=context.plan.container(blob),
        compression=blob.compression or None,
    )


def _fit(plan: Plan, files: dict[str, bytes]) -> Optional[Fit]:
    """The FIT's configuration and key, and U-Boot's DTB holding the key; None if no FIT."""
    if plan.fit is None:
        return None
    sign = plan.system.boot.signing
    return Fit(
        file=plan.fit.file,
        configuration=CONFIGURATION,
        key_name=sign.key_name if sign is not None else None,
        uboot_dtb=outputs.UBOOT_DTB if outputs.UBOOT_DTB in files else None,
    )
