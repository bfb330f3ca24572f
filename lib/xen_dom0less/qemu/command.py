"""The QEMU command line that boots an output directory: firmware, media, network.

Two ways in: through U-Boot (the real path, artefacts on a FAT disk or
TFTP, environment in pflash), or the "floor" where QEMU preloads every
artefact at its manifest address and jumps straight into Xen, measuring
what U-Boot costs.
"""

from __future__ import annotations

import struct
from pathlib import Path

from ..errors import UserError
from ..guests.asm import flat_binary
from . import disk, envimage, tools
from .machine import RAM_BASE, Machine
from .manifest import BootManifest

FLOOR_STUB = Path(__file__).with_name("floor.S")
#: Where --floor puts its stub: past the 1 MiB QEMU reserves for its own DTB at the RAM base.
FLOOR_STUB_ADDRESS = RAM_BASE + (1 << 20)
#: The TFTP server on QEMU's user network.
TFTP_SERVER = "10.0.2.2"


def uboot(manifest: BootManifest, machine: Machine, work: Path) -> list[str]:
    """Boot through U-Boot: it sources the generated boot script from disk or TFTP."""
    firmware = tools.host_file(tools.UBOOT_BIN)
    env = envimage.write_pflash(bootenv(manifest), work / "env.img")
    argv = [*machine.args(), "-bios", str(firmware),
            "-drive", f"if=pflash,unit=1,format=raw,file={env}"]
    if manifest.tftp:
        tools.host_file(tools.IPXE_ROM)
        return [*argv, "-netdev", f"user,id=n0,tftp={manifest.outdir}",
                "-device", "virtio-net-pci,netdev=n0"]
    files = sorted(p for p in manifest.outdir.iterdir() if p.is_file())
    image = disk.build(files, work / "disk.img")
    return [*argv, "-nic", "none",
            "-drive", f"if=none,id=boot,format=raw,file={image}",
            "-device", "virtio-blk-device,drive=boot"]


def bootenv(manifest: BootManifest) -> dict[str, str]:
    """U-Boot's whole environment: no delay, fetch the script, run it, complain if it returns."""
    address = hex(manifest.script.address)
    name = manifest.script.file.name
    if manifest.tftp:
        fetch = f"pci enum; dhcp; setenv serverip {TFTP_SERVER}; tftpb {address} {name}"
    else:
        fetch = f"virtio scan; load virtio 0:1 {address} {name}"
    returned = "echo dom0less: ERROR the boot script returned to U-Boot"
    return {"bootdelay": "0", "autoload": "no",
            "bootcmd": f"{fetch}; source {address}; {returned}"}


def floor(manifest: BootManifest, machine: Machine, work: Path) -> list[str]:
    """Boot without firmware: QEMU loads the artefacts and a stub enters Xen."""
    if manifest.device_tree != "patched":
        raise UserError("--floor needs a patched device tree (xen.dtb); this output uses "
                        f"device_tree {manifest.device_tree!r}: build with the patched mode")
    xen, dtb = manifest.role("xen"), manifest.role("dtb")
    stub = bytearray(flat_binary(FLOOR_STUB).read_bytes())
    struct.pack_into("<QQ", stub, len(stub) - 16, dtb.address, xen.address)
    stub_path = work / "floor.bin"
    stub_path.write_bytes(bytes(stub))
    loaded = [a for a in manifest.artefacts if a.role != "script"]
    stub_end = FLOOR_STUB_ADDRESS + len(stub)
    for artefact in loaded:
        end = artefact.address + artefact.file.stat().st_size
        if artefact.address < stub_end and end > RAM_BASE:
            raise UserError(f"{artefact.file.name} is loaded at {artefact.address:#x}, inside "
                            f"the first {stub_end - RAM_BASE:#x} bytes of RAM that --floor "
                            "needs for QEMU's DTB and its entry stub: boot through U-Boot")
    argv = [*machine.args(), "-nic", "none", "-device",
            f"loader,file={stub_path},addr={FLOOR_STUB_ADDRESS:#x},force-raw=on,cpu-num=0"]
    for artefact in loaded:
        argv += ["-device", f"loader,file={artefact.file},addr={artefact.address:#x},"
                            "force-raw=on"]
    return argv
