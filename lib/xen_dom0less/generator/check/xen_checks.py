"""Checks of the Xen the description names: its .config, its image format, its limits."""

from __future__ import annotations

from typing import Optional

from ... import files
from ...errors import Problems
from ...units import MiB, align_up, format_size
from ..facts import kconfig, xen_versions
from ..facts.images import ARM64_IMAGE, UIMAGE
from ..model import Domain, System
from ..plan import Blob
from ..read.collect import Inputs

#: Xen rounds a domU's ramdisk and device tree up to this when placing them (place_modules).
GUEST_MODULE_ALIGN = 2 * MiB


def check_config(system: System, needed: dict[str, str], problems: Problems) -> None:
    """Every Kconfig option the description needs is enabled in ``xen.config``, if given."""
    path = system.xen.config
    if path is None:
        return
    try:
        config = kconfig.read(path)
    except files.UnusableFile as error:
        problems.add("xen.config", str(error))
        return
    for option, why in kconfig.missing(needed, config):
        # A dependency's reason reads "needed by CONFIG_X" (the fragment's comment).
        needer = why.removeprefix("needed by ")
        problems.add(
            "xen.config",
            f"CONFIG_{option} is not enabled in {path.name} but "
            f"{needer} needs it: rebuild Xen with CONFIG_{option}=y "
            "(dom0less build-xen adds it)",
        )


def check_boot_command(system: System, xen: Optional[Blob], problems: Problems) -> None:
    """``bootm`` boots a uImage and ``booti`` anything else."""
    if xen is None:
        return
    kind = xen.kind
    command = system.boot.command
    if system.boot.format == "fit":
        return  # bootm starts the FIT, whatever Xen's own format
    if command == "bootm" and kind != UIMAGE:
        problems.add(
            "boot.command", f"bootm needs Xen as a uImage but {xen.file} is {kind}: use booti"
        )
    if command == "booti" and kind == UIMAGE:
        problems.add("boot.command", f"{xen.file} is a uImage: use bootm")


def check_boot_modules(system: System, modules: int, problems: Problems) -> None:
    """Xen keeps MAX_MODULES modules (itself and its DTB included) and as many command lines.

    The rest are dropped before Xen's console exists, so the user only sees the
    panic of the domain that lost its kernel. ``modules`` counts distinct files
    per role, as Xen merges modules of one kind at one address.
    """
    limits = xen_versions.limits(system.xen.version)
    version = system.xen.version
    if modules > limits.boot_modules:
        problems.add(
            "domains",
            f"the build loads {modules} boot modules (Xen, its device tree and "
            f"{modules - 2} distinct kernels, ramdisks, device trees and policies) but "
            f"Xen {version} keeps {limits.boot_modules} (MAX_MODULES) and panics "
            "'Could not set up domain' for the rest: share binaries between domains "
            "(identical files are loaded once) or drop ramdisks or domains",
        )
    lines = [d.key for d in system.domains if d.cmdline]
    if system.dom0 is not None and system.dom0.cmdline:
        lines.append("dom0")
    if len(lines) > limits.boot_cmdlines:
        problems.add(
            "domains",
            f"{len(lines)} domains have a cmdline but Xen {version} keeps "
            f"{limits.boot_cmdlines} boot command lines (MAX_MODULES) and boots the rest "
            f"without theirs: drop the cmdline of {len(lines) - limits.boot_cmdlines} of "
            "them (a kernel can carry its own) or use fewer domains",
        )


def check_fdt_size(system: System, size: int, problems: Problems) -> None:
    """The DTB Xen boots from, grown by the dom0less nodes, within MAX_FDT_SIZE."""
    limit = xen_versions.limits(system.xen.version).fdt_size
    if size > limit:
        problems.add(
            "host.dtb",
            f"the device tree for Xen grows to {format_size(size)} with the dom0less "
            f"nodes, but Xen {system.xen.version} maps at most {format_size(limit)} "
            "(MAX_FDT_SIZE) and stops with 'Invalid device tree blob': give a smaller "
            "board tree (drop unused nodes) or fewer domains",
        )


def check_guest_trees(system: System, inputs: Inputs, problems: Problems) -> None:
    """Each domU's device tree must fit the buffer Xen builds it in (DOMU_DTB_SIZE)."""
    limits = xen_versions.limits(system.xen.version)
    for domain in system.domains:
        if domain.vcpus > max(limits.vcpus.values()):
            continue  # refused already: more than any virtual GIC has
        modules = inputs.domains.get(domain.name)
        partial = modules.device_tree.size if modules and modules.device_tree else 0
        room = limits.domu_fdt + (partial if limits.domu_fdt_adds_partial else 0)
        size = xen_versions.DOMU_FDT_BASE + xen_versions.DOMU_FDT_PER_VCPU * domain.vcpus
        if size + partial > room:
            most = (room - partial - xen_versions.DOMU_FDT_BASE) // xen_versions.DOMU_FDT_PER_VCPU
            problems.add(
                f"{domain.key}.vcpus",
                f"the device tree Xen {system.xen.version} builds for {domain.vcpus} vCPUs"
                + (f" and a {partial}-byte partial tree" if partial else "")
                + f" outgrows its {room}-byte buffer (DOMU_DTB_SIZE) and Xen panics "
                f"'Device tree generation failed (-3)': give it at most {max(most, 0)} "
                "vCPUs (Xen 4.22 sizes the buffer for 128)",
            )


def check_guest_modules(system: System, inputs: Inputs, problems: Problems) -> None:
    """Each domU's kernel, ramdisk and device tree within its RAM, as Xen places them.

    Xen (first_bank_can_fit_modules) counts the kernel from where it loads up to the next
    2 MiB boundary, and the ramdisk and device tree rounded up to 2 MiB each, against the
    first RAM bank, which is at most the domain's RAM, and panics otherwise: this refuses
    only what Xen cannot boot.
    """
    for domain in system.domains:
        modules = inputs.domains.get(domain.name)
        if modules is None or not domain.ram:
            continue  # unreadable inputs or missing memory are refused already
        kernel = _kernel_footprint(domain, modules.kernel)
        ramdisk = align_up(modules.ramdisk.size, GUEST_MODULE_ALIGN) if modules.ramdisk else 0
        needed = kernel + ramdisk + GUEST_MODULE_ALIGN  # the device tree
        if needed > domain.ram:
            problems.add(
                f"{domain.key}.kernel",
                f"the kernel ({format_size(kernel)} as Xen places it)"
                + (f", the ramdisk ({format_size(ramdisk)} as Xen places it)" if ramdisk else "")
                + f" and the device tree (2M) need {format_size(needed)} of the domain's "
                f"{format_size(domain.ram)} of RAM, and Xen panics 'Not enough memory in the "
                "first bank for the kernel+dtb+initrd': give the domain more memory or a "
                "smaller kernel and ramdisk",
            )


def _kernel_footprint(domain: Domain, kernel: Blob) -> int:
    """The kernel's bytes as Xen counts them: ROUNDUP(end, 2M) - start. An arm64 Image (its
    length the file's) starts at guest RAM's base (GUEST_RAM0_BASE, 2 MiB-aligned, unless
    direct-mapped) plus the header's text_offset; otherwise the file's size (Xen's length
    of a gzip kernel is larger, of a zImage or uImage its header's, at most the file's)."""
    if kernel.kind != ARM64_IMAGE or domain.direct_map or kernel.source is None:
        return kernel.size
    try:
        head = files.probe(kernel.source, 16).head
    except files.UnusableFile:
        return kernel.size  # refused where it is read
    offset = int.from_bytes(head[8:16], "little") % GUEST_MODULE_ALIGN
    return align_up(offset + kernel.size, GUEST_MODULE_ALIGN) - offset
