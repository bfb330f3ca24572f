"""From a description to a validated plan: check everything, then place everything.

All problems found (rules, file formats, Kconfig, layout) are raised together
as one UserError; nothing is written until a plan exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from ..errors import Problems, UserError
from ..units import KiB, MiB, format_size, hexaddr
from . import kconfig, layout, render, validate
from .blobs import BlobCollector, compile_dts
from .hostdt import HostTree
from .images import UIMAGE
from .model import Region, System
from .plan import DTB_GROWTH, FDT_COMMANDS_RESIZE, Blob, Excluded, Modules, Plan, static_regions
from .render import script_image


def make_plan(system: System, room: Optional[Mapping[str, int]] = None) -> Plan:
    """Validate ``system`` and compute every load address; raise UserError if it cannot.

    ``room`` gives the generated DTB ("dtb") or script ("script") more space
    than the estimate, once their real size is known.
    """
    room = room or {}
    problems = Problems(str(system.source))
    host = load_host(system)
    validate.check(system, host, problems)
    dtb_name = _dtb_file(system)
    collector = BlobCollector(problems, reserved={dtb_name, *render.generated_files()})
    xen = collector.add("xen.image", "xen", system.xen.image, "xen")
    xsm = (
        collector.add("xen.xsm_policy", "xsm-policy", system.xen.xsm_policy, "xen")
        if system.xen.xsm_policy
        else None
    )
    dom0 = None
    if system.dom0 is not None:
        dom0 = _modules(collector, "dom0", "dom0", system.dom0.kernel, system.dom0.ramdisk, None)
    domains = {
        d.name: _modules(collector, d.key, d.name, d.kernel, d.ramdisk, d.device_tree)
        for d in system.domains
    }
    needed = kconfig.required(system)
    _check_config(system, needed, problems)
    _check_boot_command(system, xen, problems)
    problems.raise_if_any()
    assert xen is not None

    dtb = Blob(
        role="dtb",
        file=dtb_name,
        source=None,
        size=0,
        span=max(_dtb_span(system, host), room.get("dtb", 0)),
        users=["xen"],
    )
    script = Blob(
        role="script",
        file=script_image.FILE,
        source=None,
        size=0,
        span=max(_script_span(system), room.get("script", 0)),
        users=["u-boot"],
    )
    excluded = excluded_regions(system, host)
    blobs = [script, xen, dtb, *collector.blobs[1:]]
    _place_all(system, host, excluded, blobs, problems)
    _check_fit(system, host, excluded, blobs, problems)
    problems.raise_if_any()
    return Plan(
        system=system,
        host=host,
        blobs=sorted(blobs, key=lambda b: b.address),
        xen=xen,
        dtb=dtb,
        script=script,
        xsm_policy=xsm,
        dom0=dom0,
        domains={k: v for k, v in domains.items() if v},
        excluded=excluded,
        xen_bootargs=xen_bootargs(system, host),
        kconfig=needed,
    )


def _dtb_file(system: System) -> str:
    """xen.dtb when we patch it; the board's own DTB name when U-Boot edits it."""
    if system.boot.device_tree == "patched":
        return "xen.dtb"
    return system.host.dtb.stem + ".dtb"


def load_host(system: System) -> HostTree:
    path = system.host.dtb
    data = (
        f"file {path} does not exist"
        if not path.is_file()
        else compile_dts(path)
        if path.suffix == ".dts"
        else path.read_bytes()
    )
    if isinstance(data, str):
        raise UserError(f"{system.source}: host.dtb: {data}")
    return HostTree(data, str(path))


def _modules(
    collector: BlobCollector, where: str, user: str, kernel, ramdisk, device_tree
) -> Optional[Modules]:
    kernel_blob = collector.add(f"{where}.kernel", "kernel", kernel, user)
    ramdisk_blob = collector.add(f"{where}.ramdisk", "ramdisk", ramdisk, user) if ramdisk else None
    dt_blob = (
        collector.add(f"{where}.device_tree", "device-tree", device_tree, user)
        if device_tree
        else None
    )
    if kernel_blob is None:
        return None
    return Modules(kernel=kernel_blob, ramdisk=ramdisk_blob, device_tree=dt_blob)


def _check_config(system: System, needed: dict[str, str], problems: Problems) -> None:
    path = system.xen.config
    if path is None:
        return
    if not path.is_file():
        problems.add("xen.config", f"file {path} does not exist")
        return
    for option, why in kconfig.missing(needed, kconfig.read(path)):
        problems.add(
            "xen.config",
            f"CONFIG_{option} is not enabled in {path.name} but "
            f"{why} needs it: rebuild Xen with CONFIG_{option}=y "
            "(dom0less build-xen adds it)",
        )


def _check_boot_command(system: System, xen: Optional[Blob], problems: Problems) -> None:
    if xen is None:
        return
    kind = xen.kind
    command = system.boot.command
    if command == "bootm" and kind != UIMAGE:
        problems.add(
            "boot.command", f"bootm needs Xen as a uImage but {xen.file} is {kind}: use booti"
        )
    if command == "booti" and kind == UIMAGE:
        problems.add("boot.command", f"{xen.file} is a uImage: use bootm")


def _dtb_span(system: System, host: HostTree) -> int:
    """Room for the generated DTB: the board's plus /chosen additions plus growth."""
    per_domain = 2 * KiB + sum(len(d.cmdline) for d in system.domains) // max(
        1, len(system.domains)
    )
    extra = per_domain * (len(system.domains) + 1) + 1 * KiB * len(system.cpupools)
    extra += 512 * sum(len(d.event_channels) + len(d.shared_memory) for d in system.domains)
    growth = DTB_GROWTH + (FDT_COMMANDS_RESIZE if system.boot.device_tree == "fdt-commands" else 0)
    return len(host.data) + extra + growth


def _script_span(system: System) -> int:
    per_domain = 4 * KiB if system.boot.device_tree == "fdt-commands" else 1 * KiB
    return 16 * KiB + per_domain * len(system.domains)


def excluded_regions(system: System, host: HostTree) -> list[Excluded]:
    """Everything in RAM the loader must leave alone, with the reason."""
    found = [Excluded(r.region, r.origin) for r in host.reservations]
    found += static_regions(system)
    uboot = layout.uboot_area(host.memory_banks, system.host.uboot_reserve)
    if uboot is not None:
        found.append(Excluded(uboot, "U-Boot (host.uboot_reserve)"))
    return found


def _place_all(
    system: System, host: HostTree, excluded: list[Excluded], blobs: list[Blob], problems: Problems
) -> None:
    """Give every blob an address; the script first, at its fixed address if it has one."""
    script = blobs[0]
    space = host.memory_banks
    if system.boot.load_region is not None:
        narrowed = system.boot.load_region
        space = [
            Region(
                max(b.address, narrowed.address),
                min(b.end, narrowed.end) - max(b.address, narrowed.address),
            )
            for b in space
            if b.overlaps(narrowed)
        ]
    free = layout.free_regions(space, excluded)
    if system.boot.script_address is not None:
        script.address = system.boot.script_address
        if not layout.claim(script, free):
            problems.add(
                "boot.script_address",
                f"{hexaddr(script.address)} is not free "
                "RAM inside the load region: " + _where_taken(excluded, script.region),
            )
    for blob in blobs:
        if blob is script and system.boot.script_address is not None:
            continue
        if not layout.place(blob, free, system.boot.align):
            largest = max((r.size for r in free), default=0)
            problems.add(
                _blob_key(blob),
                f"no room to load {blob.file} "
                f"({format_size(blob.span)}); the largest free "
                f"gap left is {format_size(largest)}: free RAM, "
                "widen boot.load_region or shrink the images",
            )
            return


def _where_taken(excluded: list[Excluded], region: Region) -> str:
    for item in excluded:
        if item.region.overlaps(region):
            return f"it overlaps {item.reason}"
    return "it lies outside RAM or the load region"


def _blob_key(blob: Blob) -> str:
    return f"{blob.role} of {', '.join(blob.users)}"


def _check_fit(
    system: System, host: HostTree, excluded: list[Excluded], blobs: list[Blob], problems: Problems
) -> None:
    """Guests' RAM plus everything loaded (Xen twice: it relocates) must fit in RAM."""
    banks = host.memory_banks
    total = sum(b.size for b in banks)
    free = sum(r.size for r in layout.free_regions(banks, excluded))
    loaded = sum(b.span for b in blobs)
    xen = next(b for b in blobs if b.role == "xen")
    demand = 0
    for domain in system.domains:
        if not domain.static_memory:
            demand += domain.ram
        demand += domain.ram // 256 + domain.vcpus * MiB  # default P2M pool
    if system.dom0 is not None:
        demand += system.dom0.memory
    available = free - loaded - xen.span
    if demand > available:
        problems.add(
            "domains",
            f"the guests need {format_size(demand)} of RAM (with Xen's "
            f"P2M pools) but only {format_size(max(available, 0))} is "
            f"left of {format_size(total)} once the loaded images, "
            "reservations and static regions are counted: shrink a "
            "domain's memory",
        )


def xen_bootargs(system: System, host: HostTree) -> str:
    """Xen's command line: the user's, or console, dom0 and colouring options."""
    xen = system.xen
    if xen.bootargs is not None:
        parts = [xen.bootargs]
    else:
        parts = [f"console=dtuart dtuart={host.stdout_path()}", "bootscrub=0"]
        if system.dom0 is not None:
            parts.append(
                f"dom0_mem={format_size(system.dom0.memory)} dom0_max_vcpus={system.dom0.vcpus}"
            )
            if system.dom0.llc_colors:
                parts.append(f"dom0-llc-colors={system.dom0.llc_colors}")
        llc = xen.llc_coloring
        if llc is not None:
            parts.append("llc-coloring=on")
            if llc.size:
                parts.append(f"llc-size={format_size(llc.size)}")
            if llc.ways:
                parts.append(f"llc-nr-ways={llc.ways}")
            if llc.xen_colors:
                parts.append(f"xen-llc-colors={llc.xen_colors}")
    if xen.extra_bootargs:
        parts.append(xen.extra_bootargs)
    return " ".join(parts)
