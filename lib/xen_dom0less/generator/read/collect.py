"""Every input file the description names, collected into blobs, per domain."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple, Optional

from ...errors import Problems
from ..model import System
from ..plan import Blob, Modules
from .blobs import BlobCollector


class Inputs(NamedTuple):
    """The blobs to load, Xen's first, and who boots from which."""

    blobs: list[Blob]
    xen: Optional[Blob]
    xsm_policy: Optional[Blob]
    dom0: Optional[Modules]
    domains: dict[str, Modules]


def collect_inputs(
    system: System,
    reserved: set[str],
    problems: Problems,
    generated: Optional[Mapping[str, bytes]] = None,
) -> Inputs:
    """Read and identify every input; an unusable one is a problem under each key naming it.

    ``generated`` gives, by domain name, the partial device tree made for a domain
    that names no device_tree file (see passthrough).
    """
    collector = BlobCollector(problems, reserved=reserved)
    generated = generated or {}
    xen = collector.add("xen.image", "xen", system.xen.image, "xen")
    xsm = (
        collector.add("xen.xsm_policy", "xsm-policy", system.xen.xsm_policy, "xen")
        if system.xen.xsm_policy
        else None
    )
    dom0 = None
    if system.dom0 is not None:
        dom0 = _modules(collector, "dom0", "dom0", system.dom0.kernel, system.dom0.ramdisk, None)
    domains = {
        d.name: _modules(collector, d.key, d.name, d.kernel, d.ramdisk, d.device_tree)
        for d in system.domains
    }
    for name, data in generated.items():
        modules = domains.get(name)
        if modules is not None:
            blob = collector.add_generated("device-tree", f"{name}-passthrough.dtb", data, name)
            domains[name] = modules._replace(device_tree=blob)
    return Inputs(
        blobs=collector.blobs,
        xen=xen,
        xsm_policy=xsm,
        dom0=dom0,
        domains={k: v for k, v in domains.items() if v},
    )


def _modules(
    collector: BlobCollector,
    where: str,
    user: str,
    kernel: Path,
    ramdisk: Optional[Path],
    device_tree: Optional[Path],
) -> Optional[Modules]:
    kernel_blob = collector.add(f"{where}.kernel", "kernel", kernel, user)
    ramdisk_blob = collector.add(f"{where}.ramdisk", "ramdisk", ramdisk, user) if ramdisk else None
    dt_blob = (
        collector.add(f"{where}.device_tree", "device-tree", device_tree, user)
        if device_tree
        else None
    )
    if kernel_blob is None:
        return None
    return Modules(kernel=kernel_blob, ramdisk=ramdisk_blob, device_tree=dt_blob)
