"""The system description as typed values: what the user asked for.

Built by :mod:`xen_dom0less.generator.read.description` from YAML; sizes are bytes, paths
are absolute. Nothing here is checked beyond the schema: see :mod:`check`. Defaults are the
schema's (:mod:`schema_defaults`), none stated here.
"""

# Annotations stay evaluated here (no `from __future__ import annotations`): typing.NamedTuple
# compiles every string annotation into a ForwardRef at import, ~1.5 ms of each run.
from pathlib import Path
from typing import NamedTuple, Optional, Union

from ..units import hexaddr

#: U-Boot block interfaces ``load IFACE DEV:PART ADDR FILE`` reads from; boot.load may
#: also be tftp or a command of the user's own.
LOAD_DEVICES = ("mmc", "usb", "virtio", "scsi", "sata", "nvme", "ide")


class Region(NamedTuple):
    address: int
    size: int

    @property
    def end(self) -> int:
        return self.address + self.size

    def overlaps(self, other: "Region") -> bool:
        return self.address < other.end and other.address < self.end

    def span(self) -> str:
        """start-end as every message and picture writes it."""
        return f"{hexaddr(self.address)}-{hexaddr(self.end)}"


class LlcColoring(NamedTuple):
    xen_colors: Optional[str] = None
    size: Optional[int] = None
    ways: Optional[int] = None


class Xen(NamedTuple):
    image: Path
    version: str
    config: Optional[Path] = None
    bootargs: Optional[str] = None
    extra_bootargs: str = ""
    #: host node path or alias of Xen's console UART; "none" for no console
    console: Optional[str] = None
    scheduler: Optional[str] = None
    #: the domU that must start first (None: the first listed; "none": no order)
    critical: Optional[str] = None
    static_heap: tuple[Region, ...] = ()
    llc_coloring: Optional[LlcColoring] = None
    xsm_policy: Optional[Path] = None
    #: Xen's EFI binary for boot.format uefi; None: the image's name with .efi
    efi: Optional[Path] = None


class Host(NamedTuple):
    dtb: Path
    uboot_reserve: int
    disable: tuple[str, ...] = ()
    #: RAM banks given by the user, replacing the tree's memory nodes
    memory: tuple[Region, ...] = ()


class Dom0(NamedTuple):
    kernel: Path
    memory: int
    vcpus: int
    ramdisk: Optional[Path] = None
    cmdline: str = ""
    llc_colors: Optional[str] = None


class EventChannel(NamedTuple):
    port: int
    peer: str
    peer_port: int


class SharedMemoryUse(NamedTuple):
    id: str
    guest_address: int
    role: Optional[str] = None


class PvNetwork(NamedTuple):
    """A PV network interface on ``bridge`` in the backend domain."""

    bridge: str
    backend: Optional[str] = None
    mac: Optional[str] = None


class PvBlock(NamedTuple):
    """A PV disk ``vdev`` backed by ``target`` in the backend domain."""

    target: str
    vdev: str
    backend: Optional[str] = None
    readonly: bool = False


class Pv(NamedTuple):
    """The PV devices a backend domain attaches to a domain once both are up."""

    network: tuple[PvNetwork, ...] = ()
    block: tuple[PvBlock, ...] = ()

    @property
    def devices(self) -> tuple[tuple[str, Union[PvNetwork, PvBlock]], ...]:
        """(YAML key below pv, device) for every network interface and disk."""
        return (
            *((f"network[{i}]", n) for i, n in enumerate(self.network)),
            *((f"block[{i}]", b) for i, b in enumerate(self.block)),
        )


class SharedMemory(NamedTuple):
    id: str
    size: int
    host_address: Optional[int] = None


class Grant(NamedTuple):
    version: Optional[int] = None
    frames: Optional[int] = None
    maptrack_frames: Optional[int] = None


class Device(NamedTuple):
    """A host device given to a domain."""

    path: str
    #: guest address of the device's first page; None: the host address
    guest_address: Optional[int] = None
    #: what the guest may go without (PASSTHROUGH_ACCEPT in the schema)
    accept: tuple[str, ...] = ()


class Domain(NamedTuple):
    name: str
    #: position in ``domains``, for messages that name the YAML key
    index: int
    kernel: Path
    memory: Optional[int]
    vcpus: int
    vpl011: bool
    direct_map: bool
    ramdisk: Optional[Path] = None
    device_tree: Optional[Path] = None
    cmdline: str = ""
    devices: tuple[Device, ...] = ()
    iommu: Optional[bool] = None
    static_memory: tuple[Region, ...] = ()
    llc_colors: Optional[str] = None
    cpupool: Optional[str] = None
    xenstore: Optional[str] = None
    nr_spis: Optional[int] = None
    p2m_mem_mb: Optional[int] = None
    grant: Optional[Grant] = None
    sve: Union[bool, int, None] = None
    capabilities: tuple[str, ...] = ()
    vcpu_affinity: tuple[tuple[int, str], ...] = ()
    trap_unmapped_accesses: Optional[bool] = None
    sci_type: Optional[str] = None
    v8r_el1_msa: Optional[str] = None
    event_channels: tuple[EventChannel, ...] = ()
    shared_memory: tuple[SharedMemoryUse, ...] = ()
    pv: Pv = Pv()

    @property
    def key(self) -> str:
        """The YAML key naming this domain in messages."""
        return f"domains[{self.index}] ({self.name})"

    @property
    def passthrough(self) -> tuple[str, ...]:
        """Host paths of the devices given to this domain."""
        return tuple(d.path for d in self.devices)

    @property
    def ram(self) -> int:
        """The RAM Xen gives it: ``memory``, which may be left to the static-memory total."""
        return self.memory or sum(r.size for r in self.static_memory)


class Cpupool(NamedTuple):
    name: str
    index: int
    cpus: tuple[Union[int, str], ...]
    scheduler: Optional[str] = None


class Signing(NamedTuple):
    """The FIT's signatures: a private RSA key, U-Boot's DTB for its half, and which U-Boot
    verifies them (what it checks of boot.scr decides whether images are signed too)."""

    key: Path
    uboot_dtb: Optional[Path] = None
    #: The key's file name as the user gave it: ``key`` is resolved, and a symbolic link's
    #: target has another name.
    key_file: str = ""
    #: The U-Boot release that verifies the chain (YYYY.MM), if the description says it
    uboot_version: Optional[str] = None

    @property
    def key_name(self) -> str:
        """U-Boot's key-name-hint: the key file's name without .key (oe-core's convention)."""
        name = self.key_file or self.key.name
        return name[: -len(".key")] if name.endswith(".key") else Path(name).stem

    @property
    def image_key_name(self) -> str:
        """The same key's name for image signatures: U-Boot's control DTB holds one node per
        name, and a node is required for configurations or for images, not both."""
        return f"{self.key_name}-image"


class Boot(NamedTuple):
    load: str
    command: str
    device_tree: str
    align: int
    #: script: U-Boot loads each binary; fit: one FIT image holding them all
    format: str
    #: none, or the format (gzip, lz4) worthwhile files are stored in for U-Boot to
    #: decompress into place (place.compression)
    compression: str
    load_region: Optional[Region] = None
    script_address: Optional[int] = None
    signing: Optional[Signing] = None


class IsolationPolicy(NamedTuple):
    """What the checks of each domain's reach refuse beyond what they always refuse."""

    #: warn: a DMA-capable device no IOMMU protects is named in a warning; refuse: an error
    dma_without_iommu: str = "warn"


class System(NamedTuple):
    source: Path
    xen: Xen
    host: Host
    domains: tuple[Domain, ...]
    boot: Boot
    #: (key path, line in ``source``) of every value read, so a problem found later names
    #: its line (errors.Problems); pairs rather than a dict keep the record hashable
    lines: tuple[tuple[str, int], ...] = ()
    dom0: Optional[Dom0] = None
    cpupools: tuple[Cpupool, ...] = ()
    shared_memory: tuple[SharedMemory, ...] = ()
    isolation: IsolationPolicy = IsolationPolicy()
