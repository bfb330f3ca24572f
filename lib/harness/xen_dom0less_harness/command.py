"""The QEMU command line that boots an output directory: firmware, media, network.

Two ways in: through U-Boot (the real path, artefacts on a FAT disk or
TFTP, environment in pflash), or the "floor" where QEMU preloads every
artefact and jumps straight into Xen, measuring what U-Boot costs.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Optional

from xen_dom0less import diskimage, hosttools
from xen_dom0less.errors import UserError

from . import envimage, tools, zynqmp_gic
from .machine import Machine
from .manifest import Artefact, BootManifest

#: The TFTP server on QEMU's user network.
TFTP_SERVER = "10.0.2.2"
#: The boot devices run-qemu can give U-Boot: one virtio disk, or TFTP.
LOADS = ("virtio 0:1", "tftp")


def uboot(
    manifest: BootManifest,
    machine: Machine,
    work: Path,
    uboot_dtb: Optional[Path] = None,
    disk: Optional[Path] = None,
    uboot_bin: Optional[Path] = None,
) -> list[str]:
    """Boot through U-Boot: it sources the generated boot script from disk or TFTP.

    The disk is built from the output directory (as ``dom0less image`` builds one), or is
    ``disk``, an image ``dom0less image`` wrote. ``uboot_bin`` is a U-Boot built for
    qemu_arm64 with a product's options (docs/signed-boot.md) instead of Debian's.

    U-Boot for QEMU takes its control DTB from the one QEMU passes, so a DTB holding a
    FIT's public key (``uboot_dtb``, else the build's own) goes to QEMU as ``-dtb``.
    """
    if manifest.load not in LOADS:
        raise UserError(
            f"{manifest.outdir} loads with {manifest.load!r}; QEMU offers "
            f"{' or '.join(map(repr, LOADS))}: set boot.load to one of them "
            "to boot it here"
        )
    firmware = (
        tools.given_file(uboot_bin, "--uboot") if uboot_bin else tools.host_file(tools.UBOOT_BIN)
    )
    env = envimage.write_pflash(bootenv(manifest), work / "env.img")
    argv = [
        *machine.args(),
        "-bios",
        str(firmware),
        "-drive",
        f"if=pflash,unit=1,format=raw,file={env}",
    ]
    control = uboot_dtb or manifest.uboot_dtb
    if control is not None:
        argv += ["-dtb", str(control)]
    if manifest.tftp:
        tools.host_file(tools.IPXE_ROM)
        return [
            *argv,
            "-netdev",
            f"user,id=n0,tftp={manifest.outdir}",
            "-device",
            "virtio-net-pci,netdev=n0",
        ]
    return [*argv, *_disk(manifest, machine, work, disk)]


def edk2(manifest: BootManifest, machine: Machine, work: Path, disk: Optional[Path] = None):
    """Boot a UEFI output with EDK2 (Debian's qemu-efi-aarch64): it starts EFI/BOOT/BOOTAA64.EFI
    from the disk's EFI system partition by itself, as on a board with UEFI firmware."""
    if manifest.format != "uefi":
        raise UserError(
            f"--firmware edk2 boots an EFI system partition; {manifest.outdir} has boot.format "
            f"{manifest.format!r}: build it with boot.format: uefi"
        )
    firmware = tools.host_file(tools.EDK2_BIN)
    return [*machine.args(), "-bios", str(firmware), *_disk(manifest, machine, work, disk)]


def _disk(manifest: BootManifest, machine: Machine, work: Path, disk: Optional[Path]) -> list[str]:
    """The boot disk: ``disk``, or one made from the output as ``dom0less image`` makes it;
    read at the machine's disk rate when it has one (:func:`_throttled`)."""
    image = disk or diskimage.build(
        diskimage.layout(manifest.outdir, manifest.format), work / "disk.img"
    )
    if machine.disk_rate:
        drive = _throttled(image, machine.disk_rate)
    else:
        drive = ["-drive", f"if=none,id=boot,format=raw,file={image}"]
    return ["-nic", "none", *drive, "-device", "virtio-blk-device,drive=boot"]


#: The largest request the throttle sees (bytes): a board's storage is slowest on one
#: large read, such as U-Boot's whole FIT in one virtio request.
THROTTLED_REQUEST = 64 * 1024


def _throttled(image: Path, rate: int) -> list[str]:
    """``image`` read at ``rate`` bytes per second (QEMU counts on the host's clock).

    QEMU's throttle admits a request while its bucket is below the limit and makes only
    the next one wait (util/throttle.c), so a drive's own ``throttling.bps-total`` lets a
    FAT file U-Boot reads in one request (a FIT, the last module) through at once. Below
    the device, blkdebug's ``max-transfer`` splits every request into THROTTLED_REQUEST
    pieces (the block layer's split by a node's limit), each then waiting its turn in a
    throttle filter node over the file.
    """
    group = {"qom-type": "throttle-group", "id": "rate", "limits": {"bps-total": rate}}
    node = {
        "driver": "blkdebug",
        "node-name": "boot",
        "max-transfer": THROTTLED_REQUEST,
        "image": {
            "driver": "throttle",
            "throttle-group": "rate",
            "file": {"driver": "file", "filename": str(image)},
        },
    }
    return ["-object", json.dumps(group), "-blockdev", json.dumps(node)]


def bootenv(manifest: BootManifest) -> dict[str, str]:
    """U-Boot's whole environment: no delay, fetch the script, run it, complain if it returns.

    A signed script is run as ``source ADDRESS#CONFIGURATION``, as a product's boot command
    must (docs/signed-boot.md): from 2023.04 on U-Boot then verifies its configuration's
    signature (without the name, a FIT with no configuration runs on its hash alone);
    2023.01 reads the address and ignores the rest."""
    address = hex(manifest.script.address)
    name = manifest.script.file.name
    if manifest.tftp:
        fetch = f"pci enum; dhcp; setenv serverip {TFTP_SERVER}; tftpb {address} {name}"
    else:
        fetch = f"virtio scan; load virtio 0:1 {address} {name}"
    returned = "echo dom0less: ERROR the boot script returned to U-Boot"
    run = address
    if manifest.script_configuration:
        run += f"#{manifest.script_configuration}"
    return {"bootdelay": "0", "autoload": "no", "bootcmd": f"{fetch}; source {run}; {returned}"}


def floor(manifest: BootManifest, machine: Machine, work: Path) -> list[str]:
    """Boot without firmware: QEMU loads Xen and its DTB itself, the modules at their addresses.

    QEMU's generic loader can set the PC but not x0, so Xen and xen.dtb go through
    ``-kernel``/``-dtb``: QEMU places them (Xen at the RAM base, the DTB above 128 MiB)
    and enters Xen as the arm64 boot protocol says; Xen finds the modules from the DTB.
    On QEMU's ZCU102 model Xen gets a copy of xen.dtb whose GIC CPU interfaces name the
    aliases the model answers (:mod:`.zynqmp_gic`); elsewhere QEMU reads the output directly.
    """
    if manifest.fit is not None:
        raise UserError(
            f"--floor loads loose files; {manifest.outdir} is a FIT ({manifest.fit.name}): "
            "boot it through U-Boot, or build with boot.format: script"
        )
    if manifest.device_tree != "patched":
        raise UserError(
            "--floor needs a patched device tree (xen.dtb); this output uses "
            f"device_tree {manifest.device_tree!r}: build with the patched mode"
        )
    dtb = manifest.role("dtb").file
    if machine.board == "zcu102":
        dtb = zynqmp_gic.write(dtb, work / dtb.name)
    argv = [
        *machine.args(),
        "-nic",
        "none",
        "-kernel",
        str(decompressed(manifest.role("xen"), work)),
        "-dtb",
        str(dtb),
    ]
    for artefact in manifest.artefacts:
        if artefact.role not in ("script", "xen", "dtb"):
            file = decompressed(artefact, work)
            argv += ["-device", f"loader,file={file},addr={artefact.address:#x},force-raw=on"]
    return argv


def decompressed(artefact: Artefact, work: Path) -> Path:
    """``artefact``'s file as U-Boot leaves it in RAM: one stored compressed, decompressed
    into ``work`` (QEMU's loader takes it as it is)."""
    if artefact.compression is None:
        return artefact.file
    plain = work / f"{artefact.file.name}.{artefact.address:x}"
    if artefact.compression == "gzip":
        plain.write_bytes(gzip.decompress(artefact.file.read_bytes()))
    else:
        argv = [tools.tool("lz4"), "-d", "-q", "-f", str(artefact.file), str(plain)]
        hosttools.run(argv, f"decompressing {artefact.file}")
    return plain
