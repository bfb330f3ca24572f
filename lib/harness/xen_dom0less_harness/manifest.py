"""The parts of ``manifest.json`` that booting needs: load method, script, addresses, paths.

Read through the product's one description of the manifest (xen_dom0less.manifest); a
directory another tool wrote (ImageBuilder's boot script and the files it loads) has no
manifest, so :func:`foreign` makes one from what its caller knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from xen_dom0less import manifest
from xen_dom0less.errors import UserError
from xen_dom0less.outputs import MANIFEST


@dataclass(frozen=True)
class Artefact:
    file: Path
    role: str
    address: int
    #: the format ``file`` is compressed in (U-Boot decompresses it to ``address``), if any
    compression: Optional[str] = None


@dataclass(frozen=True)
class Board:
    """What the build's DTB describes: the machine it must run on."""

    cpus: int
    #: 2 or 3; 0 for none of them
    gic: int
    #: bytes of RAM
    memory: int


@dataclass(frozen=True)
class BootManifest:
    """How U-Boot gets the files (``virtio 0:1`` or ``tftp``) and where each one goes."""

    outdir: Path
    load: str
    device_tree: str
    board: Board
    artefacts: tuple[Artefact, ...]
    #: boot.format: script, fit or uefi
    format: str = "script"
    #: the FIT every other artefact is packed in, if the output is one
    fit: Optional[Path] = None
    #: U-Boot's control DTB holding the FIT's public key, for QEMU to hand U-Boot
    uboot_dtb: Optional[Path] = None
    #: the signed FIT script's configuration, which ``source`` must name to verify it
    script_configuration: Optional[str] = None

    @property
    def script(self) -> Artefact:
        return self.role("script")

    @property
    def tftp(self) -> bool:
        return self.load == "tftp"

    def role(self, role: str) -> Artefact:
        found = [a for a in self.artefacts if a.role == role]
        if len(found) != 1:
            raise UserError(
                f"{self.outdir / MANIFEST} lists {len(found)} {role} "
                "artefacts, not one: rebuild it with `dom0less build`"
            )
        return found[0]


def read(outdir: Path) -> BootManifest:
    """The boot manifest ``dom0less build`` wrote into ``outdir``."""
    record = manifest.read(outdir)
    fit = record.fit
    host = record.host
    return BootManifest(
        outdir,
        record.boot.load,
        record.boot.device_tree,
        Board(host.cpus, host.gic or 0, host.memory),
        tuple(_artefact(outdir, a) for a in record.artefacts),
        format=record.boot.format,
        fit=outdir / fit.file if fit else None,
        uboot_dtb=outdir / fit.uboot_dtb if fit and fit.uboot_dtb else None,
        script_configuration=fit.configuration if fit and fit.key_name else None,
    )


def _artefact(outdir: Path, listed: manifest.Artefact) -> Artefact:
    """An artefact; one packed in another file (a FIT) has no file of its own."""
    file = outdir / listed.file
    if listed.packed_in is None and not file.is_file():
        raise UserError(f"{file} is listed in {MANIFEST} but missing: rebuild {outdir}")
    return Artefact(file, listed.role, listed.address, listed.compression)


def foreign(
    outdir: Path, script: str, address: int, dtb: str, board: Board, load: str = "virtio 0:1"
) -> BootManifest:
    """A directory with no manifest (another tool's output): U-Boot loads ``script`` at
    ``address`` with ``load`` and sources it; the script edits the host DTB ``dtb`` with
    U-Boot's fdt commands before it boots. ``board`` is what that DTB describes, as its
    caller knows (it dumped the DTB from the machine), for the preflight check."""
    files = [outdir / script, outdir / dtb]
    for file in files:
        if not file.is_file():
            raise UserError(f"{file}: no such file: give the boot script and host DTB in {outdir}")
    artefacts = (Artefact(files[0], "script", address), Artefact(files[1], "dtb", 0))
    return BootManifest(outdir, load, "fdt-commands", board, artefacts)
