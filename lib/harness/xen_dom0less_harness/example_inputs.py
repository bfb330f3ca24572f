"""The inputs directory the shipped examples name as ``${DOM0LESS_INPUTS}``.

The examples must build and boot on a fresh machine after one setup command,
so setup assembles Debian's Xen 4.20 and kernel and our own guests under the
file names the examples use.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from xen_dom0less.cache import cache_dir

from .debian_inputs import GuestInputs
from .guests import baremetal, initramfs

RTOS_MARKER = "rtos: hello from a bare-metal domU"
#: A direct-mapped domU's vpl011 sits at the host UART's address, not GUEST_PL011_BASE.
HOST_UART = 0x09000000
LINUX_MARKER = "linux: hello from a busybox initramfs"


def write_inputs(found: GuestInputs) -> Path:
    """Fill the cache's ``inputs`` directory for the examples; returns it."""
    directory = cache_dir("inputs")
    # Debian 13's Xen 4.20 (security-supported; bookworm's 4.17 is not), as the examples say.
    for source, name in ((found.xen_4_20, "xen"), (found.kernel, "Image")):
        shutil.copyfile(source, directory / name)
    baremetal.write(baremetal.Program(RTOS_MARKER), directory / "rtos.bin")
    direct = baremetal.Program(RTOS_MARKER, uart=HOST_UART, print_load_address=True)
    baremetal.write(direct, directory / "rtos-direct.bin")
    ramdisk = initramfs.newc(initramfs.entries(LINUX_MARKER, found.busybox))
    (directory / "initrd.cpio").write_bytes(ramdisk)
    (directory / "initrd.cpio.gz").write_bytes(gzip.compress(ramdisk, mtime=0))
    return directory
