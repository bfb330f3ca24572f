#!/usr/bin/env python3
"""Guest time from reset to each domU's first line, for several ways of booting the same system.

QEMU runs with -smp 1 -icount shift=0,sleep=off (one instruction = 1 ns of
guest time) and Xen with console_timestamps=boot, so Xen's side is
identical run to run. The bare-metal domU prints the physical counter it
read on entry (counting from reset); the difference from Xen's stamp on that
line dates Xen's clock, which turns every Xen stamp into time since reset.
What happens before Xen (U-Boot waiting for the disk or the network) follows
the host's I/O, so the median of --runs boots is shown.

A second table boots three domUs (the critical bare-metal one first, Linux,
a second bare-metal one) several times per machine and Xen scheduler, and
reports which domain started first and when (each bare-metal guest prints
the counter it read on entry). QEMU's icount hangs Xen after CPU bring-up
with several CPUs, so the four-CPU boots run on real time (multi-threaded
TCG, as `dom0less run-qemu` boots): there the order, not the exact times,
is the result.

A third compares Xen's bootscrub values on Xen 4.22 built from its release source: the
default (idle, the only one that scrubs dom0less domUs' memory, SUPPORT.md) against 0 and
on, by when the critical domU starts.
Needs `dom0less setup` first.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))

import yaml
from xen_dom0less_harness import debian_inputs, runner
from xen_dom0less_harness.guests import baremetal, initramfs, xl_dom0
from xen_dom0less_harness.machine import Machine

from xen_dom0less.generator import pipeline
from xen_dom0less.generator.facts import storage
from xen_dom0less.generator.pipeline import build
from xen_dom0less.generator.render import load_time
from xen_dom0less.timeline import read
from xen_dom0less.xenbuild import build_release, locate

RTOS = "bench-rtos: up"
SECOND = "bench-second: up"
LINUX = "bench-linux: up"
DOM0 = "bench-dom0: up"
XL = "bench-dom0: xl create"
MACHINE = Machine(smp=1, icount=True)
#: Four CPUs (run-qemu's default); real time, as icount hangs Xen with several CPUs.
ORDER_MACHINE = Machine(smp=4)
#: The boot storage classes of the throttled table (facts.storage), the boot disk read at
#: each one's rate by QEMU's block throttling.
STORAGE_CASES = ("sd", "emmc")
#: QEMU throttles on the host's clock: a throttled read takes its real time only when the
#: guest runs on real time too (-icount hides most of the wait, the table shows how much).
STORAGE_MACHINE = Machine(smp=1)
#: (machine, Xen scheduler) pairs of the start-order table: Xen's default, and credit.
ORDER_CASES = ((MACHINE, None), (ORDER_MACHINE, None), (ORDER_MACHINE, "credit"))
#: bootscrub= values of the scrub table (None: Xen's default, idle), and the release.
SCRUB_CASES = ("0", None, "on")
SCRUB_XEN = "4.22"
#: The project's Xen release tarballs (else DOM0LESS_XEN_SOURCE_4_22 or the download).
XEN_SOURCES = Path(__file__).resolve().parent.parent.parent / "shared" / "xen-src"


@dataclass(frozen=True)
class Variant:
    name: str
    floor: bool = False
    device_tree: str = "patched"
    load: str = "virtio 0:1"
    gzip_kernel: bool = False
    dom0: bool = False


VARIANTS = (
    Variant("patched, Image, virtio (baseline)"),
    Variant("fdt-commands", device_tree="fdt-commands"),
    Variant("gzip kernel", gzip_kernel=True),
    Variant("TFTP", load="tftp"),
    Variant("dom0 + 2 domUs", dom0=True),
    Variant("floor: no U-Boot", floor=True),
)


@dataclass(frozen=True)
class Times:
    xen_clock: float  # when Xen's clock started, seconds since reset
    rtos: float
    linux: float
    wall: float


def files(work: Path, found: debian_inputs.GuestInputs) -> dict[str, Path]:
    """The guests and inputs every variant shares."""
    rtos = baremetal.write(baremetal.Program(RTOS, print_counter=True), work / "rtos.bin")
    kernel_gz = work / "Image.gz"
    kernel_gz.write_bytes(gzip.compress(found.kernel.read_bytes(), mtime=0))
    return {
        "xen": found.xen,
        "dtb": MACHINE.dumpdtb(work / "virt.dtb"),
        "rtos": rtos,
        "second": baremetal.write(
            baremetal.Program(SECOND, print_counter=True), work / "second.bin"
        ),
        "dtb4": ORDER_MACHINE.dumpdtb(work / "virt4.dtb"),
        "kernel": found.kernel,
        "kernel_gz": kernel_gz,
        "initrd": initramfs.write(LINUX, found.busybox, work / "linux.cpio"),
        "dom0_initrd": initramfs.write(DOM0, found.busybox, work / "dom0.cpio"),
    }


def description(variant: Variant, f: dict[str, Path]) -> dict:
    kernel = str(f["kernel_gz"] if variant.gzip_kernel else f["kernel"])
    document = {
        "version": 1,
        "xen": {
            "image": str(f["xen"]),
            "version": "4.17",
            "extra_bootargs": "console_timestamps=boot",
        },
        "host": {"dtb": str(f["dtb"])},
        "boot": {
            "load": variant.load,
            "device_tree": variant.device_tree,
            "script_address": 0x40200000,
        },
        "domains": [
            {"name": "rtos", "kernel": str(f["rtos"]), "memory": "16M"},
            {
                "name": "linux",
                "kernel": kernel,
                "ramdisk": str(f["initrd"]),
                "cmdline": "console=ttyAMA0 quiet",
                "memory": "256M",
            },
        ],
    }
    if variant.dom0:
        document["host"]["disable"] = ["/pl061@9030000"]
        document["dom0"] = {
            "kernel": kernel,
            "ramdisk": str(f["dom0_initrd"]),
            "cmdline": "console=hvc0 quiet",
            "memory": "512M",
        }
    return document


def three_domus(f: dict[str, Path], machine: Machine, scheduler: str | None) -> dict:
    """The critical bare-metal domU first, then Linux, then a second bare-metal domU."""
    document = description(Variant("three domUs"), f)
    document["host"]["dtb"] = str(f["dtb4" if machine.smp == ORDER_MACHINE.smp else "dtb"])
    document["domains"].append({"name": "second", "kernel": str(f["second"]), "memory": "16M"})
    if scheduler:
        document["xen"]["scheduler"] = scheduler
    return document


def build_system(document: dict, work: Path) -> Path:
    """Build the system once; every run boots the same output."""
    work.mkdir(exist_ok=True)
    spec = work / "system.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    build(spec, work / "out")
    return work / "out"


def measure(variant: Variant, outdir: Path) -> Times:
    expect = [RTOS, "frequency", LINUX] + ([DOM0] if variant.dom0 else [])
    result = runner.boot(outdir, expect, timeout=300, machine=MACHINE, floor=variant.floor)
    if not result.ok:
        raise SystemExit(f"{variant.name}: {result.reason}\n{result.console[-3000:]}")
    # The same reading as `dom0less timeline`: Xen's stamps dated by d1's entry counter.
    timeline = read.read(result.console)
    linux = timeline.first(LINUX)
    if timeline.xen_zero is None or linux is None or linux.time is None:
        raise SystemExit(f"{variant.name}: no dated entry counter or Linux marker")
    return Times(timeline.xen_zero, timeline.entered[1], linux.time, result.elapsed)


def median(samples: list[Times]) -> Times:
    return Times(
        *(
            statistics.median(getattr(s, field) for s in samples)
            for field in ("xen_clock", "rtos", "linux", "wall")
        )
    )


@dataclass(frozen=True)
class Order:
    """One boot of the three-domU system: when each bare-metal guest started."""

    critical: float  # d1, seconds since reset
    second: float  # d3

    @property
    def first(self) -> str:
        return "critical (d1)" if self.critical < self.second else "second (d3)"


def measure_order(outdir: Path, machine: Machine) -> Order:
    result = runner.boot(outdir, [RTOS, SECOND, LINUX], timeout=300, machine=machine)
    if not result.ok:
        raise SystemExit(f"three domUs: {result.reason}\n{result.console[-3000:]}")
    started = read.read(result.console).entered
    return Order(started[1], started[3])


def order_table(shared: dict[str, Path], work: Path, runs: int) -> list[str]:
    """Markdown rows: per scheduler, how often the critical domain started first, and when."""
    lines = [
        "Start order, three domUs (critical bare-metal d1, Linux d2, bare-metal d3), "
        f"time from reset; {runs} boots each",
        "",
        "| QEMU virt | Xen scheduler | critical domain first | d1 started (s, median) "
        "| d3 started (s, median) | each boot: first (d1 - d3 in ms) |",
        "|---|---|---:|---:|---:|---|",
    ]
    for index, (machine, scheduler) in enumerate(ORDER_CASES):
        run_dir = work / f"order-{index}"
        run_dir.mkdir()
        outdir = build_system(three_domus(shared, machine, scheduler), run_dir)
        boots = [measure_order(outdir, machine) for _ in range(runs)]
        name = f"-smp {machine.smp}" + (" -icount" if machine.icount else ", real time")
        print(f"  measured start order, {name}, {scheduler}", file=sys.stderr, flush=True)
        wins = sum(b.critical < b.second for b in boots)
        each = ", ".join(f"{b.first} ({(b.critical - b.second) * 1000:+.0f})" for b in boots)
        lines.append(
            f"| {name} | {scheduler or 'credit2 (default)'} | {wins} of {runs} "
            f"| {statistics.median(b.critical for b in boots):.3f} "
            f"| {statistics.median(b.second for b in boots):.3f} | {each} |"
        )
    return lines


@dataclass(frozen=True)
class StorageBoot:
    """One boot from throttled storage: what U-Boot read, and when the domUs started."""

    read_ms: int  # U-Boot's own count for its reads before Xen
    critical: float  # d1's entry, seconds from reset
    linux: float  # the Linux domU's init marker, seconds from reset


def measure_storage(outdir: Path, machine: Machine) -> StorageBoot:
    result = runner.boot(outdir, [RTOS, "frequency", LINUX], timeout=600, machine=machine)
    if not result.ok:
        raise SystemExit(f"throttled boot: {result.reason}\n{result.console[-3000:]}")
    timeline = read.read(result.console)
    linux = timeline.first(LINUX)
    if linux is None or linux.time is None:
        raise SystemExit("throttled boot: the Linux marker is not dated")
    return StorageBoot(sum(ms for _, ms in timeline.reads), timeline.entered[1], linux.time)


def storage_table(shared: dict[str, Path], work: Path, runs: int) -> list[str]:
    """Markdown rows: the baseline system booted from storage read at each class's rate,
    beside `dom0less plan --storage`'s estimate for it.

    On real time the host's load slows every instruction, so the time to the critical
    domain is put together from what each clock measures well: the boot's CPU work from
    an unthrottled -icount boot (d1's start less U-Boot's reads), plus the reads U-Boot
    counted on real time from the throttled disk.
    """
    run_dir = work / "storage"
    outdir = build_system(description(VARIANTS[0], shared), run_dir)
    plan, rendered = pipeline.check_and_render(run_dir / "system.yaml")
    size = sum(r.size for r in load_time.reads(plan, rendered))
    base = [measure_storage(outdir, MACHINE) for _ in range(runs)]
    work_s = statistics.median(b.critical - b.read_ms / 1000 for b in base)
    host = [measure_storage(outdir, STORAGE_MACHINE) for _ in range(runs)]
    host_ms = statistics.median(b.read_ms for b in host)
    lines = [
        f"Boot storage throttled by QEMU, {size} bytes before Xen; median of {runs} boots. "
        f"The boot's CPU work, -smp 1 -icount unthrottled: {work_s:.3f} s (d1's start less "
        f"U-Boot's reads). Unthrottled on real time U-Boot reads them in {host_ms:.0f} ms on "
        "this host: a class whose reads take no longer measures the emulated CPU, not the "
        "storage",
        "",
        "| storage | MB/s | U-Boot's reads, real time (ms) | the same under -icount (ms) "
        "| critical d1 starts (s) | plan's estimate (s) | estimate / measured "
        "| d1 on real time, this host (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in STORAGE_CASES:
        medium = storage.STORAGE[name]
        rate = int(medium.rate)
        throttled = dataclasses.replace(STORAGE_MACHINE, disk_rate=rate)
        real = [measure_storage(outdir, throttled) for _ in range(runs)]
        icount = measure_storage(outdir, dataclasses.replace(MACHINE, disk_rate=rate))
        print(f"  measured storage {name}", file=sys.stderr, flush=True)
        reads = statistics.median(b.read_ms for b in real)
        critical = work_s + reads / 1000
        estimate = load_time.domus_start(plan, rendered, medium)
        lines.append(
            f"| {name} | {medium.rate / 1e6:.1f} | {reads:.0f} | {icount.read_ms} "
            f"| {critical:.3f} | {estimate:.3f} | {estimate / critical:.2f} "
            f"| {statistics.median(b.critical for b in real):.3f} |"
        )
    return lines


def scrub_table(shared: dict[str, Path], work: Path, runs: int) -> list[str]:
    """Markdown rows: the baseline system on Xen 4.22 (defconfig) per bootscrub value."""
    xen = build_release(locate(SCRUB_XEN, XEN_SOURCES), progress=lambda line: None)
    lines = [
        f"Xen {SCRUB_XEN} defconfig ({xen.outdir.name}), baseline system, time from reset "
        f"(s), QEMU virt -smp 1 -icount; median of {runs}",
        "",
        "| bootscrub | Xen starts | critical domU first line | the same from Xen's start "
        "| Linux domU init marker |",
        "|---|---:|---:|---:|---:|",
    ]
    for value in SCRUB_CASES:
        document = description(VARIANTS[0], shared)
        document["xen"].update(image=str(xen.xen), config=str(xen.config), version=SCRUB_XEN)
        if value is not None:
            document["xen"]["extra_bootargs"] += f" bootscrub={value}"
        outdir = build_system(document, work / f"scrub-{value}")
        boots = median([measure(VARIANTS[0], outdir) for _ in range(runs)])
        print(f"  measured bootscrub={value}", file=sys.stderr, flush=True)
        name = f"`{value}`" if value else "default (`idle`)"
        lines.append(
            f"| {name} | {boots.xen_clock:.4f} | {boots.rtos:.4f} "
            f"| {boots.rtos - boots.xen_clock:.4f} | {boots.linux:.3f} |"
        )
    return lines


def spread(samples: list[float]) -> str:
    return f"{min(samples):.3f}-{max(samples):.3f}"


def xl_comparison(shared: dict[str, Path], work: Path, runs: int) -> list[str]:
    """The same bare-metal guest started dom0less and by a Linux dom0 running ``xl create``.

    The dom0 initramfs holds Debian's Xen 4.17 tools; the description keeps an idle
    bare-metal domU because a description needs one. Both times come from the guest's
    own entry counter, on -smp 1 -icount.
    """
    run_dir = work / "xl"
    run_dir.mkdir()
    idle = baremetal.write(baremetal.Program("bench-idle: up"), run_dir / "idle.bin")
    found = debian_inputs.installed()
    ramdisk = xl_dom0.write(shared["rtos"], 16, XL, found.kernel, run_dir / "xl-dom0.cpio")
    document = description(Variant("dom0 + xl create"), shared)
    document["host"]["disable"] = ["/pl061@9030000"]
    document["dom0"] = {
        "kernel": str(found.kernel),
        "ramdisk": str(ramdisk),
        "cmdline": "console=hvc0 quiet",
        "memory": "512M",
    }
    document["domains"] = [{"name": "idle", "kernel": str(idle), "memory": "16M"}]
    outdir = build_system(document, run_dir)
    dom0less = build_system(description(VARIANTS[0], shared), work / "xl-baseline")
    xl_times, dom0less_times = [], []
    for _ in range(runs):
        result = runner.boot(outdir, [XL, RTOS, "frequency"], timeout=300, machine=MACHINE)
        if not result.ok:
            raise SystemExit(f"dom0 + xl create: {result.reason}\n{result.console[-3000:]}")
        xl_times.append(read.read(result.console).entered[0])
        dom0less_times.append(measure(VARIANTS[0], dom0less).rtos)
    print("  measured dom0 + xl create", file=sys.stderr, flush=True)
    xl_s, dom0less_s = statistics.median(xl_times), statistics.median(dom0less_times)
    return [
        "The same bare-metal guest's first instruction, seconds from reset, QEMU virt -smp 1 "
        f"-icount; median of {runs}",
        "",
        "| started by | guest starts (s) | range over the boots |",
        "|---|---:|---:|",
        f"| Xen, dom0less | {dom0less_s:.3f} | {spread(dom0less_times)} |",
        "| a Linux dom0 running `xl create` (Debian's Xen 4.17 tools) "
        f"| {xl_s:.3f} | {spread(xl_times)} |",
        "",
        f"dom0 + xl create starts the guest {xl_s / dom0less_s:.0f}x later than dom0less.",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="boots per variant (median shown)")
    parser.add_argument(
        "--order-runs", type=int, default=6, help="boots per scheduler of the start-order table"
    )
    parser.add_argument(
        "--only",
        choices=("variants", "order", "xl", "storage", "scrub"),
        help="measure only one table: the boot variants, the start order, dom0 + xl, the "
        "throttled boot storage, or bootscrub on Xen 4.22",
    )
    args = parser.parse_args()
    found = debian_inputs.installed()
    rows = []
    with tempfile.TemporaryDirectory(prefix="dom0less-bench-") as tmp:
        work = Path(tmp)
        shared = files(work, found)
        tables = []
        if args.only in (None, "order"):
            tables.append(order_table(shared, work, args.order_runs))
        if args.only in (None, "xl"):
            tables.append(xl_comparison(shared, work, args.runs))
        if args.only in (None, "storage"):
            tables.append(storage_table(shared, work, args.runs))
        if args.only in (None, "scrub"):
            tables.append(scrub_table(shared, work, args.runs))
        for index, variant in enumerate(VARIANTS if args.only in (None, "variants") else ()):
            run_dir = work / str(index)
            run_dir.mkdir()
            outdir = build_system(description(variant, shared), run_dir)
            runs = [measure(variant, outdir) for _ in range(args.runs)]
            rows.append((variant.name, median(runs)))
            print(f"  measured {variant.name}", file=sys.stderr, flush=True)
    if rows:
        print(f"Guest time from reset (s), QEMU virt -smp 1 -icount shift=0; median of {args.runs}")
        print()
        print(
            "| variant | Xen starts | bare-metal domU first line | Linux domU init marker "
            "| host wall (s) |"
        )
        print("|---|---:|---:|---:|---:|")
        for name, t in rows:
            print(f"| {name} | {t.xen_clock:.3f} | {t.rtos:.3f} | {t.linux:.3f} | {t.wall:.1f} |")
        print()
    print("\n\n".join("\n".join(table) for table in tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
