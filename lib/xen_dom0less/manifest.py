"""manifest.json as one typed record: what ``dom0less build`` writes and its readers read.

The generator's manifest renderer fills a :class:`Manifest` and writes
:meth:`Manifest.dumps`; the QEMU harness, ``dom0less image`` and people checking
a memory map read it back with :func:`read`. Both sides go through this one
description, so a field cannot be written under one name and read under another,
and a change of shape is a change of :data:`VERSION`, which readers check.
"""

# NamedTuples: annotations evaluated, not `from __future__` strings (see generator/model.py).
import json
from pathlib import Path
from typing import Any, NamedTuple, Optional

from .errors import UserError, article
from .outputs import MANIFEST

#: manifest.json's "format": a reader refuses any other. 2: the isolation section.
VERSION = 2


class Artefact(NamedTuple):
    """One file U-Boot loads, where it goes and who uses it."""

    file: str
    #: xen, dtb, script, xsm-policy, kernel, ramdisk, device-tree
    role: str
    address: int
    size: int
    sha256: str
    users: tuple[str, ...]
    #: the output file carrying this one when it has none of its own (manifest key "in")
    packed_in: Optional[str] = None
    #: the format ``file`` is compressed in (gzip, lz4), which U-Boot decompresses to
    #: ``address`` as ``size`` bytes (``sha256`` is the file's); None: stored as it is
    compression: Optional[str] = None


class Host(NamedTuple):
    """The board the build's DTB describes: the machine it must run on."""

    cpus: int
    #: 2 or 3 (build refuses a tree with no GIC Xen drives)
    gic: int
    #: bytes of RAM
    memory: int


class Script(NamedTuple):
    file: str
    address: int


class Boot(NamedTuple):
    """How U-Boot gets the files (``virtio 0:1`` or ``tftp``) and boots them."""

    load: str
    command: str
    device_tree: str
    #: script, fit or uefi
    format: str
    script: Script


class Fit(NamedTuple):
    """The FIT every packed artefact is in, its configuration and signing key."""

    file: str
    configuration: str
    key_name: Optional[str]
    #: U-Boot's control DTB holding the public key, if the build wrote one
    uboot_dtb: Optional[str]


class Reachable(NamedTuple):
    """One physical range a party (xen, dom0 or a domU) can reach, how, and who else can:
    the plan's isolation model, for audits."""

    party: str
    address: int
    size: int
    #: static memory, shared memory, device, DMA; Xen's: heap, image, load area, console
    #: UART, GIC, SMMU, timer
    how: str
    #: the host node, shared-memory id or YAML key that gives it
    source: str
    shared_with: tuple[str, ...] = ()


class Isolation(NamedTuple):
    """Every range each party can reach, and the risks named as warnings."""

    reach: tuple[Reachable, ...] = ()
    warnings: tuple[str, ...] = ()


class Manifest(NamedTuple):
    """Every artefact with its address, size and checksum, and how the board boots them."""

    #: the description's file name
    description: str
    xen_version: str
    xen_bootargs: str
    host: Host
    domains: tuple[str, ...]
    dom0: bool
    boot: Boot
    fit: Optional[Fit]
    kconfig: tuple[str, ...]
    artefacts: tuple[Artefact, ...]
    isolation: Isolation = Isolation()

    def dumps(self) -> bytes:
        """The JSON text, keys in this record's order and addresses in hex."""
        document = {
            "format": VERSION,
            "description": self.description,
            "xen_version": self.xen_version,
            "xen_bootargs": self.xen_bootargs,
            "host": self.host._asdict(),
            "domains": list(self.domains),
            "dom0": self.dom0,
            "boot": {**self.boot._asdict(), "script": _script_json(self.boot.script)},
            "fit": self.fit._asdict() if self.fit is not None else None,
            "kconfig": list(self.kconfig),
            "artefacts": [_artefact_json(a) for a in self.artefacts],
            "isolation": {
                "reach": [_reachable_json(r) for r in self.isolation.reach],
                "warnings": list(self.isolation.warnings),
            },
        }
        return (json.dumps(document, indent=2) + "\n").encode()


def _hex(address: int) -> str:
    return f"0x{address:x}"


def _script_json(script: Script) -> dict[str, Any]:
    return {"file": script.file, "address": _hex(script.address)}


def _artefact_json(artefact: Artefact) -> dict[str, Any]:
    fields = artefact._asdict()
    packed_in = fields.pop("packed_in")
    compression = fields.pop("compression")
    fields["address"] = _hex(artefact.address)
    fields["users"] = list(artefact.users)
    return {
        **fields,
        **({"in": packed_in} if packed_in is not None else {}),
        **({"compression": compression} if compression is not None else {}),
    }


def _reachable_json(reach: Reachable) -> dict[str, Any]:
    return {
        **reach._asdict(),
        "address": _hex(reach.address),
        "shared_with": list(reach.shared_with),
    }


def read(outdir: Path) -> Manifest:
    """The manifest ``dom0less build`` wrote into ``outdir``; UserError if there is none,
    it is of another version or it is not one dom0less wrote."""
    path = outdir / MANIFEST
    if not path.is_file():
        raise UserError(
            f"{outdir} has no {MANIFEST}: run `dom0less build DESCRIPTION.yaml -o {outdir}` first"
        )
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict) or data.get("format") != VERSION:
            found = data.get("format") if isinstance(data, dict) else None
            raise UserError(
                f"{path} has format {found!r}, this dom0less reads "
                f"format {VERSION}: rebuild it with this version"
            )
        return loads(data)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UserError(
            f"{path} is not a manifest dom0less build wrote ({error}): "
            "rebuild it with `dom0less build`"
        ) from None


def loads(data: dict[str, Any]) -> Manifest:
    """The record of a parsed manifest.json; KeyError, TypeError or ValueError if a field
    is missing or of the wrong type."""
    host, boot, fit = data["host"], data["boot"], data["fit"]
    return Manifest(
        description=_typed(data["description"], str),
        xen_version=_typed(data["xen_version"], str),
        xen_bootargs=_typed(data["xen_bootargs"], str),
        host=Host(
            _typed(host["cpus"], int),
            _typed(host["gic"], int),
            _typed(host["memory"], int),
        ),
        domains=_strings(data["domains"]),
        dom0=_typed(data["dom0"], bool),
        boot=Boot(
            _typed(boot["load"], str),
            _typed(boot["command"], str),
            _typed(boot["device_tree"], str),
            _typed(boot["format"], str),
            Script(_typed(boot["script"]["file"], str), _address(boot["script"]["address"])),
        ),
        fit=None
        if fit is None
        else Fit(
            _typed(fit["file"], str),
            _typed(fit["configuration"], str),
            _typed(fit["key_name"], str, optional=True),
            _typed(fit["uboot_dtb"], str, optional=True),
        ),
        kconfig=_strings(data["kconfig"]),
        artefacts=tuple(
            Artefact(
                _typed(a["file"], str),
                _typed(a["role"], str),
                _address(a["address"]),
                _typed(a["size"], int),
                _typed(a["sha256"], str),
                _strings(a["users"]),
                _typed(a.get("in"), str, optional=True),
                _typed(a.get("compression"), str, optional=True),
            )
            for a in data["artefacts"]
        ),
        isolation=Isolation(
            tuple(
                Reachable(
                    _typed(r["party"], str),
                    _address(r["address"]),
                    _typed(r["size"], int),
                    _typed(r["how"], str),
                    _typed(r["source"], str),
                    _strings(r["shared_with"]),
                )
                for r in data["isolation"]["reach"]
            ),
            _strings(data["isolation"]["warnings"]),
        ),
    )


def _typed(value: Any, kind: type, optional: bool = False) -> Any:
    """``value`` if it is a ``kind`` (or None when ``optional``); TypeError otherwise."""
    if (value is None and optional) or (
        isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    ):
        return value
    raise TypeError(f"{value!r} is not {article(kind.__name__)}")


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(_typed(v, str) for v in _typed(values, list))


def _address(text: Any) -> int:
    return int(_typed(text, str), 16)
