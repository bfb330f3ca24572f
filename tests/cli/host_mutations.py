"""Semantic mutations of QEMU's virt tree, and whether Xen could boot on the result.

A mutation changes what the tree says about the board (interrupt controller, RAM,
console, CPUs, PSCI, timer) the way a wrong or hand-edited DTB does, keeping it
well formed. ``xen_faults`` reads the result as Xen's boot code does (xen/arch/arm
and xen/common/device-tree of 4.20 and 4.22; the function each step follows is
named) and says why Xen would panic, hang, run silent or run without RAM or CPUs the
tree declares. It is written here from Xen's sources and never calls the product:
bench/fuzz.py --host-trees counts the trees the product builds although this
finds a fault (there must be none).

Left out on purpose: the boot CPU's own MPIDR (a fact of the silicon, not the tree),
so the first CPU node's reg is not mutated; interrupt-map nexus nodes.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable, Optional

import fdt
import yaml

from xen_dom0less.generator.hostdt import prop_bytes as raw

from ..conftest import EXAMPLES, QEMU_DTB
from .fuzz_cases import Case, Draw

#: Xen's drivers for QEMU's PL011 by release (pl011.c DT_MATCH_COMPATIBLE)
PL011 = {"4.17": ("arm,pl011",), "4.18": ("arm,pl011", "arm,sbsa-uart")}
GICS = {"arm,gic-v3": 3, "arm,gic-400": 2, "arm,cortex-a15-gic": 2, "arm,cortex-a7-gic": 2}
MPIDR_HWID_MASK = 0xFF00FFFFFF
PAGE = 4096


class XenView:
    """The tree as Xen's unflattened device tree: nodes in order, by path and phandle."""

    def __init__(self, data: bytes):
        tree = fdt.parse_dtb(data)
        self.order: list[str] = []
        self.nodes: dict[str, fdt.Node] = {}
        self.parent: dict[str, Optional[str]] = {"/": None}

        def visit(node: fdt.Node, path: str) -> None:
            self.order.append(path)
            self.nodes[path] = node
            for child in node.nodes:
                child_path = f"{path.rstrip('/')}/{child.name}"
                self.parent[child_path] = path
                visit(child, child_path)

        visit(tree.root, "/")
        self.by_phandle = {}
        for path in self.order:
            value = self.cells(path, "phandle")
            if value:
                self.by_phandle.setdefault(value[0], path)

    def prop(self, path: Optional[str], name: str) -> Optional[bytes]:
        if path is None or path not in self.nodes:
            return None
        found = self.nodes[path].get_property(name)
        return None if found is None else raw(found)

    def cells(self, path: Optional[str], name: str) -> Optional[list[int]]:
        value = self.prop(path, name)
        if value is None:
            return None
        return list(struct.unpack(f">{len(value) // 4}I", value[: len(value) // 4 * 4]))

    def u32(self, path: Optional[str], name: str) -> Optional[int]:
        """dt_property_read_u32: the first cell, if the property holds one."""
        value = self.prop(path, name)
        return struct.unpack(">I", value[:4])[0] if value is not None and len(value) >= 4 else None

    def string(self, path: Optional[str], name: str) -> Optional[str]:
        """dt_property_read_string: a non-empty, NUL-terminated value."""
        value = self.prop(path, name)
        if not value or b"\0" not in value:
            return None
        return value.split(b"\0", 1)[0].decode(errors="replace")

    def strings(self, path: Optional[str], name: str) -> list[str]:
        value = self.prop(path, name) or b""
        return [s.decode(errors="replace") for s in value.split(b"\0")[:-1]]

    def available(self, path: str) -> bool:
        """dt_device_is_available: no status, or "okay" / "ok"."""
        status = self.prop(path, "status")
        return status is None or status.split(b"\0", 1)[0] in (b"okay", b"ok")

    def first(self, compatibles: tuple[str, ...]) -> Optional[str]:
        """dt_find_matching_node from the root: status is not looked at."""
        return next(
            (p for p in self.order if set(self.strings(p, "compatible")) & set(compatibles)), None
        )

    def n_cells(self, path: str, name: str, default: int) -> int:
        """dt_n_addr_cells / dt_n_size_cells: from the parent up to the root."""
        node = self.parent.get(path)
        while node is not None:
            value = self.u32(node, name)
            if value is not None:
                return value
            node = self.parent.get(node)
        return default

    def reg_count(self, path: str) -> int:
        cells = self.n_cells(path, "#address-cells", 2) + self.n_cells(path, "#size-cells", 1)
        return len(self.cells(path, "reg") or []) // cells if cells else 0

    def reg_address(self, path: str, index: int) -> int:
        address_cells = self.n_cells(path, "#address-cells", 2)
        step = address_cells + self.n_cells(path, "#size-cells", 1)
        words = (self.cells(path, "reg") or [])[index * step : index * step + address_cells]
        value = 0
        for word in words:
            value = (value << 32) | word
        return value

    def irq_parent(self, path: str) -> Optional[str]:
        """dt_irq_find_parent: up by interrupt-parent or the tree until #interrupt-cells;
        None also where Xen would loop for ever (its walk has no end on a cycle)."""
        seen: set[str] = set()
        node: Optional[str] = path
        while True:
            phandle = self.cells(node, "interrupt-parent")
            node = self.by_phandle.get(phandle[0]) if phandle else self.parent.get(node)
            if node is None or self.prop(node, "#interrupt-cells") is not None:
                return node
            if node in seen:
                return None
            seen.add(node)

    def irq(self, path: str, index: int, gic: str) -> bool:
        """platform_get_irq: interrupt ``index`` translated by Xen's GIC (dt_device_get_raw_irq,
        dt_irq_map_raw, dt_irq_translate, gic_irq_xlate)."""
        extended = self.cells(path, "interrupts-extended")
        if extended is not None:
            at, count = 0, 0
            while at < len(extended):
                controller = self.by_phandle.get(extended[at])
                width = self.u32(controller, "#interrupt-cells")
                if width is None or at + 1 + width > len(extended):
                    return False
                if count == index:
                    return controller == gic and self._intc(controller) and width >= 3
                at, count = at + 1 + width, count + 1
            return False
        specifier = self.cells(path, "interrupts")
        if specifier is None:
            return False
        parent = self.irq_parent(path)
        width = self.u32(parent, "#interrupt-cells")
        if parent is None or width is None or (index + 1) * width > len(specifier):
            return False
        return parent == gic and self._intc(parent) and width >= 3

    def _intc(self, path: str) -> bool:
        return self.prop(path, "interrupt-controller") is not None


def xen_faults(data: bytes, version: str) -> list[str]:
    """Why Xen ``version`` could not boot as the tree describes the board; empty if it could."""
    view = XenView(data)
    faults = memory_faults(view)
    gic = first_gic(view)
    if gic is None:
        return [*faults, "intc_dt_preinit: no interrupt controller (panic)"]
    faults += gic_faults(view, gic)
    faults += timer_faults(view, gic, version)
    faults += cpu_faults(view)
    faults += console_faults(view, gic, version)
    return faults


def memory_faults(view: XenView) -> list[str]:
    """early_scan_node / device_tree_get_meminfo over depth-1 memory nodes."""
    address_cells = view.u32("/", "#address-cells")
    size_cells = view.u32("/", "#size-cells")
    address_cells = 2 if address_cells is None else address_cells
    size_cells = 1 if size_cells is None else size_cells
    faults, banks = [], []
    for path in view.order[1:]:
        if view.parent[path] != "/" or view.string(path, "device_type") != "memory":
            continue
        name = view.nodes[path].name
        if name != "memory" and not name.startswith("memory@"):
            faults.append(f"{path}: RAM Xen never reads (name)")
            continue
        if not view.available(path):
            faults.append(f"{path}: RAM Xen skips (status)")
            continue
        if address_cells < 1 or size_cells < 1:
            faults.append("early FDT parsing failed: root cells (panic)")
            continue
        reg = view.cells(path, "reg")
        if reg is None:
            faults.append(f"{path}: no reg: early FDT parsing failed (panic)")
            continue
        step = address_cells + size_cells
        for at in range(0, len(reg) - step + 1, step):
            start = int.from_bytes(
                b"".join(struct.pack(">I", w) for w in reg[at : at + address_cells]), "big"
            )
            size = int.from_bytes(
                b"".join(struct.pack(">I", w) for w in reg[at + address_cells : at + step]), "big"
            )
            if not size:
                continue
            if any(start < s + z and s < start + size for s, z in banks):
                faults.append(f"{path}: bank {start:#x}+{size:#x} counted twice")
            banks.append((start, size))
    if not banks:
        faults.append("no memory bank (panic)")
    return faults


def first_gic(view: XenView) -> Optional[str]:
    """intc_dt_preinit: the first node below the root with interrupt-controller that
    device_init sets up as a GIC."""
    for path in view.order[1:]:
        if view.prop(path, "interrupt-controller") is None:
            continue
        if not view.available(path) or view.prop(path, "xen,passthrough") is not None:
            continue
        if any(c in GICS for c in view.strings(path, "compatible")):
            return path
    return None


def gic_faults(view: XenView, gic: str) -> list[str]:
    """gicv2_dt_init / gicv3_dt_init and their alignment checks."""
    version = next(GICS[c] for c in view.strings(gic, "compatible") if c in GICS)
    faults = []
    if version == 2:
        needed, aligned = 4, range(4)
    else:
        needed, aligned = 1 + (view.u32(gic, "#redistributor-regions") or 1), range(1)
    if view.reg_count(gic) < needed:
        faults.append(f"GICv{version}: cannot find a valid address (panic)")
    elif any(view.reg_address(gic, i) % PAGE for i in aligned):
        faults.append(f"GICv{version}: not page aligned (panic)")
    if not view.irq(gic, 0, gic):
        faults.append(f"GICv{version}: cannot find the maintenance IRQ (panic)")
    return faults


def timer_faults(view: XenView, gic: str, version: str) -> list[str]:
    """preinit_dt_xen_time / init_dt_xen_time: from 4.20 the interrupts by interrupt-names;
    4.17 takes the first four by position, so names in another order mean wrong PPIs."""
    timer = view.first(("arm,armv7-timer", "arm,armv8-timer"))
    if timer is None:
        return ["unable to find a compatible timer (panic)"]
    faults = []
    rate = view.u32(timer, "clock-frequency")
    if rate is not None and (rate + 500) // 1000 == 0:
        faults.append("timer frequency is less than 1 KHz (panic)")
    has_names = view.prop(timer, "interrupt-names") is not None
    names = view.strings(timer, "interrupt-names")
    roles = ("sec-phys", "phys", "virt", "hyp-phys")
    if version == "4.17":
        if has_names and names[:4] != list(roles):
            faults.append("timer: interrupts taken by position are not the named ones (hang)")
        has_names = False
    for index, name in enumerate(roles):
        where = (names.index(name) if name in names else -1) if has_names else index
        if where < 0 or not view.irq(timer, where, gic):
            faults.append(f"timer: unable to retrieve IRQ {index} (panic)")
    return faults


def psci_ready(view: XenView) -> bool:
    """psci_init: PSCI 0.2/1.0 by smc, else PSCI 0.1 by smc with cpu_on."""
    node = view.first(("arm,psci-0.2", "arm,psci-1.0"))
    if node is not None and view.string(node, "method") == "smc":
        return True
    node = view.first(("arm,psci",))
    return (
        node is not None
        and view.string(node, "method") == "smc"
        and view.u32(node, "cpu_on") is not None
    )


def cpu_faults(view: XenView) -> list[str]:
    """dt_smp_init_cpus / dt_arch_cpu_init; the boot CPU's MPIDR is QEMU's first, 0."""
    if "/cpus" not in view.nodes:
        return ["no /cpus: only 1 CPU"]
    cpus = [
        p
        for p in view.order
        if view.parent.get(p) == "/cpus" and view.string(p, "device_type") == "cpu"
    ]
    if not cpus:
        return ["no CPU nodes: only 1 CPU"]
    faults, seen = [], set()
    cells = view.n_cells(cpus[0], "#address-cells", 2)
    for path in cpus:
        reg = view.cells(path, "reg")
        if reg is None or len(view.prop(path, "reg") or b"") < 4 * cells:
            faults.append(f"{path}: reg too short: CPU skipped")
            continue
        hwid = 0
        for word in reg[:cells]:
            hwid = ((hwid << 32) | word) % (1 << 64)
        if hwid & ~MPIDR_HWID_MASK or hwid in seen:
            faults.append(f"{path}: invalid or duplicate hwid: CPU skipped")
            continue
        seen.add(hwid)
        if hwid == 0:
            continue  # the boot CPU: already running
        method = view.prop(path, "enable-method")
        method_name = method.split(b"\0", 1)[0] if method is not None else None
        if method_name == b"spin-table":
            release = view.prop(path, "cpu-release-addr")
            if release is None or len(release) < 8 or not int.from_bytes(release[:8], "big"):
                faults.append(f"{path}: no release addr: CPU stays off")
        elif method_name == b"psci":
            if not psci_ready(view):
                faults.append(f"{path}: PSCI not initialised: CPU stays off")
        else:
            faults.append(f"{path}: no or unknown enable method: CPU stays off")
    if 0 not in seen:
        faults.append("boot CPU MPIDR missing: only 1 CPU")
    return faults


def console_faults(view: XenView, gic: str, version: str) -> list[str]:
    """dt_uart_init from /chosen stdout-path, device_init, pl011_dt_uart_init."""
    value = view.string("/chosen", "stdout-path")
    if value is None:
        return ["no dtuart path: no console"]
    name = value.split(":", 1)[0]
    path = name if name.startswith("/") else view.string("/aliases", name)
    if path is None or path not in view.nodes:
        return [f"dtuart {name} not found: no console"]
    if not view.available(path) or view.prop(path, "xen,passthrough") is not None:
        return [f"{path}: device_init -ENODEV: no console"]
    drivers = PL011["4.18" if tuple(map(int, version.split("."))) >= (4, 18) else "4.17"]
    if not set(view.strings(path, "compatible")) & set(drivers):
        return [f"{path}: no driver: no console"]
    if view.reg_count(path) < 1:
        return [f"{path}: pl011 unable to retrieve the base address: no console"]
    if not view.irq(path, 0, gic):
        return [f"{path}: pl011 unable to retrieve the IRQ: no console"]
    return []


# --- mutations: each edits the parsed tree and says what it did ----------------------------

GIC_PATH, MEMORY, UART, TIMER, PSCI = (
    "/intc@8000000",
    "/memory@40000000",
    "/pl011@9000000",
    "/timer",
    "/psci",
)
GIB = 0x40000000


def kinds(text: str) -> list[str]:
    """The kinds of a mutation, written as one string of words."""
    return text.split()


def _set(tree: fdt.FDT, path: str, name: str, value) -> None:
    tree.set_property(name, value, path=path)


def _drop(tree: fdt.FDT, path: str, name: str) -> None:
    node = tree.get_node(path)
    if node.get_property(name) is not None:
        node.remove_property(name)


def _pairs(*regions: tuple[int, int]) -> list[int]:
    return [w for a, s in regions for w in (a >> 32, a & 0xFFFFFFFF, s >> 32, s & 0xFFFFFFFF)]


def gic_edit(draw: Draw, tree: fdt.FDT) -> str:
    how = draw.pick(
        kinds(
            "remove disable status-ok compatible no-interrupt-controller "
            "passthrough reg-short reg-unaligned no-interrupts interrupt-cells "
            "redistributor-regions gicv2 decoy-before"
        )
    )
    if how == "remove":
        tree.remove_node("intc@8000000", "/")
    elif how == "disable":
        _set(tree, GIC_PATH, "status", draw.pick(["disabled", "fail", "reserved"]))
    elif how == "status-ok":
        _set(tree, GIC_PATH, "status", draw.pick(["okay", "ok"]))
    elif how == "compatible":
        compatible = draw.pick(["arm,cortex-a9-gic", "arm,gic-v4", "arm,gic-400", "qcom,msm-qgic2"])
        _set(tree, GIC_PATH, "compatible", compatible)
        return f"GIC compatible {compatible}"
    elif how == "no-interrupt-controller":
        _drop(tree, GIC_PATH, "interrupt-controller")
    elif how == "passthrough":
        _set(tree, GIC_PATH, "xen,passthrough", None)
    elif how == "reg-short":
        _set(tree, GIC_PATH, "reg", _pairs((0x8000000, 0x10000)))
    elif how == "reg-unaligned":
        _set(
            tree,
            GIC_PATH,
            "reg",
            _pairs((0x8000000 + draw.pick([4, 0x800]), 0x10000), (0x80A0000, 0xF60000)),
        )
    elif how == "no-interrupts":
        _drop(tree, GIC_PATH, "interrupts")
    elif how == "interrupt-cells":
        _set(tree, GIC_PATH, "#interrupt-cells", draw.pick([1, 2, 4]))
    elif how == "redistributor-regions":
        _set(tree, GIC_PATH, "#redistributor-regions", draw.pick([1, 2, 3]))
    elif how == "gicv2":
        _set(tree, GIC_PATH, "compatible", draw.pick(["arm,cortex-a15-gic", "arm,gic-400"]))
        regions = [
            (0x8000000, 0x10000),
            (0x8010000, 0x10000),
            (0x8030000, 0x10000),
            (0x8040000, 0x10000),
        ]
        _set(tree, GIC_PATH, "reg", _pairs(*regions[: draw.pick([4, 4, 3, 2])]))
    elif how == "decoy-before":  # another interrupt controller earlier in the tree
        if not tree.exist_node("/decoy-intc@1000"):
            tree.root.nodes.insert(0, fdt.Node("decoy-intc@1000"))
        _set(tree, "/decoy-intc@1000", "interrupt-controller", None)
        _set(tree, "/decoy-intc@1000", "#interrupt-cells", 2)
        _set(
            tree,
            "/decoy-intc@1000",
            "compatible",
            draw.pick(["vendor,gpio-intc", "arm,gic-v3", "arm,gic-400"]),
        )
        if draw.number(0, 1):
            _set(tree, "/decoy-intc@1000", "status", "disabled")
    return f"GIC {how}"


def memory_edit(draw: Draw, tree: fdt.FDT) -> str:
    how = draw.pick(
        kinds(
            "repeat inside overlap-end adjacent second-node rename disable-second "
            "no-reg-second zero-bank"
        )
    )
    if how == "repeat":
        _set(tree, MEMORY, "reg", _pairs((GIB, 2 * GIB), (GIB, 2 * GIB)))
    elif how == "inside":
        _set(tree, MEMORY, "reg", _pairs((GIB, 2 * GIB), (0x50000000, 0x10000000)))
    elif how == "overlap-end":
        _set(tree, MEMORY, "reg", _pairs((GIB, GIB), (GIB + GIB - 0x1000, GIB)))
    elif how == "adjacent":
        _set(tree, MEMORY, "reg", _pairs((GIB, GIB), (2 * GIB, GIB)))
    elif how == "zero-bank":
        _set(tree, MEMORY, "reg", _pairs((GIB, 2 * GIB), (0x100000000, 0)))
    elif how == "rename":
        tree.get_node(MEMORY).set_name(
            draw.pick(["ram@40000000", "memory-bank@40000000", "memory"])
        )
    else:
        address = draw.pick([0x80000000, 0xC0000000, 0x100000000])
        path = f"/memory@{address:x}"
        if not tree.exist_node(path):
            tree.root.nodes.append(fdt.Node(path[1:]))
        _set(tree, path, "device_type", "memory")
        if how != "no-reg-second":
            _set(tree, path, "reg", _pairs((address, GIB)))
        if how == "disable-second":
            _set(tree, path, "status", "disabled")
    return f"memory {how}"


def console_edit(draw: Draw, tree: fdt.FDT) -> str:
    how = draw.pick(
        kinds(
            "status compatible remove path alias no-reg no-interrupts passthrough interrupt-parent"
        )
    )
    if how == "status":
        value = draw.pick(["disabled", "okay", "ok", "fail"])
        _set(tree, UART, "status", value)
        return f"console status {value}"
    if how == "compatible":
        value = draw.pick(["arm,sbsa-uart", "arm,pl011", "vendor,uart", "arm,primecell"])
        _set(tree, UART, "compatible", value)
        return f"console compatible {value}"
    if how == "remove":
        tree.remove_node("pl011@9000000", "/")
    elif how == "path":
        _set(
            tree,
            "/chosen",
            "stdout-path",
            draw.pick(["/pl011@9000001", "/pl011@9000000:115200n8", "/"]),
        )
    elif how == "alias":
        if draw.number(0, 1):
            if not tree.exist_node("/aliases"):
                tree.root.nodes.append(fdt.Node("aliases"))
            _set(tree, "/aliases", "serial0", UART)
        _set(tree, "/chosen", "stdout-path", "serial0:115200n8")
    elif how == "no-reg":
        _drop(tree, UART, "reg")
    elif how == "no-interrupts":
        _drop(tree, UART, "interrupts")
    elif how == "passthrough":
        _set(tree, UART, "xen,passthrough", None)
    elif how == "interrupt-parent":  # wired to the GPIO controller instead
        phandle = tree.get_node("/pl061@9030000").get_property("phandle")
        if phandle is not None:
            _set(tree, UART, "interrupt-parent", list(phandle.data))
    return f"console {how}"


def cpu_edit(draw: Draw, tree: fdt.FDT) -> str:
    cpu = f"/cpus/cpu@{draw.number(1, 3)}"
    how = draw.pick(
        kinds(
            "no-method method spin-table no-reg duplicate not-mpidr cells "
            "psci-remove psci-method psci-0.1 boot-no-method"
        )
    )
    if how == "no-method":
        _drop(tree, cpu, "enable-method")
    elif how == "boot-no-method":
        _drop(tree, "/cpus/cpu@0", "enable-method")
    elif how == "method":
        _set(tree, cpu, "enable-method", draw.pick(["arm,rpi-spin", "PSCI", "spin-table,psci"]))
    elif how == "spin-table":
        _set(tree, cpu, "enable-method", "spin-table")
        release = draw.pick([None, [0x400000F8], [0, 0x400000F8], [0, 0]])
        if release is not None:
            _set(tree, cpu, "cpu-release-addr", release)
    elif how == "no-reg":
        _drop(tree, cpu, "reg")
    elif how == "duplicate":
        _set(tree, cpu, "reg", draw.number(0, 3))
    elif how == "not-mpidr":
        _set(tree, cpu, "reg", draw.pick([0x1000001, 0x100, 0x10000]))
    elif how == "cells":
        _set(tree, "/cpus", "#address-cells", draw.pick([0, 1, 2]))
    elif how == "psci-remove":
        tree.remove_node("psci", "/")
    elif how == "psci-method":
        _set(tree, PSCI, "method", draw.pick(["hvc", "smc", "SMC"]))
    elif how == "psci-0.1":
        _set(tree, PSCI, "compatible", "arm,psci")
        if draw.number(0, 1):
            _drop(tree, PSCI, "cpu_on")
    return f"CPU {how} ({cpu})"


def timer_edit(draw: Draw, tree: fdt.FDT) -> str:
    how = draw.pick(
        kinds("remove compatible frequency three names names-missing names-permuted parent")
    )
    if how == "remove":
        tree.remove_node("timer", "/")
    elif how == "compatible":
        _set(
            tree,
            TIMER,
            "compatible",
            draw.pick(["arm,armv7-timer", "arm,armv8-timer", "arm,arch-timer"]),
        )
    elif how == "frequency":
        _set(tree, TIMER, "clock-frequency", draw.pick([0, 100, 499, 500, 62500000]))
    elif how == "three":
        _set(tree, TIMER, "interrupts", [1, 13, 4, 1, 14, 4, 1, 11, 4])
    elif how == "names":
        _set(tree, TIMER, "interrupt-names", ["sec-phys", "phys", "virt", "hyp-phys"])
    elif how == "names-permuted":  # right on 4.20+, wrong PPIs where names are ignored
        _set(tree, TIMER, "interrupts", [1, 10, 4, 1, 11, 4, 1, 14, 4, 1, 13, 4])
        _set(tree, TIMER, "interrupt-names", ["hyp-phys", "virt", "phys", "sec-phys"])
    elif how == "names-missing":
        _set(tree, TIMER, "interrupt-names", ["sec-phys", "phys", "hyp-virt", "hyp-phys"])
    elif how == "parent":
        _set(tree, TIMER, "interrupt-parent", 0x7FFF)  # no such phandle
    return f"timer {how}"


MUTATIONS: list[Callable[[Draw, fdt.FDT], str]] = [
    gic_edit,
    memory_edit,
    console_edit,
    cpu_edit,
    timer_edit,
]


def mutated_tree(draw: Draw, source: Path) -> tuple[bytes, list[str]]:
    """QEMU's tree with one to three semantic mutations, and what they were."""
    tree = fdt.parse_dtb(source.read_bytes())
    steps = []
    for _ in range(draw.number(1, 3)):
        mutation = draw.pick(MUTATIONS)
        try:
            steps.append(mutation(draw, tree))
        except (ValueError, AttributeError) as error:  # the node is gone already
            steps.append(f"{mutation.__name__} skipped ({error})")
    return tree.to_dtb(version=17), steps


#: Xen releases a case targets (their drivers differ: arm,sbsa-uart from 4.18)
VERSIONS = ["4.17", "4.20", "4.22"]


def make_host_case(draw: Draw, work: Path, inputs: Path) -> tuple[Case, list[str]]:
    """``build`` of the dom0less example on a mutated QEMU tree, and Xen's faults on it."""
    data, steps = mutated_tree(draw, QEMU_DTB)
    version = draw.pick(VERSIONS)
    dtb = work / "board.dtb"
    dtb.write_bytes(data)
    document = yaml.safe_load((EXAMPLES / "qemu-dom0less.yaml").read_text())
    document["host"]["dtb"] = str(dtb)
    document["xen"]["version"] = version
    description = work / "system.yaml"
    description.write_text(yaml.safe_dump(document, sort_keys=False))
    environ = {"DOM0LESS_INPUTS": str(inputs), "SOURCE_DATE_EPOCH": "1700000000"}
    argv = ["build", str(description), "-o", str(work / "out")]
    case = Case(argv, environ, [f"Xen {version}", *steps])
    return case, xen_faults(data, version)
