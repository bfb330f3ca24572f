"""A Linux dom0 initramfs with Debian's Xen tools: it creates a guest with ``xl create`` (the
way dom0less replaces), manages the dom0less domains through the generated services, or
serves their PV network and disk (the kernel's backends, Xen's own hotplug scripts).

Built from Debian's arm64 packages (the Xen tools of the hypervisor's release, their
libraries, busybox, the kernel's Xen modules), never installed: /init loads the modules,
starts Xen's services, runs ``xl`` and attaches to the created guest's emulated UART so
its output reaches the serial console.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from shlex import quote
from typing import NamedTuple, Optional

from xen_dom0less.xenbuild import debian

from .. import debian_inputs
from . import modules
from .initramfs import CONSOLE_DEVICE, Entry, newc


class Toolstack(NamedTuple):
    """Debian's Xen tools of one release: the packages holding xl, xenstored, xenconsoled,
    init-dom0less and every library they load, and the archive they come from (the tools
    must be the hypervisor's release)."""

    release: str
    packages: tuple[str, ...]
    archive: debian.Archive
    #: Xen's tools built from the release's source (a release Debian does not package),
    #: installed in Debian's layout; ``packages`` then give only the libraries they load.
    built: Optional[Path] = None

    def trees(self) -> list[Path]:
        """The unpacked trees the tools and libraries are taken from."""
        unpacked = [debian_inputs.unpacked(p, self.archive) for p in self.packages]
        return [self.built, *unpacked] if self.built else unpacked

    @property
    def tools(self) -> str:
        """Where Debian keeps Xen's programs, relative to the root."""
        return f"usr/lib/xen-{self.release}/bin"


#: Libraries both releases' tools load, under the same package names.
LIBRARIES = (
    "xenstore-utils",
    "libxenstore4",
    "libxencall1",
    "libxenevtchn1",
    "libxenforeignmemory1",
    "libxengnttab1",
    "libxentoollog1",
    "libxentoolcore1",
    "libxendevicemodel1",
    "libxenhypfs1",
    "libyajl2",
    "libc6",
    "libgcc-s1",
    "libncurses6",
    "libtinfo6",
    "libcom-err2",
    "libblkid1",
    "libfdt1",
    "libuuid1",
    "zlib1g",
)
TOOLSTACKS = {
    "4.17": Toolstack(
        "4.17", ("xen-utils-4.17", "libxenmisc4.17", "libext2fs2", *LIBRARIES), debian.BOOKWORM
    ),
    "4.20": Toolstack(
        "4.20", ("xen-utils-4.20", "libxenmisc4.20", "libext2fs2t64", *LIBRARIES), debian.TRIXIE
    ),
}
#: The dynamic loader every program of the tools names as its interpreter.
LOADER = "ld-linux-aarch64.so.1"
PROGRAMS = ("xl", "xenstored", "xenconsoled", "xenconsole", "xen-init-dom0", "init-dom0less")
#: The kernel's Xen drivers dom0's tools need, in load order (xenfs uses the others).
MODULES = ("xen-evtchn", "xen-privcmd", "xen-gntdev", "xenfs")
#: What a dom0 serving PV devices adds: the backends, the bridge its vifs join, and loop and
#: ext2 (the ext4 driver, which asks the crypto API for crc32c) for the disk file it
#: prepares and the block script attaches.
BACKEND_MODULES = ("xen-netback", "bridge", "xen-blkback", "loop", "crc32c_generic", "ext4")
#: libxl runs Xen's hotplug scripts (vif-bridge, block) for each device: the toolstack's own,
#: Debian's xen-utils-common or those the tools built from source installed (the scripts
#: must be the tools' release). They are bash scripts and the block script locks with
#: util-linux's flock.
SCRIPTS_PACKAGE = "xen-utils-common"
HOTPLUG_PACKAGES = ("bash", "util-linux")
HOTPLUG_FILES = ("etc/xen/scripts/", "bin/bash", "usr/bin/bash", "usr/bin/flock")
GUEST = "guest"

#: dom0's start: busybox, the kernel's Xen drivers, xenfs; then one of the scenarios.
START = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /run/xen /run/xenstored /var/lock
mount -t devpts devpts /dev/pts
# a module's parameters, if it has any, are in /modules/NAME.options
for m in {modules}; do
    insmod /modules/$m.ko $(cat /modules/$m.options 2>/dev/null) || echo "dom0: ERROR insmod $m"
done
mount -t xenfs xenfs /proc/xen
T=/{tools}
export PATH="$PATH:$T"
"""
#: The xl way dom0less replaces: dom0 starts the services by hand and creates the guest.
INIT = (
    START
    + """$T/xenstored --pid-file /run/xenstored.pid || echo 'dom0less: ERROR xenstored failed'
$T/xen-init-dom0 || echo 'dom0less: ERROR xen-init-dom0 failed'
$T/xenconsoled --pid-file /run/xenconsoled.pid || echo 'dom0less: ERROR xenconsoled failed'
echo '{marker}'
$T/xl create /etc/xen/{guest}.cfg || echo 'dom0less: ERROR xl create failed'
$T/xl console -t vuart {guest}
while :; do sleep 3600; done
"""
)
#: A dom0 managing dom0less domains: the generated services, then monitor, stop and start.
MANAGE = (
    START
    + """sh /dom0less-services.sh; echo "dom0less: services exited $?"
echo '{marker}'
xl list
xl destroy {destroy} && echo 'dom0less: destroyed {destroy}'
xl create /etc/xen/{guest}.cfg || echo 'dom0less: ERROR xl create failed'
xl list
xl console -t vuart {guest}
while :; do sleep 3600; done
"""
)
#: A dom0 serving PV devices: it writes ``text`` into a file on an ext2 disk image, runs the
#: generated services (which attach the image and the vifs), takes ``address`` on the
#: bridge its guests' vifs joined, and lists the domains before its marker.
BACKEND = (
    START
    + """# Xen's block script locks through /dev/stdin: udev's links, which devtmpfs lacks.
for fd in 0:stdin 1:stdout 2:stderr; do ln -s /proc/self/fd/${{fd%:*}} /dev/${{fd#*:}}; done
mkdir -p /srv /mnt
dd if=/dev/zero of={disk} bs=1M count=4 2>/dev/null && mke2fs -F -q {disk} \\
    && mount -t ext2 -o loop {disk} /mnt && echo '{text}' >/mnt/{file} && umount /mnt \\
    || echo 'dom0: ERROR the disk {disk} could not be prepared'
sh /dom0less-services.sh; echo "dom0less: services exited $?"
ip addr add {address} dev {bridge} || echo 'dom0: ERROR no address on {bridge}'
xl list
echo '{marker}'
while :; do sleep 3600; done
"""
)
CONFIG = """name = "{guest}"
kernel = "/{guest}.bin"
memory = {memory_mib}
vcpus = 1
vuart = "sbsa_uart"
"""


def write(
    guest: Path, memory_mib: int, marker: str, kernel: Path, dest: Path, release: str = "4.17"
) -> Path:
    """An initramfs whose /init prints ``marker``, then creates ``guest`` with xl; ``kernel``
    is dom0's (its modules are taken from the same package)."""
    stack = TOOLSTACKS[release]
    loaded = modules.ordered(kernel, MODULES)
    script = INIT.format(
        modules=module_names(loaded), tools=stack.tools, marker=marker, guest=GUEST
    )
    return _write(stack, script, {}, loaded, guest, memory_mib, kernel, dest)


def write_managing(
    services: Path,
    destroy: str,
    guest: Path,
    memory_mib: int,
    marker: str,
    kernel: Path,
    dest: Path,
    release: str = "4.17",
) -> Path:
    """An initramfs whose /init runs the generated ``services`` script, prints ``marker`` and
    ``xl list``, destroys the dom0less domain ``destroy``, creates ``guest`` with xl and lists
    the domains again: a dom0 monitoring, stopping and starting domains."""
    stack = TOOLSTACKS[release]
    loaded = modules.ordered(kernel, MODULES)
    script = MANAGE.format(
        modules=module_names(loaded), tools=stack.tools, marker=marker, guest=GUEST, destroy=destroy
    )
    extra = {"dom0less-services.sh": services.read_bytes()}
    return _write(stack, script, extra, loaded, guest, memory_mib, kernel, dest)


class Disk(NamedTuple):
    """The disk image a backend dom0 prepares and serves: ``text`` in ``file`` on ext2."""

    path: str
    file: str
    text: str


def write_backend(
    services: Path,
    disk: Disk,
    bridge: str,
    address: str,
    marker: str,
    kernel: Path,
    stack: Toolstack,
    dest: Path,
) -> Path:
    """An initramfs whose /init prepares ``disk``, runs the generated ``services`` with the
    kernel's backends loaded and ``stack``'s hotplug scripts in /etc/xen/scripts, takes
    ``address`` (CIDR) on ``bridge``, lists the domains with ``xl list`` and prints
    ``marker``: a dom0 (or a 4.21+ hardware domain) serving PV devices."""
    loaded = modules.ordered(kernel, MODULES + BACKEND_MODULES)
    script = BACKEND.format(
        modules=module_names(loaded),
        tools=stack.tools,
        disk=quote(disk.path),
        file=quote(disk.file),
        text=disk.text,
        bridge=quote(bridge),
        address=address,
        marker=marker,
    )
    extra = {"dom0less-services.sh": services.read_bytes()}
    scripts = stack.built or debian_inputs.unpacked(SCRIPTS_PACKAGE, stack.archive)
    trees = [debian_inputs.unpacked(p, stack.archive) for p in HOTPLUG_PACKAGES]
    for tree in [scripts, *trees]:
        for path in sorted(tree.rglob("*")):
            name = str(path.relative_to(tree))
            if path.is_file() and name.startswith(HOTPLUG_FILES):
                # the scripts say #!/bin/bash; merged /usr (trixie) ships usr/bin/bash
                name = "bin/bash" if name == "usr/bin/bash" else name
                extra[name] = path.read_bytes()
    return _write(stack, script, extra, loaded, None, 0, kernel, dest)


def module_names(loaded: list[Path]) -> str:
    """The names /init's insmod loop takes, in load order."""
    return " ".join(path.stem for path in loaded)


def initramfs(
    stack: Toolstack,
    init: str,
    extra: dict[str, bytes],
    loaded: list[Path],
    kernel: Path,
    dest: Path,
) -> Path:
    """An initramfs with Xen's tools, the kernel's ``loaded`` modules, busybox, ``extra``
    files and ``init``, and no xl guest: a domain of the 4.21+ split (guests/split.py)."""
    return _write(stack, init, extra, loaded, None, 0, kernel, dest)


def _write(
    stack: Toolstack,
    init: str,
    extra: dict[str, bytes],
    loaded: list[Path],
    guest: Optional[Path],
    memory_mib: int,
    kernel: Path,
    dest: Path,
) -> Path:
    """dom0's initramfs: Xen's tools and their libraries, the kernel's ``loaded`` modules,
    busybox, the xl guest (if any) and its configuration, ``extra`` files and ``init``."""
    members: dict[str, Entry] = {}

    def directory(name: str) -> None:
        parts = name.split("/")
        for end in range(1, len(parts) + 1):
            path = "/".join(parts[:end])
            members.setdefault(path, Entry(path, stat.S_IFDIR | 0o755))

    def add(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        directory(os.path.dirname(name))
        members[name] = Entry(name, mode, data, rdev)

    def copy(tree: Path, path: Path) -> None:
        name = str(path.relative_to(tree))
        if path.is_symlink():
            add(name, stat.S_IFLNK | 0o777, os.readlink(path).encode())
        elif path.is_file():
            add(name, stat.S_IFREG | 0o755, path.read_bytes())

    for tree in stack.trees():
        for path in sorted(tree.rglob("*")):
            relative = path.relative_to(tree).parts
            library = (
                relative[:1] == ("lib",)
                or relative[:3] == ("usr", "lib", "aarch64-linux-gnu")
                or relative == ("usr", "lib", LOADER)  # merged /usr (trixie)
            )
            xenstore_tool = relative[:2] == ("usr", "bin") and path.name.startswith("xenstore")
            if (
                (library and ".so" in path.name and "gconv" not in relative)
                or xenstore_tool
                or (relative[:4] == tuple(stack.tools.split("/")) and path.name in PROGRAMS)
            ):
                copy(tree, path)
    if f"lib/{LOADER}" not in members:  # programs name /lib's loader; merged /usr has /usr/lib's
        add(f"lib/{LOADER}", stat.S_IFLNK | 0o777, f"../usr/lib/{LOADER}".encode())
    for module in loaded:
        add(f"modules/{module.name}", stat.S_IFREG | 0o644, module.read_bytes())
    for name in ("proc", "sys", "tmp", "run", "var/lib/xen", "var/log/xen"):
        directory(name)
    add("var/run", stat.S_IFLNK | 0o777, b"../run")  # where xenstored puts its socket
    add("dev/console", stat.S_IFCHR | 0o600, rdev=CONSOLE_DEVICE)
    add("bin/busybox", stat.S_IFREG | 0o755, debian_inputs.installed().busybox.read_bytes())
    add("bin/sh", stat.S_IFLNK | 0o777, b"busybox")
    add("etc/xen/xl.conf", stat.S_IFREG | 0o644)
    if guest is not None:
        add(f"{GUEST}.bin", stat.S_IFREG | 0o644, guest.read_bytes())
        config = CONFIG.format(guest=GUEST, memory_mib=memory_mib)
        add(f"etc/xen/{GUEST}.cfg", stat.S_IFREG | 0o644, config.encode())
    for name, data in extra.items():
        add(name, stat.S_IFREG | 0o755, data)
    add("init", stat.S_IFREG | 0o755, init.encode())
    dest.write_bytes(newc(list(members.values())))
    return dest
