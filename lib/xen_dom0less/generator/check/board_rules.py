"""Rules on the board, Xen's own options and the boot settings: the system as a whole."""

from __future__ import annotations

from collections import Counter

from ...units import XEN_PAGE, KiB, format_size
from ..facts import features, text
from ..model import LOAD_DEVICES
from .rule_context import RuleContext

STATIC_HEAP_ALIGN = 64 * KiB


def features_known(ctx: RuleContext) -> None:
    """Every release-dependent feature the description uses exists in the target Xen."""
    for feature, where in features.uses(ctx.system):
        ctx.needs(where, feature)


def host_facts(ctx: RuleContext) -> None:
    if not ctx.banks and ctx.host.memory_nodes:
        ctx.add(
            "host.dtb",
            f"{', '.join(ctx.host.memory_nodes)} has no RAM (a reg of size 0): the "
            "board's firmware fills it in at boot (as the Raspberry Pi's does); give "
            "the banks in host.memory, e.g. memory: [{address: 0x0, size: 0x3b400000}]",
        )
    elif ctx.system.host.memory and not ctx.host.memory_nodes:
        ctx.add(
            "host.memory",
            'the device tree has no memory node (device_type = "memory") to write '
            "the banks into: give the board's full DTB",
        )
    elif not ctx.banks:
        ctx.add(
            "host.dtb",
            'the device tree has no memory node (device_type = "memory"): '
            "give the board's full DTB or the banks in host.memory",
        )
    for index, bank in enumerate(ctx.system.host.memory):
        if bank.address % XEN_PAGE or bank.size % XEN_PAGE or not bank.size:
            ctx.add(f"host.memory[{index}]", "address and size must be non-zero multiples of 4 KiB")
        for other in ctx.system.host.memory[index + 1 :]:
            if bank.overlaps(other):
                ctx.add(
                    f"host.memory[{index}]",
                    f"overlaps {other.span()}: banks are disjoint",
                )
    if not ctx.cpus:
        ctx.add("host.dtb", "the device tree has no /cpus/cpu@N nodes: give the board's full DTB")
    stdout = ctx.host.stdout_path()
    xen = ctx.system.xen
    if xen.bootargs is None and xen.console is None and stdout is None:
        ctx.add(
            "host.dtb",
            "/chosen has no stdout-path, so Xen's console is unknown: "
            "add stdout-path to the DTB or set xen.bootargs "
            "(console=dtuart dtuart=...)",
        )
    problem = (
        text.not_printable_ascii(stdout)
        if xen.bootargs is None and xen.console is None and stdout is not None
        else None
    )
    if problem:  # it goes into Xen's command line
        ctx.add(
            "host.dtb",
            f"/chosen stdout-path {text.printable(stdout)!r} {problem}: fix the DTB "
            "or set xen.bootargs (console=dtuart dtuart=...)",
        )
    for index, path in enumerate(ctx.system.host.disable):
        if not ctx.host.has_node(path):
            ctx.add(f"host.disable[{index}]", f"no node {path} in the host device tree")


def xen_options(ctx: RuleContext) -> None:
    xen = ctx.system.xen
    for index, region in enumerate(xen.static_heap):
        where = f"xen.static_heap[{index}]"
        if region.address % STATIC_HEAP_ALIGN or region.size % STATIC_HEAP_ALIGN:
            ctx.add(where, "address and size must be 64 KiB aligned")
        ctx.inside_ram(where, region)
    if xen.static_heap:
        heap_holds_the_domains(ctx)
    if xen.llc_coloring is not None and xen.llc_coloring.xen_colors:
        ctx.colors("xen.llc_coloring.xen_colors", xen.llc_coloring.xen_colors)
    for key, line in (
        ("xen.bootargs", xen.bootargs),
        ("xen.extra_bootargs", xen.extra_bootargs),
    ):
        given = [word for word in (line or "").split() if word.startswith("sched=")]
        if xen.scheduler and given:
            ctx.add(
                key,
                f"{given[0]} and xen.scheduler {xen.scheduler} both choose Xen's scheduler "
                "(the last on the command line wins): keep one of them",
            )


def heap_holds_the_domains(ctx: RuleContext) -> None:
    """With a static heap Xen allocates domains' RAM only from it (and panics
    'Failed to allocate requested domain memory' when it cannot)."""
    heap = sum(r.size for r in ctx.system.xen.static_heap)
    dom0 = ctx.system.dom0.memory if ctx.system.dom0 else 0
    need = dom0 + sum(d.ram for d in ctx.system.domains if not d.static_memory)
    if need > heap:
        ctx.add(
            "xen.static_heap",
            f"{format_size(heap)} in all, but the domains' RAM alone takes "
            f"{format_size(need)} of it (Xen allocates it from the static heap only): "
            "make the heap larger or the domains smaller",
        )


def boot(ctx: RuleContext) -> None:
    boot = ctx.system.boot
    words = boot.load.split()
    if not words:
        ctx.add(
            "boot.load",
            "is empty: give tftp, a device such as 'mmc 0:1', or a command run as 'CMD ADDR FILE'",
        )
    elif words[0] in LOAD_DEVICES and len(words) != 2:
        ctx.add("boot.load", f"'{boot.load}' needs a device and partition, e.g. '{words[0]} 0:1'")
    if boot.align < XEN_PAGE or boot.align & (boot.align - 1):
        ctx.add("boot.align", f"{boot.align} must be a power of two of at least 4K")
    if boot.load_region is not None:
        ctx.inside_ram("boot.load_region", boot.load_region)
    if boot.script_address is not None and boot.script_address % XEN_PAGE:
        ctx.add("boot.script_address", "must be 4 KiB aligned")
    if boot.device_tree == "fdt-commands":
        fdt_set_strings(ctx)


def fdt_set_strings(ctx: RuleContext) -> None:
    """Strings the boot script's ``fdt set`` writes: each must be one literal word."""
    dtb = ctx.system.host.dtb.name
    problem = text.not_script_word(dtb)
    if problem:
        name = text.printable(dtb)
        ctx.add("host.dtb", f"the file name {name!r} {problem}: rename the file")
    strings = {"xen.bootargs": ctx.system.xen.bootargs}
    if ctx.system.dom0:
        strings["dom0.cmdline"] = ctx.system.dom0.cmdline
    strings.update({f"{d.key}.cmdline": d.cmdline for d in ctx.system.domains})
    for where, value in strings.items():
        problem = text.not_fdt_set_string(value) if value else None
        if problem:
            ctx.add(
                where,
                f"{problem} (boot.device_tree is fdt-commands): change it or use "
                "boot.device_tree: patched",
            )


def names_unique(ctx: RuleContext) -> None:
    for name, count in Counter(d.name for d in ctx.system.domains).items():
        if count > 1:
            ctx.add(
                "domains", f"the name '{name}' is used by {count} domains: names must be unique"
            )
    if "dom0" in ctx.names:
        ctx.add("domains", "'dom0' is reserved for the control domain: rename that domU")
    for name, count in Counter(p.name for p in ctx.system.cpupools).items():
        if count > 1:
            ctx.add("cpupools", f"the pool name '{name}' is used {count} times")
    for ident, count in Counter(s.id for s in ctx.system.shared_memory).items():
        if count > 1:
            ctx.add("shared_memory", f"the id '{ident}' is defined {count} times")
