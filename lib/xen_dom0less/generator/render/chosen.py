"""Build the /chosen additions Xen reads, exactly as booting.txt specifies.

Domain nodes keep the order of the description: Xen creates and numbers
domUs in device-tree order. Cross-references (cpupools, event channels) get
phandles above the board's highest one.
"""

from __future__ import annotations

from typing import Optional

from ...errors import DescriptionError, InputFileError, Problem
from ...units import CELL_MAX, XEN_PAGE, cells
from ..model import Domain, Region
from ..plan import Blob, Modules, Plan
from .dtree import ChosenTree, HostEdit, Node, Prop, value_problems

ADDRESS_CELLS = 2
SIZE_CELLS = 2
CAPABILITY_BITS = {"control": 1, "hardware": 2, "xenstore": 4}
_MODULE_COMPATIBLE = {
    "kernel": "multiboot,kernel",
    "ramdisk": "multiboot,ramdisk",
    "device-tree": "multiboot,device-tree",
    "xsm-policy": "xen,xsm-policy",
}


def build(plan: Plan) -> ChosenTree:
    """The nodes and host edits that describe ``plan`` to Xen; a UserError if one cannot be
    written.

    Every value is checked here, before any renderer writes it (see dtree.value_problems).
    """
    tree = _Builder(plan).tree()
    script = plan.system.boot.device_tree == "fdt-commands"
    problems = value_problems(tree, script)
    if problems:
        raise DescriptionError([Problem(p, str(plan.system.source)) for p in problems])
    return tree


def reg(
    region: Region, address_cells: int = ADDRESS_CELLS, size_cells: int = SIZE_CELLS
) -> tuple[int, ...]:
    return cells(region.address, address_cells) + cells(region.size, size_cells)


def module_node(blob: Blob, bootargs: Optional[str] = None, uefi: bool = False) -> Node:
    """A module Xen finds at its address, or (``uefi``) loads itself from the file named."""
    node = Node(f"module@{blob.address:x}")
    node.add("compatible", (_MODULE_COMPATIBLE[blob.role], "multiboot,module"))
    if uefi:
        node.add("xen,uefi-binary", blob.file)
    else:
        node.add("reg", reg(Region(blob.address, blob.size)))
    if bootargs:
        node.add("bootargs", bootargs)
    return node


class _Builder:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.system = plan.system
        self.uefi = plan.system.boot.format == "uefi"
        self.next_phandle = plan.host.max_phandle + 1
        self.host_edits: list[HostEdit] = []
        self.chosen_cells = (ADDRESS_CELLS, SIZE_CELLS)
        self.pool_phandles: dict[str, int] = {}
        #: (domain, local port) -> phandle of that end's node
        self.channel_phandles: dict[tuple[str, int], int] = {}
        self.shm_regions = {s.id: s for s in self.system.shared_memory}
        #: Regions some domain owns; their other users are borrowers
        self.shm_owned = {
            use.id
            for domain in self.system.domains
            for use in domain.shared_memory
            if use.role == "owner"
        }

    def phandle(self) -> int:
        value = self.next_phandle
        if value >= CELL_MAX:  # 0xffffffff is no phandle (libfdt's -1)
            raise InputFileError(
                Problem(
                    f"the board's highest phandle {self.plan.host.max_phandle:#x} leaves no "
                    "room for the ones dom0less adds (cpupools, event channels): renumber "
                    "the board's phandles with dtc",
                    self.plan.host.origin,
                )
            )
        self.next_phandle += 1
        return value

    def tree(self) -> ChosenTree:
        props = [Prop("xen,xen-bootargs", self.plan.xen_bootargs)]
        if self.plan.dom0 is not None or self.plan.xsm_policy is not None:
            # modules directly under /chosen: give it cell counts of its own
            props[:0] = [
                Prop("#address-cells", (ADDRESS_CELLS,)),
                Prop("#size-cells", (SIZE_CELLS,)),
            ]
            self.chosen_cells = (ADDRESS_CELLS, SIZE_CELLS)
        else:  # left alone, /chosen inherits (dtc warns about unused cell counts)
            self.chosen_cells = self.plan.host.inherited_cells("/chosen")
        heap = self.system.xen.static_heap
        if heap:
            root_address, root_size = self.plan.host.cells("/")
            props.append(
                Prop(
                    "xen,static-heap",
                    tuple(
                        c
                        for r in heap
                        for c in cells(r.address, root_address) + cells(r.size, root_size)
                    ),
                )
            )
        nodes: list[Node] = []
        if self.plan.xsm_policy is not None:
            nodes.append(module_node(self.plan.xsm_policy, uefi=self.uefi))
        if self.plan.dom0 is not None:
            nodes += self.module_nodes(self.plan.dom0, self.system.dom0.cmdline)
        nodes += [
            self.cpupool(pool.name, pool.cpus, pool.scheduler) for pool in self.system.cpupools
        ]
        self.allocate_channel_phandles()
        nodes += [self.domain(d) for d in self.system.domains]
        self.host_edits += self.memory_edits()
        for path in self.system.host.disable:
            self.host_edits.append(HostEdit(path, Prop("status", "disabled")))
        for domain in self.system.domains:
            self.host_edits += [HostEdit(p, Prop("xen,passthrough")) for p in domain.passthrough]
        return ChosenTree(chosen_props=props, nodes=nodes, host_edits=self.host_edits)

    def memory_edits(self) -> list[HostEdit]:
        """host.memory written into the tree for Xen: all banks in the first memory node.

        Any other memory node is emptied (Xen skips banks of size 0); a tree without
        one is refused by validation before this runs.
        """
        banks = self.system.host.memory
        nodes = self.plan.host.memory_nodes
        if not banks or not nodes:
            return []
        address_cells, size_cells = self.plan.host.cells("/")
        largest = (1 << (32 * size_cells)) - XEN_PAGE  # a bank too big for the size cells is split
        pieces = [
            Region(start, min(largest, r.end - start))
            for r in banks
            for start in range(r.address, r.end, largest)
        ]
        value = tuple(c for r in pieces for c in reg(r, address_cells, size_cells))
        empty = reg(Region(0, 0), address_cells, size_cells)
        edits = [HostEdit(nodes[0], Prop("reg", value))]
        return edits + [HostEdit(path, Prop("reg", empty)) for path in nodes[1:]]

    def module_nodes(self, modules: Modules, cmdline: str) -> list[Node]:
        nodes = [module_node(modules.kernel, cmdline, self.uefi)]
        nodes += [
            module_node(b, uefi=self.uefi) for b in (modules.ramdisk, modules.device_tree) if b
        ]
        return nodes

    def cpupool(self, name: str, cpus: tuple, scheduler: Optional[str]) -> Node:
        phandles = []
        for cpu in cpus:  # validation guarantees each CPU exists and is in one pool
            known = self.plan.host.cpu(cpu)
            assert known is not None
            if known.phandle is None:
                value = self.phandle()
                self.host_edits.append(HostEdit(known.path, Prop("phandle", (value,))))
                phandles.append(value)
            else:
                phandles.append(known.phandle)
        value = self.phandle()
        self.pool_phandles[name] = value
        node = Node(f"cpupool-{name}").add("compatible", "xen,cpupool")
        node.add("cpupool-cpus", tuple(phandles))
        if scheduler:
            node.add("cpupool-sched", scheduler)
        return node.add("phandle", (value,))

    def allocate_channel_phandles(self) -> None:
        for domain in self.system.domains:
            for channel in domain.event_channels:
                self.channel_phandles[(domain.name, channel.port)] = self.phandle()
                self.channel_phandles[(channel.peer, channel.peer_port)] = self.phandle()

    def domain(self, domain: Domain) -> Node:
        node = Node(domain.name)
        node.add("compatible", "xen,domain")
        node.add("#address-cells", (ADDRESS_CELLS,)).add("#size-cells", (SIZE_CELLS,))
        node.add("memory", cells(domain.ram // 1024, 2))
        node.add("cpus", (domain.vcpus,))
        if domain.vpl011:
            node.add("vpl011")
        self.optional_props(node, domain)
        modules = self.plan.domains[domain.name]
        node.children += self.module_nodes(modules, domain.cmdline)
        node.children += self.channel_nodes(domain)
        node.children += self.shared_memory_nodes(domain)
        node.children += [
            Node(f"vcpu{vcpu}")
            .add("compatible", "xen,vcpu")
            .add("id", (vcpu,))
            .add("hard-affinity", cpus)
            for vcpu, cpus in domain.vcpu_affinity
        ]
        return node

    def optional_props(self, node: Node, domain: Domain) -> None:
        if domain.static_memory:  # Xen reads these with /chosen's cell counts
            node.add(
                "xen,static-mem",
                tuple(c for r in domain.static_memory for c in reg(r, *self.chosen_cells)),
            )
        if domain.direct_map:
            node.add("direct-map")
        if domain.cpupool:
            node.add("domain-cpupool", (self.pool_phandles[domain.cpupool],))
        xenstore = domain.xenstore
        if xenstore is None and self.has_channels(domain):
            xenstore = "no-xenstore"  # booting.txt: event channels need the PV interface
        if xenstore is not None:
            node.add("xen,enhanced", xenstore)
        numbers = {"nr_spis": domain.nr_spis, "xen,domain-p2m-mem-mb": domain.p2m_mem_mb}
        if domain.grant is not None:
            numbers.update(
                {
                    "max_grant_version": domain.grant.version,
                    "max_grant_frames": domain.grant.frames,
                    "max_maptrack_frames": domain.grant.maptrack_frames,
                }
            )
        if domain.trap_unmapped_accesses is not None:
            numbers["trap-unmapped-accesses"] = int(domain.trap_unmapped_accesses)
        if domain.capabilities:
            numbers["capabilities"] = sum(CAPABILITY_BITS[c] for c in domain.capabilities)
        for name, value in numbers.items():
            if value is not None:
                node.add(name, (value,))
        if domain.sve is True:
            node.add("sve")
        elif domain.sve:
            node.add("sve", (int(domain.sve),))
        if domain.iommu is not None:
            node.add("passthrough", "enabled" if domain.iommu else "disabled")
        if domain.llc_colors:
            node.add("llc-colors", domain.llc_colors)
        if domain.sci_type is not None:
            node.add("xen,sci_type", domain.sci_type)
        if domain.v8r_el1_msa is not None:
            node.add("v8r_el1_msa", domain.v8r_el1_msa)

    def has_channels(self, domain: Domain) -> bool:
        return any(name == domain.name for name, _port in self.channel_phandles)

    def channel_nodes(self, domain: Domain) -> list[Node]:
        ends = []
        for other in self.system.domains:
            for channel in other.event_channels:
                if other.name == domain.name:
                    ends.append((channel.port, channel.peer, channel.peer_port))
                elif channel.peer == domain.name:
                    ends.append((channel.peer_port, other.name, channel.port))
        nodes = []
        for port, peer, peer_port in sorted(ends):
            node = Node(f"evtchn@{port}").add("compatible", "xen,evtchn-v1")
            node.add("xen,evtchn", (port, self.channel_phandles[(peer, peer_port)]))
            nodes.append(node.add("phandle", (self.channel_phandles[(domain.name, port)],)))
        return nodes

    def shared_memory_nodes(self, domain: Domain) -> list[Node]:
        """One node per region the domain maps.

        A user without a role is a borrower of DOMID_IO to Xen, so when another
        domain owns the region, such a user must say "borrower" explicitly or
        Xen fails to assign pages the owner already holds.
        """
        nodes = []
        for use in domain.shared_memory:
            region = self.shm_regions[use.id]
            node = Node(f"shm@{use.guest_address:x}")
            node.add("compatible", "xen,domain-shared-memory-v1")
            node.add("xen,shm-id", region.id)
            layout = cells(use.guest_address, ADDRESS_CELLS) + cells(region.size, SIZE_CELLS)
            if region.host_address is not None:
                layout = cells(region.host_address, ADDRESS_CELLS) + layout
            node.add("xen,shared-mem", layout)
            role = use.role or ("borrower" if use.id in self.shm_owned else None)
            if role:
                node.add("role", role)
            nodes.append(node)
        return nodes
