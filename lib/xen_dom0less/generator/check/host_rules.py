"""Rules on the host device tree as Xen's own boot code reads it (xen/arch/arm, 4.17-4.22).

Xen trusts the board's tree: without an interrupt controller or timer it knows it
panics, with a disabled console UART it boots silently, with overlapping RAM banks
it hands the same memory out twice, and CPUs it cannot start simply stay off while
the plan counts on them. Each rule reads the tree the way the named Xen function
does, so a tree Xen cannot boot on is refused at build time, naming the node.
"""

from __future__ import annotations

from typing import Optional

from ... import files
from ...units import XEN_PAGE, hexaddr
from ..facts import kconfig, xen_versions
from ..hostdt import GIC_COMPATIBLES, TIMER_COMPATIBLES, HostTree, prop_bytes
from ..model import Region
from . import consoles
from .rule_context import RuleContext

WHERE = "host.dtb"
#: Bits of a CPU node's reg that can be set: MPIDR's affinity fields (MPIDR_HWID_MASK, arm64)
MPIDR_HWID_MASK = 0xFF00FFFFFF
#: The timer interrupts Xen must find (init_dt_xen_time): index and interrupt-names name
TIMER_IRQS = ("sec-phys", "phys", "virt", "hyp-phys")
#: Lowest clock-frequency Xen accepts: cpu_khz = DIV_ROUND(rate, 1000) must not be 0
TIMER_MIN_HZ = 500
#: What to do when the board's firmware completes the tree at boot (Layerscape's U-Boot adds
#: enable-method and the PSCI method): give the tree as the firmware hands it on
FIRMWARE = "; if the firmware adds it at boot, give the DTB it passes on (/sys/firmware/fdt)"
_GIC_NAMES = " or ".join(c.decode() for c in GIC_COMPATIBLES)


def interrupt_controller(ctx: RuleContext) -> None:
    """A GIC Xen sets up (intc_dt_preinit, gicv2/gicv3_dt_init), of a driver the .config has."""
    host = ctx.host
    path = host.gic_path
    if path is None:
        ctx.add(WHERE, _why_no_gic(host))
        return
    version = host.gic_version
    option = f"GICV{version}"
    if _config(ctx).get(option) == "n":
        ctx.add(
            "xen.config",
            f"CONFIG_{option} is not set but the board's interrupt controller {path} is a "
            f"GICv{version}: Xen panics 'Unable to find compatible interrupt controller': "
            f"rebuild Xen with CONFIG_{option}=y",
        )
    names = (
        "distributor, CPU, hypervisor and virtual CPU interfaces"
        if version == 2
        else "distributor and redistributor regions"
    )
    wanted = 4 if version == 2 else 1 + (host.words(path, "#redistributor-regions") or [1])[0]
    regions = host.cpu_regs(path)
    if regions is None or len(regions) < wanted:
        ctx.add(
            WHERE,
            f"{path} (GICv{version}) has {len(regions or [])} of the {wanted} reg regions "
            f"Xen reads ({names}) and panics 'Cannot find a valid address': give them all",
        )
    else:
        aligned = regions[:4] if version == 2 else regions[:1]
        odd = [r for r in aligned if r.address % XEN_PAGE]
        if odd:
            ctx.add(
                WHERE,
                f"{path} (GICv{version}) region at {hexaddr(odd[0].address)} is not 4 KiB "
                "aligned and Xen panics on it: fix the node's reg",
            )
    if not host.gic_irq(path, 0):
        ctx.add(
            WHERE,
            f"{path} (GICv{version}) has no maintenance interrupt wired to itself and Xen "
            "panics 'Cannot find the maintenance IRQ': add interrupts = <1 9 4> (PPI 9)",
        )


def _why_no_gic(host: HostTree) -> str:
    """Why Xen finds no interrupt controller, naming the GIC node it skipped if there is one."""
    panic = "Xen panics 'Unable to find compatible interrupt controller'"
    for path in host.paths[1:]:
        compatibles = host.strings(path, "compatible")
        if not any(c.encode() in GIC_COMPATIBLES for c in compatibles):
            continue
        if host.node(path).get_property("interrupt-controller") is None:
            return f"{path} is a GIC without the interrupt-controller property: {panic}: add it"
        if not host.available(path):
            return f'{path} (the GIC) is disabled: {panic}: set its status to "okay"'
        return f"{path} (the GIC) is marked xen,passthrough: {panic}: remove that property"
    return (
        f"no interrupt controller Xen drives (a node with interrupt-controller and "
        f"compatible {_GIC_NAMES}): {panic}: give the board's full DTB"
    )


def _config(ctx: RuleContext) -> dict[str, str]:
    """The options of xen.config; empty when none is given (an unreadable one is
    reported by the .config check)."""
    if ctx.system.xen.config is None:
        return {}
    try:
        return kconfig.read(ctx.system.xen.config)
    except files.UnusableFile:
        return {}


def memory(ctx: RuleContext) -> None:
    """RAM as Xen's early FDT scan finds it (early_scan_node, device_tree_get_meminfo):
    every device_type = "memory" node taken, with a reg, and no bank counted twice."""
    host = ctx.host
    if ctx.system.host.memory or not ctx.banks:
        return  # the user's banks replace the nodes' (checked as host.memory), or none
    seen: list[tuple[str, Region]] = []
    for path in host.memory_nodes:
        name = path[1:]
        if name != "memory" and not name.startswith("memory@"):
            ctx.add(
                WHERE,
                f"{path} has device_type memory, but Xen reads RAM only from nodes named "
                "memory or memory@ADDRESS and would not use it: rename the node",
            )
        elif not host.available(path):
            ctx.add(
                WHERE,
                f'{path} is disabled, so Xen leaves its RAM out: set its status to "okay" '
                "or delete the node",
            )
        elif host.words(path, "reg") is None:
            ctx.add(
                WHERE,
                f"{path} has no reg and Xen panics 'Early FDT parsing failed': "
                "give its banks or delete the node",
            )
        else:
            _banks_counted_once(ctx, path, seen)


def _banks_counted_once(ctx: RuleContext, path: str, seen: list[tuple[str, Region]]) -> None:
    """One problem for ``path`` if any of its banks overlaps one listed before it."""
    clashes = []
    for bank in ctx.host.regs(path, "/"):
        earlier = next(((p, r) for p, r in seen if r.overlaps(bank)), None)
        if earlier is not None:
            owner = "" if earlier[0] == path else f" of {earlier[0]}"
            verb = "repeats" if earlier[1] == bank else "overlaps"
            clashes.append(f"{bank.span()} {verb} {earlier[1].span()}{owner}")
        seen.append((path, bank))
    if clashes:
        ctx.add(
            WHERE,
            f"{path} reg lists RAM twice ({'; '.join(clashes)}): Xen would take it as "
            "more RAM than the board has and hand the same pages out twice: list each "
            "bank once",
        )


def console(ctx: RuleContext) -> None:
    """Xen's console UART: a node of the tree, with a driver in the release and in its
    .config, set up by that driver (device_init, *_uart_init): enabled, with registers and an
    interrupt its GIC delivers. Without any of these Xen boots printing nothing."""
    host, version = ctx.host, ctx.version
    chosen = consoles.choose(ctx.system, host)
    path = chosen.path
    if chosen.name is None:
        return
    if path is None or not host.has_node(path):
        ctx.add(
            chosen.where,
            f"Xen's console {chosen.name} is neither a node nor an alias of the host "
            "device tree: give a UART's path or alias, or none",
        )
        return
    compatibles = host.strings(path, "compatible")
    driver = xen_versions.uart_driver(version, compatibles)
    if driver is None:
        ctx.add(
            chosen.where,
            f"Xen {version} has no driver for its console {path} "
            f"({', '.join(compatibles) or 'no compatible'}) and would boot without one: "
            "set xen.console to a UART it drives "
            f"({', '.join(consoles.known_compatibles(version))}) or to none for no Xen console",
        )
        return
    _console_driver_built(ctx, path, driver)
    if not host.available(path):
        problem, fix = "is disabled", 'set its status to "okay"'
    elif host.node(path).get_property("xen,passthrough") is not None:
        problem, fix = "is marked xen,passthrough", "remove that property"
    elif not host.cpu_regs(path):
        problem, fix = "has no registers Xen can map (reg)", "fix its reg"
    elif host.gic_path is not None and not host.gic_irq(path, 0):
        problem, fix = "has no interrupt wired to the GIC", "fix its interrupts"
    else:
        return
    ctx.add(
        chosen.where,
        f"Xen's console {path} {problem}, so Xen's driver skips it and Xen boots "
        f"printing nothing: {fix} or choose another UART (xen.console)",
    )


def _console_driver_built(ctx: RuleContext, path: str, driver: xen_versions.UartDriver) -> None:
    """A given .config must build the console's driver (an unreadable one is reported by
    the .config check)."""
    config = ctx.system.xen.config
    try:
        options = kconfig.read(config) if config else None
    except files.UnusableFile:
        return
    if options is not None and options.get(driver.option) != "y":
        ctx.add(
            "xen.config",
            f"CONFIG_{driver.option} is not enabled in {config.name} but "
            f"Xen's console {path} needs its driver ({driver.source}): rebuild "
            f"Xen with CONFIG_{driver.option}=y, or set xen.console to another UART "
            "or to none",
        )


def cpus(ctx: RuleContext) -> None:
    """Every CPU node one Xen brings up (dt_smp_init_cpus, dt_arch_cpu_init); the first
    is taken for the boot CPU, which needs no enable-method."""
    host = ctx.host
    taken: dict[int, str] = {}
    unstartable: dict[str, list[str]] = {}
    for cpu in host.cpus:
        hwid = host.cpu_hwid(cpu.path)
        if hwid is None:
            cells = _cpu_address_cells(host)
            ctx.add(
                WHERE,
                f"{cpu.path} reg is missing or shorter than #address-cells = <{cells}> of "
                "/cpus, so Xen skips this CPU: fix its reg or /cpus #address-cells",
            )
            continue
        if hwid & ~MPIDR_HWID_MASK:
            ctx.add(
                WHERE,
                f"{cpu.path} reg {hwid:#x} is not an MPIDR affinity (bits 24-31 or "
                "above 39 set), so Xen skips this CPU: fix its reg",
            )
            continue
        if hwid in taken:
            ctx.add(
                WHERE,
                f"{cpu.path} has the reg of {taken[hwid]} ({hwid:#x}), so Xen skips "
                "this CPU: give each CPU its own MPIDR in reg",
            )
            continue
        taken[hwid] = cpu.path
        problem = _start_problem(host, cpu.path) if cpu.index else None
        if problem:
            unstartable.setdefault(problem, []).append(cpu.path)
    for problem, paths in unstartable.items():
        ctx.add(WHERE, f"{', '.join(paths)}: {problem}")


def _cpu_address_cells(host: HostTree) -> int:
    for path in ("/cpus", "/"):
        cells = host.words(path, "#address-cells")
        if cells:
            return cells[0]
    return 2


def _start_problem(host: HostTree, path: str) -> Optional[str]:
    """Why Xen could not start the secondary CPU at ``path``, if it could not."""
    method = host.string(path, "enable-method")
    stays_off = "so Xen leaves it off"
    if method is None:
        return (
            f'no enable-method, {stays_off}: add enable-method = "psci" '
            f'(or "spin-table" with cpu-release-addr){FIRMWARE}'
        )
    if method == "spin-table":
        release = host.node(path).get_property("cpu-release-addr")
        value = prop_bytes(release) if release is not None else b""
        if len(value) < 8 or not int.from_bytes(value[:8], "big"):
            return (
                f"spin-table without a non-zero 64-bit cpu-release-addr, {stays_off}: "
                "add the release address the firmware spins on"
            )
        return None
    if method == "psci":
        problem = psci_problem(host)
        return (
            f"started with PSCI, but {problem}, {stays_off}: fix it{FIRMWARE}" if problem else None
        )
    return (
        f'enable-method "{method}", which Xen does not know (only psci and spin-table), '
        f"{stays_off}: use one of those"
    )


def psci_problem(host: HostTree) -> Optional[str]:
    """Why Xen's psci_init fails on this tree, if it does: it takes the first arm,psci-0.2
    or arm,psci-1.0 node, else the first arm,psci (0.1) node with cpu_on; either must
    say method = "smc" (Xen runs at EL2, where hvc would call itself)."""
    problems = []
    for kinds, needs_cpu_on in ((("arm,psci-0.2", "arm,psci-1.0"), False), (("arm,psci",), True)):
        path = host.first_compatible(kinds)
        if path is None:
            continue
        method = host.string(path, "method")
        if method != "smc":
            problems.append(f"{path} has method {method!r}, and Xen calls PSCI only with smc")
        elif needs_cpu_on and not host.words(path, "cpu_on"):
            problems.append(f"{path} (PSCI 0.1) has no cpu_on")
        else:
            return None
    return problems[0] if problems else "the tree has no PSCI node (compatible arm,psci-1.0)"


def timer(ctx: RuleContext) -> None:
    """The architected timer Xen takes (preinit_dt_xen_time, init_dt_xen_time): present,
    a plausible clock-frequency if one is given, and its four PPIs on the GIC."""
    host = ctx.host
    path = host.first_compatible(TIMER_COMPATIBLES)
    if path is None:
        ctx.add(
            WHERE,
            f"no timer node (compatible {' or '.join(TIMER_COMPATIBLES)}): Xen panics "
            "'Unable to find a compatible timer in the device tree': give the board's "
            "full DTB",
        )
        return
    frequency = host.words(path, "clock-frequency")
    if frequency and frequency[0] < TIMER_MIN_HZ:
        ctx.add(
            WHERE,
            f"{path} clock-frequency = <{frequency[0]}> is below 1 kHz and Xen panics "
            "'Timer frequency is less than 1 KHz': give the counter's frequency or drop it",
        )
    if host.gic_path is None:
        return  # reported by interrupt_controller
    names = host.strings(path, "interrupt-names")
    by_name = xen_versions.applies(ctx.version, "timer_interrupt_names")
    if names and not by_name and names[: len(TIMER_IRQS)] != list(TIMER_IRQS):
        ctx.add(
            WHERE,
            f"{path} interrupt-names ({', '.join(names)}) are not in the order "
            f"{', '.join(TIMER_IRQS)}, and Xen {ctx.version} takes the timer's interrupts "
            "by position, so it would wait on the wrong PPIs: put them in that order",
        )
        return
    names = names if by_name else []
    missing = [
        name
        for index, name in enumerate(TIMER_IRQS)
        if (names and name not in names)
        or not host.gic_irq(path, names.index(name) if names else index)
    ]
    if missing:
        ctx.add(
            WHERE,
            f"{path} has no {', '.join(missing)} interrupt Xen's GIC can read and Xen "
            "panics 'Timer: Unable to retrieve IRQ': give its four PPIs "
            "(secure, non-secure physical, virtual and hypervisor timers)",
        )
