"""The one pipeline behind ``check``, ``plan`` and ``build``: description -> plan -> outputs.

Every check of a description runs here, in this order; each stage sees only
what the stages before it accepted, and all problems of a stage are reported
together as one UserError:

1. read: the YAML, its ``${VARIABLES}`` and the schema, defaults filled (``read.description``),
   and the board's device tree (``read.host_input``);
2. check: the rules, against the board's device tree and the target Xen (``check.rules``),
   once the critical domain's default start-first mechanism is added
   (``place.critical_first``);
3. read and check: the input files, present, identified, of a format their role takes
   (``read.collect``), and the guests' partial device trees, generated
   (``render.partial_tree``) or checked (``check.passthrough``);
4. check: Xen's limits (modules, DTB size), ``.config``, console driver (``check.consoles``),
   the boot command against Xen's image format (``check.xen_checks``) and the boot format;
   then the files stored compressed are compressed (``place.compression``);
5. place: every blob in free RAM (``place.placement``), then the guests' RAM
   (``place.capacity``);
6. render: the generated DTB, script and FIT rendered (``render``) and measured against the
   room placed for them.

``check`` and ``plan`` run all six and write nothing; ``build`` then writes the outputs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple, Optional

from .. import outputs
from ..errors import Problems, UserError
from ..units import KiB, parse_epoch
from . import render
from .check import advice, consoles, fit, isolation, passthrough, rules, uefi
from .check.xen_checks import (
    check_boot_command,
    check_boot_modules,
    check_config,
    check_fdt_size,
    check_guest_modules,
    check_guest_trees,
)
from .facts import kconfig
from .hostdt import HostTree
from .model import Signing, System
from .output_dir import write_atomically
from .place import compression, critical_first, fit_room
from .place.capacity import check_capacity
from .place.placement import excluded_regions, place_all
from .place.sizing import dtb_estimate, script_estimate
from .place.xen_cmdline import xen_bootargs
from .plan import Blob, Isolation, Plan
from .read import description
from .read.collect import Inputs, collect_inputs
from .read.host_input import load_host
from .render import fit_image, partial_tree

#: Slack over a measured size when placing again: addresses may gain a digit.
MEASURE_MARGIN = 4 * KiB
#: Place-render-measure passes before giving up; the room only grows, so two suffice.
MAX_PASSES = 4


class Checked(NamedTuple):
    """A description that passed every check before placement (stages 1-4)."""

    system: System
    host: HostTree
    inputs: Inputs
    #: Kconfig option -> the description feature that needs it
    kconfig: dict[str, str]
    dtb_file: str
    #: what each domain and Xen can reach (check.isolation), Xen's load areas not yet known
    isolation: Isolation
    #: how the critical domain starts first (place.critical_first)
    critical_first: str


def check(description_path: Path, environ: Optional[Mapping[str, str]] = None) -> Plan:
    """Run every check and plan, writing nothing; raise UserError listing the problems."""
    return check_and_render(description_path, environ)[0]


def check_and_render(
    description_path: Path,
    environ: Optional[Mapping[str, str]] = None,
    compression: Optional[str] = None,
) -> tuple[Plan, dict[str, bytes]]:
    """:func:`check`, keeping the generated files (in memory) for what needs their sizes;
    with ``compression``, as if boot.compression said so (to compare its values)."""
    system = description.load(Path(description_path), environ)
    if compression is not None:
        system = system._replace(boot=system.boot._replace(compression=compression))
    return plan_and_render(system, epoch=0)


class SigningOverride(NamedTuple):
    """Signing inputs given on the command line, which win over boot.signing's."""

    key: Optional[Path] = None
    uboot_dtb: Optional[Path] = None


def build(
    description_path: Path,
    outdir: Path,
    environ: Optional[Mapping[str, str]] = None,
    signing: Optional[SigningOverride] = None,
) -> Plan:
    """Validate, plan and write every artefact for ``description_path`` into ``outdir``."""
    environ = os.environ if environ is None else environ
    system = _override(description.load(Path(description_path), environ), signing)
    epoch = source_date_epoch(environ)
    plan, files = plan_and_render(system, epoch)
    write_atomically(Path(outdir), plan, files, epoch)
    return plan


def _override(system: System, given: Optional[SigningOverride]) -> System:
    if given is None or (given.key is None and given.uboot_dtb is None):
        return system
    current = system.boot.signing
    key = given.key or (current.key if current else None)
    if key is None:
        raise UserError(
            f"{given.uboot_dtb}: a U-Boot DTB receives the public half of a signing key: "
            "give the key too (--sign-key KEY or boot.signing.key)"
        )
    uboot_dtb = given.uboot_dtb or (current.uboot_dtb if current else None)
    key_file = given.key.name if given.key else current.key_file if current else ""
    signing = Signing(
        key=key.resolve(),
        uboot_dtb=uboot_dtb.resolve() if uboot_dtb else None,
        key_file=key_file,
        uboot_version=current.uboot_version if current else None,
    )
    return system._replace(boot=system.boot._replace(signing=signing))


def services(
    description_path: Path, environ: Optional[Mapping[str, str]] = None
) -> dict[str, bytes]:
    """The backend domain's services alone (render.services), from the description only.

    For the image the backend boots from: built in the same build as the boot files, which
    wait for it, it cannot wait for them (nor for any image the description names). The rules
    that decide the services run here; the rest when the boot files are built.
    """
    system = description.load(Path(description_path), environ)
    problems = Problems(str(system.source), lines=dict(system.lines))
    rules.check_services(system, problems)
    problems.raise_if_any()
    return render.services.files(system)


def source_date_epoch(environ: Mapping[str, str]) -> int:
    """Time stamp for generated headers: SOURCE_DATE_EPOCH, or 0 for reproducibility."""
    return parse_epoch(environ.get("SOURCE_DATE_EPOCH", "0"))


def plan_and_render(system: System, epoch: int) -> tuple[Plan, dict[str, bytes]]:
    """The plan and every generated file, each inside the room placed for it.

    The DTB, the script and the FIT hold addresses, so they are placed before they exist:
    first with an estimate of their size, then (as binman packs) with their
    measured size for as long as one outgrows its room. Room only grows, so
    this settles; not settling within MAX_PASSES is a bug.
    """
    checked = check_inputs(system)
    room = {"dtb": dtb_estimate(system, checked.host), "script": script_estimate(system)}
    for _attempt in range(MAX_PASSES):
        plan = place(checked, room)
        files, placed = render.render_all(plan, epoch)
        outgrown = {
            blob.role: len(files[blob.file]) + MEASURE_MARGIN
            for blob in plan.blobs
            if blob.file in placed and blob.role != "fit" and len(files[blob.file]) > blob.span
        }
        if plan.fit is not None:
            header = fit_image.header_size(files[plan.fit.file])
            if header > fit_room.header_of(plan.fit, plan.packed_blobs()):
                outgrown["fit"] = header + MEASURE_MARGIN
        if not outgrown:
            return plan, files
        room.update(outgrown)
    raise RuntimeError(f"generated files still outgrow their room after {MAX_PASSES} passes")


def check_inputs(system: System) -> Checked:
    """Stages 2-4: the rules, the input files, Xen's .config and boot command."""
    problems = Problems(str(system.source), lines=dict(system.lines))
    host = load_host(system)
    critical = critical_first.apply(system, host)
    system = critical.system
    reach = rules.check(system, host, problems)
    dtb_file = _dtb_file(system)
    generated = partial_tree.guest_trees(system, host) if not problems.items else {}
    inputs = collect_inputs(system, {dtb_file, *outputs.GENERATED}, problems, generated)
    passthrough.check_given_trees(system, host, inputs.domains, problems)
    check_guest_trees(system, inputs, problems)
    check_guest_modules(system, inputs, problems)
    check_boot_modules(system, len(inputs.blobs) + 1, problems)  # + the DTB
    check_fdt_size(system, dtb_estimate(system, host), problems)
    needed = kconfig.required(system)
    check_config(system, needed, problems)
    uart = consoles.driver(system, host)
    if uart is not None:
        needed = kconfig.with_dependencies({**needed, uart.option: "Xen's console UART"})
    check_boot_command(system, inputs.xen, problems)
    fit.check(system, problems)
    uefi.check(system, problems)
    problems.raise_if_any()
    taken = {dtb_file, *outputs.GENERATED, *(b.file for b in inputs.blobs)}
    compression.apply(system, inputs.blobs, taken)
    return Checked(system, host, inputs, needed, dtb_file, reach, critical.how)


def place(checked: Checked, room: Mapping[str, int]) -> Plan:
    """Stage 5: every blob placed, the generated ones with ``room`` bytes ("dtb", "script",
    "fit" when it has been measured). The input blobs are shared with the plan of an
    earlier pass, which this pass replaces."""
    system, host, inputs = checked.system, checked.host, checked.inputs
    assert inputs.xen is not None  # collect_inputs reported it otherwise
    problems = Problems(str(system.source), lines=dict(system.lines))
    dtb = Blob(
        role="dtb", file=checked.dtb_file, source=None, size=0, span=room["dtb"], users=["xen"]
    )
    script = Blob(
        role="script",
        file=outputs.BOOT_SCR,
        source=None,
        size=0,
        span=room["script"],
        users=["u-boot"],
    )
    for blob in inputs.blobs:
        blob.reset()
    excluded = excluded_regions(system, host)
    blobs = [script, inputs.xen, dtb, *inputs.blobs[1:]]
    packed = staging = None
    if system.boot.format == "fit":
        header = fit_room.header_room(blobs[1:], room.get("fit", 0))
        packed = fit_room.fit_blob(blobs[1:], header)
        place_all(system, host, excluded, [script, packed, *fit_room.compressed(blobs)], problems)
        fit_room.unpack(packed, blobs[1:], header)
        blobs.append(packed)
    else:
        staging = compression.staging(inputs.blobs)
        place_all(system, host, excluded, [*blobs, *([staging] if staging else [])], problems)
    check_capacity(system, host, excluded, blobs, problems)
    problems.raise_if_any()
    return Plan(
        system=system,
        host=host,
        blobs=sorted(blobs, key=lambda b: b.address),
        xen=inputs.xen,
        dtb=dtb,
        script=script,
        xsm_policy=inputs.xsm_policy,
        dom0=inputs.dom0,
        domains=inputs.domains,
        excluded=excluded,
        xen_bootargs=xen_bootargs(system, host),
        kconfig=checked.kconfig,
        fit=packed,
        warnings=tuple(
            map(problems.placed, (*advice.warnings(system), *checked.isolation.warnings))
        ),
        isolation=isolation.with_loads(checked.isolation, blobs),
        critical_first=checked.critical_first,
        staging=staging,
    )


def _dtb_file(system: System) -> str:
    """xen.dtb when we patch it; the board's own DTB name when U-Boot edits it."""
    if system.boot.device_tree == "patched":
        return outputs.PATCHED_DTB
    return system.host.dtb.stem + ".dtb"
