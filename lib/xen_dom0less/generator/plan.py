"""The validated plan: every binary with its load address, ready to render.

Produced by :mod:`pipeline` from a :class:`model.System`; renderers read only
this, never the raw description.
"""

# NamedTuples: annotations evaluated, not `from __future__` strings (see model.py).
import hashlib
from pathlib import Path
from typing import NamedTuple, Optional

from .. import files, outputs
from ..errors import InputFileError, Problem
from ..units import KiB
from . import model
from .hostdt import HostTree

#: Room after the DTB: U-Boot grows it in place by CONFIG_SYS_FDT_PAD (12 KiB) at boot.
DTB_GROWTH = 64 * KiB
#: ``fdt resize`` amount in fdt-commands mode, for the nodes the script adds.
FDT_COMMANDS_RESIZE = 64 * KiB


class Blob:
    """One file U-Boot loads into RAM, shared by every module that uses it.

    The only mutable record: placement assigns ``address``, collecting inputs
    appends ``users`` and :meth:`digest` keeps the SHA-256 once read. A plain
    class because dataclasses cost start-up.
    """

    __slots__ = (
        "address",
        "aligned_at",
        "compression",
        "data",
        "file",
        "kind",
        "role",
        "sha256",
        "size",
        "source",
        "span",
        "users",
    )

    def __init__(
        self,
        role: str,
        file: str,
        source: Optional[Path],
        size: int,
        span: int,
        sha256: str = "",
        users: Optional[list[str]] = None,
        data: Optional[bytes] = None,
        kind: str = "",
    ):
        self.role = role  # xen, dtb, script, xsm-policy, kernel, ramdisk, device-tree
        self.file = file  # name in the output directory
        self.source = source  # input file; None for what we generate
        self.size = size  # bytes loaded
        self.span = span  # bytes kept free from ``address`` (image_size, room to grow)
        self.address = 0
        self.aligned_at = 0  # bytes in that must land on boot.align (Xen inside the FIT)
        self.sha256 = sha256  # "" until digest() reads the file
        self.users = users if users is not None else []
        self.data = data  # generated content (a compiled .dts) or the compressed file, as is
        self.kind = kind  # the input's format (images.classify); empty for what we generate
        #: "" or the format ``data`` (the file ``file``) is compressed in, which U-Boot
        #: decompresses to ``address`` as ``size`` bytes (place.compression)
        self.compression = ""

    def reset(self) -> None:
        """Forget an earlier placement pass's address (as binman's ResetForPack), so every
        pass places from scratch instead of relying on overwriting each address."""
        self.address = 0

    def digest(self) -> str:
        """SHA-256 of the content, the file read the first time it is asked: a plan
        refused for a file's size or format never reads that file whole."""
        if not self.sha256:
            if self.data is not None:
                self.sha256 = hashlib.sha256(self.data).hexdigest()
            else:
                assert self.source is not None
                try:
                    self.sha256 = files.sha256(self.source)
                except files.UnusableFile as error:
                    raise InputFileError(str(error)) from None
        return self.sha256

    def __repr__(self) -> str:
        return f"Blob({self.file!r}, {self.role}, 0x{self.address:x}+0x{self.span:x})"

    @property
    def region(self) -> model.Region:
        return model.Region(self.address, self.span)

    @property
    def stored_size(self) -> int:
        """Bytes of the file U-Boot reads for this blob: compressed, or ``size``."""
        return len(self.data) if self.compression and self.data is not None else self.size


class Modules(NamedTuple):
    """The blobs one domain boots from."""

    kernel: Blob
    ramdisk: Optional[Blob] = None
    device_tree: Optional[Blob] = None


class Excluded(NamedTuple):
    """RAM the loader must not touch, and why."""

    region: model.Region
    reason: str


class Reach(NamedTuple):
    """One physical range a domain (or Xen) can touch, how, and who else can."""

    region: model.Region
    #: static memory, shared memory, device, DMA (all of RAM), or one of Xen's: heap,
    #: load area, console, GIC, SMMU, timer
    how: str
    #: what it is: the host node, the shared-memory id, the YAML key of static memory
    source: str
    #: the YAML key that gives it to the domain; empty for what no key gives (Xen's, dom0's)
    key: str = ""
    #: the other domains that reach it too (shared memory)
    shared_with: tuple[str, ...] = ()


#: The name Xen goes by in an :class:`Isolation`'s reach.
XEN = "xen"


class Isolation(NamedTuple):
    """What each party can reach by physical address: Xen (:data:`XEN`), dom0, each domU."""

    reach: dict[str, tuple[Reach, ...]]
    #: risks a rule does not refuse by default (DMA without an IOMMU, a passed-through page
    #: that also holds a disabled device), each under its key (placed in the plan's warnings)
    warnings: tuple[Problem, ...] = ()


class Plan(NamedTuple):
    """Everything validated and placed; the only input of the renderers."""

    system: model.System
    host: HostTree
    blobs: list[Blob]
    xen: Blob
    dtb: Blob
    script: Blob
    xsm_policy: Optional[Blob]
    dom0: Optional[Modules]
    domains: dict[str, Modules]
    excluded: list[Excluded]
    xen_bootargs: str
    #: Kconfig option -> the description feature that needs it
    kconfig: dict[str, str]
    #: boot.itb in the FIT format, which carries every other blob but the script
    fit: Optional[Blob] = None
    #: choices Xen takes that cost safety or a running domain (check.advice) and the
    #: isolation risks (Isolation.warnings), with the description's file and line
    warnings: tuple[Problem, ...] = ()
    #: what each domain and Xen can reach; empty before placement
    isolation: Isolation = Isolation({})
    #: which domU starts first and by what (place.critical_first); empty with none
    critical_first: str = ""
    #: where U-Boot loads each compressed blob before decompressing it to its address
    #: (the largest one's room); None when none is compressed. Not a module: RAM Xen
    #: takes for its heap once started
    staging: Optional[Blob] = None

    def packed(self, blob: Blob) -> bool:
        """Whether ``blob`` reaches RAM inside the FIT rather than as a file of its own."""
        return self.fit is not None and blob.role not in ("script", "fit")

    def packed_blobs(self) -> list[Blob]:
        """What the FIT carries, in the order of its data (by address)."""
        return [b for b in self.blobs if self.packed(b)]

    def container(self, blob: Blob) -> Optional[str]:
        """The output file carrying ``blob`` when it has none of its own: the FIT, or in
        the UEFI format (Xen as its EFI binary) BOOTAA64.EFI."""
        if self.packed(blob):
            return self.fit.file if self.fit is not None else None
        if blob.role == "xen" and self.system.boot.format == "uefi":
            return outputs.EFI_BINARY
        return None

    @property
    def version(self) -> str:
        return self.system.xen.version


def static_regions(system: model.System) -> list[Excluded]:
    """RAM the description itself fixes (static heap, static and shared memory), by key."""
    found = [Excluded(r, f"xen.static_heap[{i}]") for i, r in enumerate(system.xen.static_heap)]
    for domain in system.domains:
        found += [
            Excluded(r, f"{domain.key}.static_memory[{i}]")
            for i, r in enumerate(domain.static_memory)
        ]
    found += [
        Excluded(model.Region(s.host_address, s.size), f"shared_memory ({s.id})")
        for s in system.shared_memory
        if s.host_address is not None
    ]
    return found
