"""The 4.21+ split of dom0's powers: the initramfs of a control domain, a dom0less domU
with Xen's tools of the hypervisor's release.

The hardware domain (capabilities control, hardware and xenstore: docs/cooperation.md says
why control too) runs the generated services and serves the PV devices
(``xl_dom0.write_backend``). A control domain (capability control alone) waits until the
services introduced it to xenstore and made the names readable to it, then lists every
domain with ``xl list`` on its console and prints its marker.
"""

from __future__ import annotations

from pathlib import Path

from . import modules, xl_dom0

#: How long a control domain waits for its xenbus to connect before it says so, in seconds.
XENBUS_WAIT = 120
#: A control domain. Linux's xenbus waits for the introduction in a kernel thread named
#: xenbus_probe, which takes the domain's first xenstore request for it: a request made
#: before init-dom0less introduced the domain goes into the ring xenstored then resets, and
#: xenbus_probe never gets its answer (docs/cooperation.md). So nothing here asks xenstore
#: anything until that thread is gone; then, once the services have made the last domain's
#: name readable to it, it lists every domain with ``xl list`` and prints its marker.
CONTROL = (
    xl_dom0.START
    + """{early}n=0
while grep -qx xenbus_probe /proc/[0-9]*/comm 2>/dev/null; do
    n=$((n + 1))
    if [ $n = {wait} ]; then
        echo "control: ERROR xenbus not connected after $n s; xenbus_probe waits in:"
        for f in /proc/[0-9]*/comm; do grep -qx xenbus_probe $f && cat ${{f%comm}}stack; done
    fi
    sleep 1
done
echo "control: xenbus connected after $n s"
until [ "$(xenstore-read /local/domain/{last}/name 2>/dev/null)" = '{name}' ]; do sleep 1; done
xl list
echo '{marker}'
while :; do sleep 3600; done
"""
)


#: A request before the introduction, for the boot that shows why the control domain waits.
EARLY = "xenstore-read name &\n"


def write_control(
    names: list[str],
    marker: str,
    kernel: Path,
    stack: xl_dom0.Toolstack,
    dest: Path,
    asks_early: bool = False,
) -> Path:
    """A control domain's initramfs: Xen's tools, privcmd unrestricted (Linux blocks a
    domU's hypercalls unless it serves a device model's target), then, once the hardware
    domain introduced it and named the domains ``names`` (in domid order), ``xl list`` and
    ``marker``. With ``asks_early`` it first reads xenstore without waiting."""
    loaded = modules.ordered(kernel, xl_dom0.MODULES)
    init = CONTROL.format(
        early=EARLY if asks_early else "",
        modules=xl_dom0.module_names(loaded),
        tools=stack.tools,
        wait=XENBUS_WAIT,
        last=len(names),
        name=names[-1],
        marker=marker,
    )
    extra = {"modules/xen-privcmd.options": b"unrestricted=1\n"}
    return xl_dom0.initramfs(stack, init, extra, loaded, kernel, dest)
