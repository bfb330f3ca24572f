"""A Linux domU initramfs using the PV devices its backend attaches: netfront's ``eth0``
pings the backend over the bridge, blkfront's disk is mounted and a file on it read.

The devices come when the backend's services attach them, after the domain is up, so /init
waits for each (as udev would) and says on the console what it found, from inside the guest.
"""

from __future__ import annotations

import stat
from pathlib import Path

from . import modules
from .initramfs import CONSOLE_DEVICE, Entry, newc

#: Debian's kernel has both frontends as modules; ext4 (with crc32c, which it asks the crypto
#: API for) mounts the ext2 disk.
FRONTEND_MODULES = ("xen-netfront", "xen-blkfront", "crc32c_generic", "ext4")

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in {modules}; do insmod /modules/$m.ko || echo "{name}: ERROR insmod $m"; done
echo '{name}: init running, waiting for its PV devices'
appears() {{ n=0; until [ -e "$1" ]; do n=$((n+1)); [ $n -gt 900 ] && return 1; sleep 1; done; }}
if appears /sys/class/net/eth0; then
    ip addr add {address} dev eth0 && ip link set eth0 up
    echo "{name}: eth0 from netfront, $(cat /sys/class/net/eth0/address)"
    n=0; until ping -c 1 -W 2 {peer} >/dev/null; do n=$((n+1)); [ $n -gt 30 ] && break; done
    ping -c 2 {peer} && echo '{name}: pinged {peer} over the bridge'
else
    echo '{name}: ERROR no eth0 appeared'
fi
if appears /dev/{vdev}; then
    mkdir -p /mnt && mount -t ext2 -o ro /dev/{vdev} /mnt \\
        && echo "{name}: {vdev} from blkfront holds: $(cat /mnt/{file})"
else
    echo '{name}: ERROR no /dev/{vdev} appeared'
fi
while :; do sleep 3600; done
"""


def write(
    name: str,
    address: str,
    peer: str,
    vdev: str,
    file: str,
    busybox: Path,
    kernel: Path,
    dest: Path,
) -> Path:
    """An initramfs for domain ``name``: ``eth0`` takes ``address`` (CIDR) and pings ``peer``,
    ``/dev/<vdev>`` is mounted and its ``file`` printed; ``kernel`` is the package's vmlinuz
    (the modules come from the same package)."""
    loaded = modules.ordered(kernel, FRONTEND_MODULES)
    init = INIT.format(
        name=name,
        modules=" ".join(path.stem for path in loaded),
        address=address,
        peer=peer,
        vdev=vdev,
        file=file,
    )
    members = [
        *(Entry(d, stat.S_IFDIR | 0o755) for d in ("bin", "dev", "proc", "sys", "modules")),
        Entry("dev/console", stat.S_IFCHR | 0o600, rdev=CONSOLE_DEVICE),
        Entry("bin/busybox", stat.S_IFREG | 0o755, busybox.read_bytes()),
        Entry("bin/sh", stat.S_IFLNK | 0o777, b"busybox"),
        *(Entry(f"modules/{p.name}", stat.S_IFREG | 0o644, p.read_bytes()) for p in loaded),
        Entry("init", stat.S_IFREG | 0o755, init.encode()),
    ]
    dest.write_bytes(newc(members))
    return dest
