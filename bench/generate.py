#!/usr/bin/env python3
"""Whole-process time of `dom0less build` for 2, 16 and 256 domUs.

Each size gets synthetic binaries (arm64 Image headers; a shared Linux kernel
and initramfs from the third domain on, as real systems share them) and is
built several times in fresh processes; the median and best are printed.
The processes use compiled bytecode, as an installed package does (kept in a
temporary PYTHONPYCACHEPREFIX, warmed by one run that is not counted), even
where the environment sets PYTHONDONTWRITEBYTECODE.

Two columns: the interpreter as it starts here, and with ``-S`` (site-packages
on PYTHONPATH instead), because a machine's site hooks (``.pth`` files) can
cost more than the whole build and say nothing about the tool.
``--imagebuilder 'COMMAND'`` also times ImageBuilder's uboot-script-gen on the
same two-domU systems: COMMAND runs in the system's directory, which holds its
``config`` (for example ``bash /path/uboot-script-gen -c config -d . -t virtio``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lib"), str(ROOT)]

from tests.conftest import arm64_image  # noqa: E402
from xen_dom0less.generator.facts import xen_versions  # noqa: E402

#: The Xen release the systems name.
XEN_VERSION = "4.17"
#: (row title, domUs, all-Linux): the systems the bench builds.
SYSTEMS = (
    ("2 domUs, bare-metal", 2, False),
    ("2 domUs, Linux (8 MiB kernel)", 2, True),
    ("16 domUs", 16, False),
    ("256 domUs", 256, False),
)

#: Run in a fresh interpreter: builds ``argv[1]`` into ``argv[2]`` and prints, as one import
#: statement, the modules the build imported besides its own (beyond what start-up had;
#: private and spec-less ones such as Cython's ``cython_runtime`` come with their parents).
IMPORTS_PROBE = """
import sys
before = set(sys.modules)
sys.path.insert(0, {lib!r})
from xen_dom0less.cli import main
main(["build", sys.argv[1], "-o", sys.argv[2]])
ours = ("xen_dom0less", "_")
print("import " + ", ".join(sorted(
    name for name in set(sys.modules) - before
    if not name.startswith(ours) and getattr(sys.modules[name], "__spec__", None) is not None)))
""".format(lib=str(ROOT / "lib"))


def kernel_of(index: int, linux: bool) -> str:
    """Domain ``index``'s kernel: a small bare-metal image of its own, or the shared Linux."""
    return "Image" if linux or index >= 2 else f"rtos{index}.bin"


def write_system(directory: Path, domains: int, linux: bool) -> Path:
    """A description of ``domains`` domUs with its binaries, which `check` accepts.

    Xen keeps as many module command lines as MAX_MODULES; the Linux domains past
    that boot with the kernel's built-in command line, as a real system that size would.
    A Linux domain has the RAM Xen needs to place its kernel, ramdisk and tree (12M), and
    the board 8 GiB (QEMU's virt with -m 8G) for 254 of them.
    """
    cmdlines = xen_versions.limits(XEN_VERSION).boot_cmdlines
    (directory / "xen").write_bytes(arm64_image(1_000_000, fill=b"\x01"))
    (directory / "Image").write_bytes(arm64_image(8 << 20, fill=b"\x02"))
    (directory / "initrd.cpio").write_bytes(b"070701" + b"0" * ((2 << 20) - 6))
    lines = [
        "version: 1",
        f"xen: {{image: xen, version: '{XEN_VERSION}'}}",
        f"host: {{dtb: {ROOT / 'examples' / 'qemu-virt.dtb'}, "
        "memory: [{address: 0x40000000, size: 8G}]}",
        "boot: {load: 'virtio 0:1', align: 64K}",
        "domains:",
    ]
    for index in range(domains):
        kernel = kernel_of(index, linux)
        if kernel == "Image":
            cmdline = ", cmdline: console=ttyAMA0" if index < cmdlines else ""
            lines.append(
                f"  - {{name: vm{index}, kernel: Image, ramdisk: initrd.cpio, "
                f"memory: 12M{cmdline}}}"
            )
        else:
            (directory / kernel).write_bytes(arm64_image(16384, fill=bytes([3 + index])))
            lines.append(f"  - {{name: vm{index}, kernel: {kernel}, memory: 4M}}")
    path = directory / "system.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_imagebuilder_config(directory: Path, domains: int, linux: bool) -> None:
    """The same system as ``write_system`` in ImageBuilder's shell syntax, no dom0."""
    lines = [
        'MEMORY_START="0x40000000"',
        'MEMORY_END="0xC0000000"',
        'DEVICE_TREE="qemu-virt.dtb"',
        'XEN="xen"',
        f"NUM_DOMUS={domains}",
        # Read by some ImageBuilder forks (no dom0, no cache colouring); ignored by others.
        "DOM0=false",
        "USE_COLORING=false",
        "MAX_COLORS=15",
        "LOG_LEVEL=all",
    ]
    for index in range(domains):
        kernel = kernel_of(index, linux)
        lines += [f'DOMU_KERNEL[{index}]="{kernel}"', f"DOMU_MEM[{index}]=4"]
        if kernel == "Image":
            lines += [
                f'DOMU_RAMDISK[{index}]="initrd.cpio"',
                f'DOMU_CMD[{index}]="console=ttyAMA0"',
            ]
    (directory / "config").write_text("\n".join(lines) + "\n")
    (directory / "qemu-virt.dtb").write_bytes((ROOT / "examples" / "qemu-virt.dtb").read_bytes())


def timed(
    argv: list[str], runs: int, environ: dict[str, str], cwd: Path | None = None
) -> list[float]:
    """Seconds per run of ``argv``, after one uncounted run that writes the bytecode."""
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=environ, cwd=cwd)
        times.append(time.perf_counter() - start)
    return times[1:]


def build_imports(python: list[str], environ: dict[str, str]) -> str:
    """The import statement for what a two-domU build imports besides our own modules."""
    with tempfile.TemporaryDirectory() as temp:
        path = write_system(Path(temp), 2, False)
        probe = [*python, "-c", IMPORTS_PROBE, str(path), f"{temp}/out"]
        result = subprocess.run(probe, check=True, capture_output=True, text=True, env=environ)
    return result.stdout.strip().splitlines()[-1]


def python_modes(pycache: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Column title -> (interpreter argv, environment) for each way of starting Python."""
    environ = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    environ["PYTHONPYCACHEPREFIX"] = pycache
    import fdt
    import yaml

    packages = {str(Path(module.__file__).parent.parent) for module in (yaml, fdt)}
    bare = dict(environ, PYTHONPATH=os.pathsep.join(sorted(packages)))
    return {"python": ([sys.executable], environ), "python -S": ([sys.executable, "-S"], bare)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--imagebuilder",
        metavar="COMMAND",
        help="also time this ImageBuilder command on the 2-domU systems",
    )
    args = parser.parse_args()
    columns = ["python", "python -S"] + (["ImageBuilder"] if args.imagebuilder else [])
    rows: list[tuple[str, dict[str, list[float]]]] = []
    with tempfile.TemporaryDirectory() as pycache:
        modes = python_modes(pycache)
        # Floors: starting the interpreter, then also importing what the build needs.
        imports = build_imports(*modes["python -S"])
        for title, code in (
            ("(interpreter start: -c pass)", "pass"),
            ("(its imports, nothing done)", imports),
        ):
            rows.append(
                (
                    title,
                    {
                        mode: timed([*python, "-c", code], args.runs, environ)
                        for mode, (python, environ) in modes.items()
                    },
                )
            )
        for title, domains, linux in SYSTEMS:
            with tempfile.TemporaryDirectory() as temp:
                directory = Path(temp)
                path = write_system(directory, domains, linux)
                command = [
                    str(ROOT / "scripts" / "dom0less"),
                    "build",
                    str(path),
                    "-o",
                    f"{temp}/out",
                ]
                times = {
                    mode: timed([*python, *command], args.runs, environ)
                    for mode, (python, environ) in modes.items()
                }
                if args.imagebuilder and domains == 2:
                    write_imagebuilder_config(directory, domains, linux)
                    times["ImageBuilder"] = timed(
                        shlex.split(args.imagebuilder), args.runs, dict(os.environ), cwd=directory
                    )
                rows.append((title, times))
    print(f"{'median / best, ms':<32}" + "".join(f"{c:>18}" for c in columns))
    for title, times in rows:
        cells = [
            f"{statistics.median(times[c]) * 1000:7.1f} /{min(times[c]) * 1000:6.1f}"
            if c in times
            else ""
            for c in columns
        ]
        print(f"{title:<32}" + "".join(f"{cell:>18}" for cell in cells))


if __name__ == "__main__":
    main()
