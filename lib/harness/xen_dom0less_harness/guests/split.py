"""The 4.21+ split of dom0's powers: the initramfs of a hardware domain, a dom0less domU
with Xen's tools of the hypervisor's release.

The hardware domain (capabilities control, hardware and xenstore: docs/cooperation.md says
why control too) runs the generated services: xenstored, init-dom0less, the domains'
names. Then it lists every domain with ``xl list`` on its console and prints its marker.
"""

from __future__ import annotations

from pathlib import Path

from . import modules, xl_dom0

#: The hardware domain: the generated services, the domains xl lists, then its marker.
HARDWARE = (
    xl_dom0.START
    + """sh /dom0less-services.sh; echo "dom0less: services exited $?"
xl list
echo '{marker}'
while :; do sleep 3600; done
"""
)


def write_hardware(
    services: Path, marker: str, kernel: Path, stack: xl_dom0.Toolstack, dest: Path
) -> Path:
    """The hardware domain's initramfs: Xen's tools, the generated ``services``, then
    ``xl list`` and ``marker``."""
    loaded = modules.ordered(kernel, xl_dom0.MODULES)
    init = HARDWARE.format(modules=xl_dom0.module_names(loaded), tools=stack.tools, marker=marker)
    extra = {"dom0less-services.sh": services.read_bytes()}
    return xl_dom0.initramfs(stack, init, extra, loaded, kernel, dest)
