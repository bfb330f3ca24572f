"""Facts about the board read from its device tree: RAM, CPUs, reservations.

Wraps the pure-Python ``fdt`` package; everything the pipeline and validator
need from the host DTB is read here once.
"""

# NamedTuples: annotations evaluated, not `from __future__` strings (see model.py).
import struct
from functools import cached_property
from typing import NamedTuple, Optional, Union

import fdt

from ..errors import UserError
from ..units import combine_cells
from .facts.images import DTB_MAGIC
from .model import Region

#: Compatibles of the interrupt controllers Xen drives (and gives guests a virtual one of):
#: DT_MATCH_GIC_V2 and DT_MATCH_GIC_V3 of xen/arch/arm/include/asm/gic.h, 4.17 to 4.22
GIC_COMPATIBLES = {
    b"arm,gic-v3": 3,
    b"arm,gic-400": 2,
    b"arm,cortex-a15-gic": 2,
    b"arm,cortex-a7-gic": 2,
}
#: Compatibles of the architected timer Xen takes (DT_MATCH_TIMER, asm/time.h)
TIMER_COMPATIBLES = ("arm,armv7-timer", "arm,armv8-timer")
#: GICV3_GICR_SIZE in Xen's gic_v3_defs.h: the frames of one redistributor (RD and SGI).
GICV3_REDISTRIBUTOR_SIZE = 2 * 64 * 1024


class Cpu(NamedTuple):
    index: int
    path: str
    phandle: Optional[int]


class Reservation(NamedTuple):
    region: Region
    origin: str  # "/memreserve/" or the /reserved-memory node path


def prop_bytes(prop: object) -> bytes:
    """The raw value of a property, whatever type ``fdt`` guessed for it."""
    if isinstance(prop, fdt.PropWords):
        return b"".join(struct.pack(">I", w) for w in prop.data)
    if isinstance(prop, fdt.PropStrings):
        return b"".join(s.encode() + b"\0" for s in prop.data)
    if isinstance(prop, fdt.PropBytes):
        return bytes(prop.data)
    return b""


def parse(data: bytes, origin: str) -> fdt.FDT:
    """Parse a DTB, working around ``fdt`` sharing one memreserve list between trees."""
    if int.from_bytes(data[:4], "big") != DTB_MAGIC:
        raise UserError(f"{origin}: not a device tree blob (bad magic); give the compiled .dtb")
    try:
        tree = fdt.parse_dtb(data)
    except Exception as error:  # the fdt package raises bare Exceptions
        raise UserError(f"{origin}: cannot parse the device tree: {error}") from None
    shared = tree.entries
    tree.entries = [dict(e) for e in shared]
    shared.clear()
    return tree


class HostTree:
    """The board's device tree and what it says about the hardware.

    The facts planning asks for repeatedly (banks, reservations, CPUs) are read
    once. The parsed tree itself can be handed to the renderer that edits it
    (:meth:`detach_tree`), which saves parsing the board DTB a second time.
    """

    def __init__(self, data: bytes, origin: str, memory: tuple[Region, ...] = ()):
        self.origin = origin
        self.data = data
        #: RAM banks the user gave in place of the tree's (firmware-filled trees)
        self.memory_override = memory
        self._tree: Optional[fdt.FDT] = parse(data, origin)
        #: path -> node of the tree now parsed, built on the first lookup
        self._paths: Optional[dict[str, fdt.Node]] = None

    @property
    def tree(self) -> fdt.FDT:
        if self._tree is None:
            self._tree = parse(self.data, self.origin)
        return self._tree

    def detach_tree(self) -> fdt.FDT:
        """The parsed tree, now the caller's to edit; later reads here parse the DTB again."""
        tree, self._tree, self._paths = self.tree, None, None
        return tree

    def node(self, path: str) -> Optional[fdt.Node]:
        """The node at ``path``: from an index of every node's path (fdt's get_node walks
        the tree from the root for each lookup, most of the time the checks of a real
        board's tree took), or, for a path written otherwise, as fdt finds it."""
        if self._paths is None:
            self._paths = {"/": self.tree.root}
            for parent, nodes, _props in self.tree.walk():
                for child in nodes:
                    self._paths[f"{parent.rstrip('/')}/{child.name}"] = child
        found = self._paths.get(path)
        if found is not None:
            return found
        try:
            return self.tree.get_node(path)
        except ValueError:
            return None

    def has_node(self, path: str) -> bool:
        return self.node(path) is not None

    def words(self, path: str, name: str) -> Optional[list[int]]:
        node = self.node(path)
        prop = node.get_property(name) if node else None
        if prop is None:
            return None
        raw = prop_bytes(prop)
        return list(struct.unpack(f">{len(raw) // 4}I", raw[: len(raw) // 4 * 4]))

    def string(self, path: str, name: str) -> Optional[str]:
        node = self.node(path)
        prop = node.get_property(name) if node else None
        if prop is None:
            return None
        return prop_bytes(prop).split(b"\0", 1)[0].decode(errors="replace")

    def cells(self, path: str) -> tuple[int, int]:
        """(#address-cells, #size-cells) that apply to children of ``path``.

        Only asked of nodes whose children hold addresses and sizes of RAM (/,
        /reserved-memory, /chosen), where each is 1 or 2 cells; anything else
        would make their reg unreadable, so it is a UserError naming it.
        """
        address = self.words(path, "#address-cells")
        size = self.words(path, "#size-cells")
        counts = (address[0] if address else 2, size[0] if size else 1)
        if not all(1 <= count <= 2 for count in counts):
            raise UserError(
                f"{self.origin}: {path} has #address-cells = <{counts[0]}> and "
                f"#size-cells = <{counts[1]}>, but the addresses and sizes of RAM under it "
                "take 1 or 2 cells each: fix the DTB"
            )
        return counts

    def inherited_cells(self, path: str) -> tuple[int, int]:
        """Cell counts as Xen resolves them: the nearest node up from ``path`` that has them."""
        while path:
            if self.words(path, "#address-cells") is not None:
                return self.cells(path)
            path = path.rsplit("/", 1)[0]
        return self.cells("/")

    def regs(self, path: str, parent: str) -> list[Region]:
        cells = self.words(path, "reg") or []
        address_cells, size_cells = self.cells(parent)
        step = address_cells + size_cells
        regions = []
        for i in range(0, len(cells) - step + 1, step):
            address = combine_cells(cells[i : i + address_cells])
            size = combine_cells(cells[i + address_cells : i + step])
            if size:
                regions.append(Region(address, size))
        return regions

    def cpu_regs(self, path: str) -> Optional[list[Region]]:
        """``path``'s reg as CPU physical addresses, through each parent bus's ``ranges``.

        None when a bus on the way has no ``ranges`` (not memory-mapped) or maps
        some region nowhere.
        """
        parent = _parent(path)
        regions = self.regs(path, parent)
        bus = parent
        while bus != "/":
            ranges = self.words(bus, "ranges")
            if ranges is None:
                return None
            if ranges:
                child, size = self.cells(bus)
                parent = self.cells(_parent(bus))[0]
                step = child + parent + size
                windows = [
                    (
                        combine_cells(ranges[i : i + child]),
                        combine_cells(ranges[i + child : i + child + parent]),
                        combine_cells(ranges[i + child + parent : i + step]),
                    )
                    for i in range(0, len(ranges) - step + 1, step)
                ]
                mapped = []
                for region in regions:
                    window = next(
                        (
                            w
                            for w in windows
                            if w[0] <= region.address and region.end <= w[0] + w[2]
                        ),
                        None,
                    )
                    if window is None:
                        return None
                    mapped.append(Region(region.address - window[0] + window[1], region.size))
                regions = mapped
            bus = _parent(bus)
        return regions

    @cached_property
    def memory_nodes(self) -> tuple[str, ...]:
        """Paths of the top-level nodes with device_type = "memory", in tree order."""
        return tuple(
            "/" + node.name
            for node in self.tree.root.nodes
            if self.string("/" + node.name, "device_type") == "memory"
        )

    @cached_property
    def memory_banks(self) -> tuple[Region, ...]:
        """RAM: the user's banks if given, else the memory nodes' non-empty ranges."""
        banks = list(self.memory_override)
        if not banks:
            for path in self.memory_nodes:
                banks.extend(self.regs(path, "/"))
        return tuple(sorted(banks, key=lambda r: r.address))

    @cached_property
    def reservations(self) -> tuple[Reservation, ...]:
        found = [
            Reservation(Region(e["address"], e["size"]), "/memreserve/")
            for e in self.tree.entries
            if e["size"]
        ]
        parent = self.node("/reserved-memory")
        for child in parent.nodes if parent else ():
            path = f"/reserved-memory/{child.name}"
            found.extend(Reservation(r, path) for r in self.regs(path, "/reserved-memory"))
        return tuple(found)

    @cached_property
    def cpus(self) -> tuple[Cpu, ...]:
        parent = self.node("/cpus")
        result: list[Cpu] = []
        for child in parent.nodes if parent else ():
            path = f"/cpus/{child.name}"
            if self.string(path, "device_type") == "cpu":
                phandle = self.words(path, "phandle")
                result.append(Cpu(len(result), path, phandle[0] if phandle else None))
        return tuple(result)

    def cpu(self, ref: Union[int, str]) -> Optional[Cpu]:
        """The CPU a description names by index or by /cpus path, if the board has it."""
        return next((c for c in self.cpus if ref in (c.index, c.path)), None)

    def stdout_path(self) -> Optional[str]:
        """The console node or alias from /chosen, without its serial options."""
        value = self.string("/chosen", "stdout-path") or self.string("/chosen", "linux,stdout-path")
        return value.split(":", 1)[0] if value else None

    def resolve_alias(self, name: str) -> Optional[str]:
        return name if name.startswith("/") else self.string("/aliases", name)

    @cached_property
    def max_phandle(self) -> int:
        highest = 0
        for _path, _nodes, props in self.tree.walk():
            for prop in props:
                if prop.name in ("phandle", "linux,phandle"):
                    raw = prop_bytes(prop)
                    if len(raw) == 4:
                        highest = max(highest, struct.unpack(">I", raw)[0])
        return highest

    def strings(self, path: str, name: str) -> list[str]:
        """A string-list property (compatible, clock-names); empty if absent."""
        node = self.node(path)
        prop = node.get_property(name) if node else None
        if prop is None:
            return []
        return [s.decode(errors="replace") for s in prop_bytes(prop).split(b"\0")[:-1]]

    @cached_property
    def paths(self) -> tuple[str, ...]:
        """Every node's path in tree order (depth first), the order Xen searches in."""
        found: list[str] = []

        def visit(node: fdt.Node, path: str) -> None:
            found.append(path)
            for child in node.nodes:
                visit(child, f"{path.rstrip('/')}/{child.name}")

        visit(self.tree.root, "/")
        return tuple(found)

    def available(self, path: str) -> bool:
        """Whether Xen (dt_device_is_available) takes the node: no status, "ok" or "okay"."""
        status = self.node(path).get_property("status")
        return status is None or prop_bytes(status).split(b"\0", 1)[0] in (b"ok", b"okay")

    def for_xen(self, path: str) -> bool:
        """Whether Xen's device_init would set a driver up on the node (not disabled,
        not marked xen,passthrough)."""
        return self.available(path) and self.node(path).get_property("xen,passthrough") is None

    @cached_property
    def _gic(self) -> tuple[Optional[str], Optional[int]]:
        """The interrupt controller Xen takes (intc_dt_preinit): the first node in tree order
        with interrupt-controller, below the root, set up by a GIC driver."""
        for path in self.paths[1:]:
            node = self.node(path)
            if node.get_property("interrupt-controller") is None or not self.for_xen(path):
                continue
            versions = [GIC_COMPATIBLES.get(c.encode()) for c in self.strings(path, "compatible")]
            known = [v for v in versions if v]
            if known:
                return path, known[0]
        return None, None

    @property
    def gic_version(self) -> Optional[int]:
        return self._gic[1]

    @property
    def gic_path(self) -> Optional[str]:
        return self._gic[0]

    @property
    def gicv3_redistributors(self) -> int:
        """GICv3 redistributors in the GIC's reg, as Xen counts them for a domain on the host
        layout: the #redistributor-regions regions after the distributor's, 128 KiB each."""
        path = self._gic[0]
        if path is None:
            return 0
        count = (self.words(path, "#redistributor-regions") or [1])[0]
        regions = self.regs(path, _parent(path))[1 : 1 + count]
        return sum(r.size for r in regions) // GICV3_REDISTRIBUTOR_SIZE

    @cached_property
    def phandles(self) -> dict[int, str]:
        """phandle -> path of the node that has it."""
        found: dict[int, str] = {}
        for path, nodes, _props in self.tree.walk():
            for node in nodes:
                child = f"{path.rstrip('/')}/{node.name}"
                for name in ("phandle", "linux,phandle"):
                    value = self.words(child, name)
                    if value and len(value) == 1:
                        found.setdefault(value[0], child)
        return found

    def interrupt_parent(self, path: str) -> Optional[str]:
        """The interrupt parent of ``path`` as Xen finds it (dt_irq_find_parent): up by
        interrupt-parent or else the tree until a node with #interrupt-cells; None when
        there is none, or the walk goes round (where Xen's would never end)."""
        seen: set[str] = set()
        node: Optional[str] = path
        while True:
            value = self.words(node, "interrupt-parent")
            if value:
                node = self.phandles.get(value[0])
            else:
                node = None if node in ("/", "") else _parent(node)
            if node is None or self.words(node, "#interrupt-cells") is not None:
                return node
            if node in seen:
                return None
            seen.add(node)

    def spis(self, path: str) -> Optional[list[int]]:
        """The SPI numbers (GIC binding's type-0 numbers) of ``path``'s interrupts.

        None when the node has interrupts Xen cannot route to a guest: not wired
        to the GIC directly (an interrupt-map, a GPIO or another controller) or PPIs.
        """
        cells = self.words(path, "interrupts")
        if not cells:
            return []
        parent = self.interrupt_parent(path)
        if parent is None or parent != self.gic_path:
            return None
        width = (self.words(parent, "#interrupt-cells") or [3])[0]
        if width < 3 or len(cells) % width:
            return None
        triples = [cells[i : i + width] for i in range(0, len(cells), width)]
        if any(kind != 0 for kind, *_ in triples):
            return None
        return [number for _kind, number, *_ in triples]

    def irqs(self, path: str) -> list[tuple[Optional[str], list[int]]]:
        """``path``'s interrupts as Xen reads them (dt_device_get_raw_irq): each one's
        controller and specifier, from interrupts-extended if given, else interrupts."""
        extended = self.words(path, "interrupts-extended")
        found: list[tuple[Optional[str], list[int]]] = []
        if extended:
            at = 0
            while at < len(extended):
                controller = self.phandles.get(extended[at])
                width = self.words(controller, "#interrupt-cells") if controller else None
                if not width or at + 1 + width[0] > len(extended):
                    break
                found.append((controller, extended[at + 1 : at + 1 + width[0]]))
                at += 1 + width[0]
            return found
        cells = self.words(path, "interrupts") or []
        controller = self.interrupt_parent(path) if cells else None
        width = self.words(controller, "#interrupt-cells") if controller else None
        if not width or not width[0]:
            return [(None, cells)] if cells else []
        step = width[0]
        return [(controller, cells[i : i + step]) for i in range(0, len(cells) - step + 1, step)]

    def gic_irq(self, path: str, index: int) -> bool:
        """Whether Xen's GIC translates interrupt ``index`` of ``path`` (gic_irq_xlate:
        wired to that GIC, in at least 3 cells). Through an interrupt-map (a nexus such
        as the Versatile Express motherboard bus) Xen maps it on; not followed here, so
        taken as translated."""
        irqs = self.irqs(path)
        if index >= len(irqs):
            return False
        controller, specifier = irqs[index]
        if controller is not None and self.words(controller, "interrupt-map") is not None:
            return True
        return controller is not None and controller == self.gic_path and len(specifier) >= 3

    def first_compatible(self, compatibles: tuple[str, ...]) -> Optional[str]:
        """The first node in tree order compatible with any of these, as Xen's
        dt_find_matching_node finds the timer or PSCI node (status not looked at)."""
        wanted = set(compatibles)
        return next((p for p in self.paths if wanted & set(self.strings(p, "compatible"))), None)

    def cpu_hwid(self, path: str) -> Optional[int]:
        """A CPU node's MPIDR affinity as Xen reads it (dt_smp_init_cpus): its reg in the
        nearest ancestor's #address-cells (2 by default); None when reg is missing or shorter."""
        cells, parent = None, _parent(path)
        while cells is None:
            cells = self.words(parent, "#address-cells")
            if parent == "/":
                break
            parent = _parent(parent)
        count = cells[0] if cells else 2
        reg = self.words(path, "reg")
        if reg is None or len(reg) < count:
            return None
        return combine_cells(reg[:count]) % (1 << 64)  # read into a 64-bit number


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"
