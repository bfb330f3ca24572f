"""ImageBuilder's boot script for a bench description, so the bench boots both side by side.

ImageBuilder's ``uboot-script-gen`` (Xilinx's branch xlnx_rel_v2023.2 or later, which
builds a system without dom0) writes a U-Boot script that loads each domain's files in
turn, one copy per domain even where domains name the same file, then Xen last, and
edits the host DTB with U-Boot's fdt commands before ``booti``. Its input files are
the description's, its Xen command line the one our build gave Xen, so the two differ
only in what each tool makes of the same system.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from xen_dom0less.units import MiB

#: Where the bench finds an ImageBuilder checkout when --imagebuilder is not given.
ENV = "DOM0LESS_IMAGEBUILDER"
#: The script's name in the directory; ImageBuilder prints the address it runs from.
SCRIPT = "boot"
ADDRESS = re.compile(r"to be loaded at address (0x[0-9a-fA-F]+)")


def checkout(given: str | None) -> Path | None:
    """The checkout from the option, else the environment; None when neither names one."""
    value = given or os.environ.get(ENV)
    if not value:
        return None
    path = Path(value)
    if not (path / "scripts" / "uboot-script-gen").is_file():
        raise SystemExit(f"{path}: no scripts/uboot-script-gen here: give an ImageBuilder checkout")
    return path


def mebibytes(size: str) -> int:
    """A description's ``16M`` or ``1G`` in MiB (ImageBuilder's DOMU_MEM unit)."""
    units = {"M": 1, "G": 1024}
    return int(size[:-1]) * units[size[-1]]


def config(document: dict, xen_bootargs: str) -> str:
    """The description's system in ImageBuilder's shell syntax: the host DTB, Xen with our
    command line, and each domU (by the file names copied beside it) in the same order."""
    lines = [
        'MEMORY_START="0x40000000"',
        f'MEMORY_END="{0x40000000 + 2048 * MiB:#x}"',
        f'DEVICE_TREE="{Path(document["host"]["dtb"]).name}"',
        f'XEN="{Path(document["xen"]["image"]).name}"',
        f"XEN_CMD={shlex.quote(xen_bootargs)}",
        f"NUM_DOMUS={len(document['domains'])}",
        'UBOOT_SOURCE="boot.source"',
        f'UBOOT_SCRIPT="{SCRIPT}.scr"',
    ]
    for index, domain in enumerate(document["domains"]):
        lines += [
            f'DOMU_KERNEL[{index}]="{Path(domain["kernel"]).name}"',
            f"DOMU_MEM[{index}]={mebibytes(domain['memory'])}",
        ]
        if "ramdisk" in domain:
            lines.append(f'DOMU_RAMDISK[{index}]="{Path(domain["ramdisk"]).name}"')
        if "cmdline" in domain:
            lines.append(f"DOMU_CMD[{index}]={shlex.quote(domain['cmdline'])}")
    return "\n".join(lines) + "\n"


def build(document: dict, xen_bootargs: str, checkout: Path, directory: Path) -> int:
    """Write ImageBuilder's output for ``document`` into ``directory`` (the input files
    copied in, as its relative paths require); returns the address its script runs from."""
    directory.mkdir()
    inputs = [document["host"]["dtb"], document["xen"]["image"]]
    for domain in document["domains"]:
        inputs += [domain[key] for key in ("kernel", "ramdisk") if key in domain]
    for name in dict.fromkeys(inputs):
        shutil.copyfile(name, directory / Path(name).name)
    (directory / "config").write_text(config(document, xen_bootargs))
    done = subprocess.run(
        [
            "bash",
            str(checkout / "scripts" / "uboot-script-gen"),
            "-c",
            "config",
            "-d",
            str(directory),
            "-t",
            "load virtio 0:1",
        ],
        cwd=directory,
        capture_output=True,
        text=True,
    )
    found = ADDRESS.search(done.stdout)
    if done.returncode or found is None:
        raise SystemExit(
            f"ImageBuilder failed (status {done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return int(found.group(1), 16)
