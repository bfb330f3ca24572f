"""Read the parts of ``manifest.json`` that booting needs: load method, script, addresses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from xen_dom0less.errors import UserError
from xen_dom0less.outputs import MANIFEST, MANIFEST_FORMAT


@dataclass(frozen=True)
class Artefact:
    file: Path
    role: str
    address: int


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
    path = outdir / MANIFEST
    if not path.is_file():
        raise UserError(
            f"{outdir} has no manifest.json: run `dom0less build DESCRIPTION.yaml "
            f"-o {outdir}` first"
        )
    try:
        data = json.loads(path.read_text())
        if data.get("format") != MANIFEST_FORMAT:
            raise UserError(
                f"{path} has format {data.get('format')!r}, this dom0less reads "
                f"format {MANIFEST_FORMAT}: rebuild it with this version"
            )
        boot = data["boot"]
        artefacts = tuple(
            _artefact(outdir, a["file"], a["role"], a["address"], "in" in a)
            for a in data["artefacts"]
        )
        fit = data.get("fit") or {}
        host = data["host"]
        board = Board(int(host["cpus"]), int(host["gic"] or 0), int(host["memory"]))
        return BootManifest(
            outdir,
            boot["load"],
            boot["device_tree"],
            board,
            artefacts,
            format=boot.get("format", "script"),
            fit=outdir / fit["file"] if fit else None,
            uboot_dtb=outdir / fit["uboot_dtb"] if fit.get("uboot_dtb") else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UserError(
            f"{path} is not a manifest dom0less build wrote ({error}): "
            "rebuild it with `dom0less build`"
        ) from None


def _artefact(outdir: Path, name: str, role: str, address: str, packed: bool) -> Artefact:
    """An artefact; one packed in a FIT (manifest key ``in``) has no file of its own."""
    file = outdir / name
    if not packed and not file.is_file():
        raise UserError(f"{file} is listed in manifest.json but missing: rebuild {outdir}")
    return Artefact(file, role, int(address, 16))
