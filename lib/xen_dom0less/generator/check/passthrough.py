"""Passed-through devices checked: the host's nodes a guest may have, and a partial tree a
user wrote, by the rules the generated one follows.

Xen checks almost none of it (a node without ``xen,reg`` is copied and nothing is mapped),
so every reason a device cannot go to a guest is found here, with the way out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from ... import files
from ...errors import Problems
from ...units import XEN_PAGE, KiB, combine_cells, hexaddr
from ..facts import xen_versions
from ..hostdt import HostTree
from ..model import Domain, Region, System
from ..plan import Modules
from ..read.devices import GUEST_GIC_PHANDLE, PARTIAL_GIC_PHANDLE, HostDevice, pages

#: Largest partial tree read back for checking (Xen's MAX_FDT_SIZE)
MAX_PARTIAL = 2 * 1024 * KiB


def check_devices(domain: Domain, host: HostTree, problems: Problems) -> None:
    """Refuse, with the reason and the override, each device a guest cannot have."""
    for index, device in enumerate(domain.devices):
        if not host.has_node(device.path):
            continue  # domain_rules.passthrough_path names the missing node
        where = f"{domain.key}.passthrough[{index}]"
        for reason in HostDevice(host, device).refusals():
            problems.add(where, f"{device.path} {reason}")
        if device.guest_address is not None and device.guest_address % XEN_PAGE:
            problems.add(f"{where}.guest_address", "must be 4 KiB aligned (Xen maps pages)")


def check_given_trees(
    system: System, host: HostTree, modules: Mapping[str, Modules], problems: Problems
) -> None:
    """Each device_tree the user gave, checked by the rules the generated ones follow."""
    for domain in system.domains:
        found = modules.get(domain.name)
        blob = found.device_tree if found is not None else None
        if domain.device_tree is None or blob is None:
            continue
        where = f"{domain.key}.device_tree"
        try:
            data = blob.data or files.read(domain.device_tree, MAX_PARTIAL, "a partial tree")
        except files.UnusableFile as error:
            problems.add(where, str(error))
            continue
        check_partial(domain, data, host, where, problems, system.xen.version)


# -- a partial device tree the user wrote --------------------------------------------------


def check_partial(
    domain: Domain, data: bytes, host: HostTree, where: str, problems: Problems, version: str
) -> None:
    """The user's partial tree, by the rules the generated one follows."""
    try:
        partial = HostTree(data, where)
    except Exception as error:  # parse() raises UserError with its own text
        problems.add(where, str(error))
        return
    _check_phandles(partial, where, problems, version)
    if not partial.has_node("/passthrough"):
        if domain.devices:
            problems.add(
                where,
                "has no /passthrough node, so Xen maps none of the passed-through devices "
                "(it reads only /gic, /aliases and /passthrough): put the devices there, "
                "or leave device_tree out to have it generated",
            )
        return
    gic = partial.words("/gic", "phandle")
    if partial.words("/passthrough", "ranges") is None:
        problems.add(where, "/passthrough has no ranges: the guest cannot map its children")
    cells = partial.cells("/passthrough")
    mapped: set[str] = set()
    for path, node in _children(partial, "/passthrough"):
        at = f"{where} {path}"
        names = {p.name for p in node.props}
        if "xen,reg" not in names and "xen,path" not in names:
            if "reg" in names and "fixed-clock" not in partial.strings(path, "compatible"):
                problems.add(
                    at,
                    "has reg but no xen,reg and xen,path: Xen copies it into the guest and "
                    "maps nothing; add both (xen,reg = <host-address size guest-address>)",
                )
            continue
        host_path = partial.string(path, "xen,path")
        if "xen,reg" not in names or host_path is None:
            missing = "xen,path" if host_path is None else "xen,reg"
            problems.add(at, f"has no {missing}: Xen maps nothing for it; add {missing}")
            continue
        mapped.add(host_path)
        device = next((d for d in domain.devices if d.path == host_path), None)
        if device is None:
            problems.add(
                at,
                f"xen,path {host_path} is not in this domain's passthrough: add it there "
                "(the host node must be marked for the guest)",
            )
            continue
        if not host.has_node(host_path):
            continue  # domain_rules.passthrough_path names the missing node
        facts = HostDevice(host, device)
        _check_xen_reg(partial, path, cells, facts, at, problems)
        _check_interrupts(partial, path, gic[0] if gic else None, facts, at, problems)
        if facts.needs_force(domain) and "xen,force-assign-without-iommu" not in names:
            problems.add(
                at,
                f"{host_path} has no IOMMU protecting it: without "
                "xen,force-assign-without-iommu Xen fails the assignment; add it",
            )
    for device in domain.devices:
        if device.path not in mapped:
            problems.add(
                where,
                f"describes no node with xen,path = {device.path!r}: the guest would not "
                "get the device; add one under /passthrough",
            )


def _children(tree: HostTree, path: str):
    node = tree.node(path)
    for child in node.nodes if node else ():
        child_path = f"{path}/{child.name}"
        yield child_path, child
        yield from _children(tree, child_path)


def _check_xen_reg(
    partial: HostTree,
    path: str,
    cells: tuple[int, int],
    facts: HostDevice,
    at: str,
    problems: Problems,
) -> None:
    words = partial.words(path, "xen,reg") or []
    address_cells, size_cells = cells
    step = 2 * address_cells + size_cells
    if not words or len(words) % step:
        problems.add(
            at,
            f"xen,reg must be <host-address size guest-address> entries of {step} cells "
            f"(the /passthrough node's #address-cells and #size-cells)",
        )
        return
    allowed = pages(facts.regions, None)[0] if facts.regions else []
    for i in range(0, len(words), step):
        entry = words[i : i + step]
        host_start = combine_cells(entry[:address_cells])
        size = combine_cells(entry[address_cells : address_cells + size_cells])
        guest = combine_cells(entry[address_cells + size_cells :])
        if (host_start | size | guest) % XEN_PAGE:
            problems.add(
                at,
                "xen,reg addresses and sizes must be 4 KiB aligned (Xen refuses them and "
                "does not build the domain)",
            )
        mapping = Region(host_start, size)
        if not any(m.host <= host_start and mapping.end <= m.host + m.size for m in allowed):
            problems.add(
                at,
                f"xen,reg maps {hexaddr(host_start)}-{hexaddr(mapping.end)}, outside the "
                f"pages of {facts.path}'s reg: map only the device's own registers",
            )


def _check_phandles(partial: HostTree, where: str, problems: Problems, version: str) -> None:
    """From 4.22 Xen numbers its own nodes of the guest's tree from the partial tree's
    highest phandle up, and fails 'Device tree generation failed (-75)' if that reaches
    GUEST_PHANDLE_GIC."""
    highest = partial.max_phandle
    if xen_versions.applies(version, "partial_tree_phandles_below_gic") and (
        highest + 1 >= GUEST_GIC_PHANDLE
    ):
        problems.add(
            where,
            f"has phandle {highest} but Xen {version} needs every phandle of a partial tree "
            f"below {GUEST_GIC_PHANDLE - 1} (it numbers its own nodes above the highest, up "
            f"to GUEST_PHANDLE_GIC {GUEST_GIC_PHANDLE}, else 'Device tree generation failed "
            f"(-75)'): renumber them from {PARTIAL_GIC_PHANDLE}, as dtc does for labels",
        )


def _check_interrupts(
    partial: HostTree,
    path: str,
    gic: Optional[int],
    facts: HostDevice,
    at: str,
    problems: Problems,
) -> None:
    words = partial.words(path, "interrupts")
    if not words:
        return
    parent = partial.words(path, "interrupt-parent") or partial.words(
        "/passthrough", "interrupt-parent"
    )
    if gic is None:
        problems.add(
            at,
            "has interrupts but the tree has no /gic node with a phandle for its "
            f"interrupt-parent: add /gic with phandle = <{PARTIAL_GIC_PHANDLE}> (Xen's "
            "guest GIC takes that node's phandle)",
        )
    elif not parent or parent[0] != gic:
        problems.add(at, "interrupt-parent must be the /gic node's phandle")
    guest = [words[i + 1] for i in range(0, len(words) - 2, 3) if words[i] == 0]
    extra = sorted(set(guest) - set(facts.spis or []))
    if extra:
        problems.add(
            at,
            f"interrupts SPI {', '.join(map(str, extra))} are not {facts.path}'s: Xen routes "
            f"the host's ({', '.join(map(str, facts.spis or [])) or 'none'}) 1:1; use those",
        )
