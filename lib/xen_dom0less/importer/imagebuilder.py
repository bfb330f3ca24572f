"""ImageBuilder's ``uboot-script-gen`` config -> an equivalent system description.

Each variable ImageBuilder documents is either carried over (with
ImageBuilder's own default where it has one, so the imported system boots
the same way) or named in ``dropped`` with the reason, so a user switching
knows exactly what to redo by hand. Paths in the config are relative to
ImageBuilder's ``-d`` directory; they are written relative to the new
description, which is how descriptions name their files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..errors import InputFileError, Problems
from . import colours
from .shell_config import ShellConfig

#: A number as the config may write it: decimal without a leading zero (bash would read that
#: as octal) or 0x hex.
_NUMBER = re.compile(r"0|[1-9][0-9]*|0[xX][0-9a-fA-F]+")

#: ImageBuilder's defaults (README / uboot-script-gen).
DOMU_MEM_MB = 512
DOM0_MEM_MB = 1024
DOMU_CMD = "console=ttyAMA0"
DOM0_CMD = "console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused"
#: ImageBuilder's -t shorthands and load commands -> boot.load.
LOADS = {
    "tftp": "tftp",
    "tftpb": "tftp",
    "sd": "mmc 0:1",
    "scsi": "scsi 0:1",
    "usb": "usb 0:1",
}
LOAD_PREFIXES = ("load ", "fatload ")
#: DOMU_CAPS words in the order of Xen's capability bits (public/bootfdt.h).
CAPABILITIES = ["control", "hardware", "xenstore"]
LOAD_DEVICES = ("mmc", "usb", "virtio", "scsi")
#: Variables that have no counterpart, with what to do instead.
NO_COUNTERPART = {
    "UBOOT_SOURCE": "dom0less build names its outputs boot.cmd and boot.scr",
    "UBOOT_SCRIPT": "dom0less build names its outputs boot.cmd and boot.scr",
    "FDTEDIT": "dom0less build always writes the edited tree as xen.dtb",
    "BITSTREAM": "no FPGA programming in the boot script: load the bitstream before it runs",
    "NUM_DT_OVERLAY": "host DT overlays are not applied at boot: apply them to host.dtb "
    "with fdtoverlay first",
    "DT_OVERLAY": "host DT overlays are not applied at boot: apply them to host.dtb "
    "with fdtoverlay first",
    "APPEND_EXTRA_CMDS": "extra U-Boot commands are not added to the boot script",
    "PASSTHROUGH_DTS_REPO": "partial device trees are not fetched or compiled: compile "
    "them and set domains[].device_tree",
    "LOPPER_PATH": "partial device trees are not made with Lopper: build generates them "
    "from domains[].passthrough (or give your own as domains[].device_tree)",
    "LOPPER_CMD": "partial device trees are not made with Lopper",
    "LINUX": "Linux without Xen is not a dom0less system",
    "LINUX_CMD": "Linux without Xen is not a dom0less system",
    "LINUX_RAMDISK": "Linux without Xen is not a dom0less system",
    "DOM0_ROOTFS": "disk_image's partition; not part of the boot script",
    "DOMU_ROOTFS": "disk_image's partition; ImageBuilder skips such a domU at boot too",
    "NUM_BOOT_AUX_FILE": "disk_image's extra files; not part of the boot script",
    "BOOT_AUX_FILE": "disk_image's extra files; not part of the boot script",
    "GPT": "disk_image's partition table; not part of the boot script",
    "DOMU_DRIVER_DOMAIN": "an xl setting for domains created from dom0",
    "DOMU_NOBOOT": "this domU is not created at boot, so it is left out",
}


@dataclass
class Conversion:
    """The description (as YAML data) and one line per variable not carried over."""

    document: dict[str, Any]
    dropped: list[str] = field(default_factory=list)


def convert(config: ShellConfig, root: Path, out_dir: Path, xen_version: str) -> Conversion:
    """Convert ``config``; ``root`` is ImageBuilder's -d, ``out_dir`` the description's folder."""
    return _Converter(config, root, out_dir).run(xen_version)


#: How a colour set Xen 4.20+ cannot read is refused.
NOT_A_COLOUR_SET = (
    "is not a colour set: write a range such as 0-3, or Xen's list of numbers and ranges "
    "such as 0-3,8"
)


class _Converter:
    def __init__(self, config: ShellConfig, root: Path, out_dir: Path) -> None:
        self.config = config
        self.root = root
        self.out_dir = out_dir
        self.used: set[str] = set()
        self.dropped: list[str] = []
        self.problems = Problems(str(config.path), InputFileError)
        self.not_numbers: set[str] = set()  # keys refused as numbers: read on as 0
        self.command_colours = colours.CommandColours("", {}, False, [], [])  # XEN_CMD's

    # -- reading ---------------------------------------------------------------

    def value(self, name: str, index: Optional[int] = None) -> Optional[str]:
        key = name if index is None else f"{name}[{index}]"
        found = self.config.get(name, index)
        if found is None and index == 0:  # bash: NAME=x sets NAME[0]
            key, found = name, self.config.get(name)
        if found is not None:
            self.used.add(key)
        return found if found else None

    def number(self, name: str, index: Optional[int] = None) -> Optional[int]:
        text = self.value(name, index)
        if text is None:
            return None
        return self.parse_number(name if index is None else f"{name}[{index}]", text)

    def parse_number(self, key: str, text: str) -> int:
        """``text`` (all or one word of ``key``'s value) as decimal or 0x hex; else a problem
        (and 0, which no description is written with)."""
        if _NUMBER.fullmatch(text) is None:
            self.not_numbers.add(key)
            self.problems.add(
                key,
                f"{text!r} is not a number: write it in decimal or 0x hex",
                line=self.config.lines.get(key),
            )
            return 0
        return int(text, 0)

    def colours(self, name: str, index: Optional[int] = None) -> Optional[str]:
        """A colour set (XEN_COLORS, DOM0_COLORS, DOMU_COLORS[i]) Xen 4.20+ reads; else a
        problem at its line."""
        text = self.value(name, index)
        key = name if index is None else f"{name}[{index}]"
        if text is not None and not colours.is_colour_list(text):
            self.refuse(key, f"{key}={text!r} {NOT_A_COLOUR_SET}")
        return text

    def refuse(self, key: Optional[str], message: str) -> None:
        """A problem at ``key``'s line (the file's, if no key or it is not set); the
        conversion reads on to find the others, and run() raises them all."""
        self.problems.add("", message, line=self.config.lines.get(key) if key else None)

    def path(self, text: str) -> str:
        """A config path (relative to ImageBuilder's -d) as the description names it."""
        full = Path(os.path.abspath(self.root / text))
        return os.path.relpath(full, os.path.abspath(self.out_dir))

    def drop(self, key: str, why: str) -> None:
        self.dropped.append(f"{key}: {why}")

    # -- converting ------------------------------------------------------------

    def run(self, xen_version: str) -> Conversion:
        document: dict[str, Any] = {"version": 1, "xen": self.xen(xen_version)}
        dtb = self.value("DEVICE_TREE")
        if dtb is None:
            self.refuse(None, "DEVICE_TREE is not set: name the board's DTB")
        else:
            document["host"] = {"dtb": self.path(dtb)}
        dom0 = self.dom0()
        if dom0:
            document["dom0"] = dom0
        pools = self.cpupools()
        domains, shared = self.domains(dom0 is not None, pools)
        document["domains"] = domains
        if shared:
            document["shared_memory"] = shared
        if pools:
            document["cpupools"] = list(pools.values())
        document["boot"] = self.boot()
        self.colouring_on(document)
        self.problems.raise_if_any()
        self.unknown()
        return Conversion(document, self.dropped)

    def xen(self, version: str) -> dict[str, Any]:
        image = self.value("XEN")
        if image is None:
            self.refuse(
                None,
                "XEN is not set: name the Xen binary (a config for Linux without Xen is not a "
                "dom0less system)",
            )
        xen: dict[str, Any] = {"image": self.path(image or ""), "version": version}
        command = self.value("XEN_CMD")
        if command is not None and self.config.get("DOM0_KERNEL") is None:
            words = command.split()  # ImageBuilder: params=($XEN_CMD); "${params[@]/dom0*/}"
            removed = [word for word in words if word.startswith("dom0")]
            if removed:
                self.drop(
                    "XEN_CMD",
                    f"{' '.join(removed)} left out of xen.bootargs: without DOM0_KERNEL "
                    "ImageBuilder removes dom0 options from Xen's command line too",
                )
                command = " ".join(word for word in words if not word.startswith("dom0"))
        if command is not None:
            self.command_colours = colours.from_command(command)
            for line in self.command_colours.unused:
                self.drop("XEN_CMD", line)
            for word in self.command_colours.unreadable:
                self.refuse("XEN_CMD", f"XEN_CMD: {word!r} {NOT_A_COLOUR_SET}")
            if self.command_colours.colours or self.command_colours.turned_on:
                command = self.command_colours.command  # the description writes them
            xen["bootargs"] = command
        else:
            self.drop(
                "XEN_CMD",
                "not set: ImageBuilder's default line (dtuart=serial0 ... vwfi=native "
                "sched=null) is replaced by dom0less's, computed from the board's "
                "stdout-path and dom0; set xen.extra_bootargs to add options",
            )
        colors = self.colours("XEN_COLORS") or self.command_colours.colours.get("xen")
        if colors is not None:
            xen["llc_coloring"] = {"xen_colors": colors}
        heap = self.regions("XEN_STATIC_HEAP")
        if heap:
            xen["static_heap"] = heap
        return xen

    def dom0(self) -> Optional[dict[str, Any]]:
        kernel = self.value("DOM0_KERNEL")
        if kernel is None:
            for name in ("DOM0_CMD", "DOM0_RAMDISK", "DOM0_MEM", "DOM0_VCPUS", "DOM0_COLORS"):
                if self.value(name) is not None:
                    self.drop(name, "no DOM0_KERNEL, so there is no dom0 to apply it to")
            return None
        command = self.value("DOM0_CMD") or DOM0_CMD
        if "root=" not in command:
            command += " root=/dev/ram0"  # what ImageBuilder adds without a DOM0_ROOTFS
        dom0: dict[str, Any] = {"kernel": self.path(kernel)}
        ramdisk = self.value("DOM0_RAMDISK")
        if ramdisk is not None:
            dom0["ramdisk"] = self.path(ramdisk)
        dom0["cmdline"] = command
        dom0["memory"] = f"{self.number('DOM0_MEM') or DOM0_MEM_MB}M"
        dom0["vcpus"] = self.number("DOM0_VCPUS") or 1
        colors = self.colours("DOM0_COLORS") or self.command_colours.colours.get("dom0")
        if colors is not None:
            dom0["llc_colors"] = colors
        if self.value("XEN_CMD") is not None:
            for name in ("DOM0_MEM", "DOM0_VCPUS"):
                if name in self.used:
                    self.drop(
                        name,
                        "ImageBuilder ignores it when XEN_CMD is set; the description's dom0 "
                        "memory and vcpus are kept, but xen.bootargs (from XEN_CMD) decides "
                        "dom0_mem and dom0_max_vcpus",
                    )
        return dom0

    def colouring_on(self, document: dict[str, Any]) -> None:
        """xen.llc_coloring (llc-coloring=on, and LLC_COLORING in Xen's build) once anything
        is coloured: Xen panics on a domain's llc-colors while colouring is off."""
        coloured = [document.get("dom0") or {}, *document["domains"]]
        if self.command_colours.turned_on or any("llc_colors" in d for d in coloured):
            document["xen"].setdefault("llc_coloring", {})

    def cpupools(self) -> dict[int, dict[str, Any]]:
        """CPUPOOL[n] = "cpu@1,cpu@2 SCHEDULER" -> pool 'poolN' (DOMU_CPUPOOL names n)."""
        count = self.number("NUM_CPUPOOLS") or 0
        pools: dict[int, dict[str, Any]] = {}
        for index in range(count):
            text = self.value("CPUPOOL", index)
            if text is None:
                self.refuse(
                    "NUM_CPUPOOLS", f"NUM_CPUPOOLS is {count} but CPUPOOL[{index}] is not set"
                )
                continue
            cpus, _, scheduler = text.partition(" ")
            pool: dict[str, Any] = {
                "name": f"pool{index}",
                "cpus": [f"/cpus/{name.strip()}" for name in cpus.split(",") if name.strip()],
            }
            if scheduler.strip():
                pool["scheduler"] = scheduler.strip()
            pools[index] = pool
        return pools

    def domains(
        self, has_dom0: bool, pools: dict[int, dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        count = self.number("NUM_DOMUS") or 0
        domains: list[dict[str, Any]] = []
        shared: dict[str, dict[str, Any]] = {}
        for index in range(count):
            for name in ("DOMU_NOBOOT", "DOMU_ROOTFS"):
                if self.value(name, index) is not None:
                    self.drop(f"{name}[{index}]", NO_COUNTERPART[name])
                    break
            else:
                domains.append(self.domain(index, has_dom0, pools, shared))
        if not domains and "NUM_DOMUS" not in self.not_numbers:
            self.refuse(
                None,
                f"no domU is created at boot (NUM_DOMUS={count}): a dom0less description "
                "needs at least one",
            )
        return domains, list(shared.values())

    def domain(
        self,
        i: int,
        has_dom0: bool,
        pools: dict[int, dict[str, Any]],
        shared: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        kernel = self.value("DOMU_KERNEL", i)
        if kernel is None:
            self.refuse(
                "NUM_DOMUS",
                f"NUM_DOMUS counts domU {i} but DOMU_KERNEL[{i}] is not set: name its kernel "
                "or lower NUM_DOMUS",
            )
        vpl011 = self.value("DOMU_VPL011", i) != "0"
        domain: dict[str, Any] = {"name": f"domU{i}", "kernel": self.path(kernel or "")}
        for variable, key in (("DOMU_RAMDISK", "ramdisk"), ("DOMU_PASSTHROUGH_DTB", "device_tree")):
            text = self.value(variable, i)
            if text is not None:
                domain[key] = self.path(text)
        command = self.value("DOMU_CMD", i) or (DOMU_CMD if vpl011 else None)
        if command:
            domain["cmdline"] = command
        static = self.regions("DOMU_STATIC_MEM", i)
        memory = self.number("DOMU_MEM", i)
        if memory is not None or not static:
            domain["memory"] = f"{memory or DOMU_MEM_MB}M"
        else:
            domain["memory"] = hex(sum(int(region["size"], 16) for region in static))
        domain["vcpus"] = self.number("DOMU_VCPUS", i) or 1
        if not vpl011:
            domain["vpl011"] = False
        if static:
            domain["static_memory"] = static
            domain["direct_map"] = self.value("DOMU_DIRECT_MAP", i) != "0"
        elif self.value("DOMU_DIRECT_MAP", i) is not None:
            self.drop(f"DOMU_DIRECT_MAP[{i}]", "applies only with DOMU_STATIC_MEM")
        paths = self.value("DOMU_PASSTHROUGH_PATHS", i)
        if paths is not None:  # without a DTB, build makes the partial tree from the host's
            domain["passthrough"] = paths.split()
        colors = self.colours("DOMU_COLORS", i)
        if colors is not None:
            domain["llc_colors"] = colors
        enhanced = self.value("DOMU_ENHANCED", i) or ("1" if has_dom0 else "0")
        if enhanced not in ("0", "1", "2"):
            self.refuse(
                f"DOMU_ENHANCED[{i}]",
                f"DOMU_ENHANCED[{i}]={enhanced!r}: write 0 (no PV interfaces), 1 (xen,enhanced "
                "enabled) or 2 (no-xenstore)",
            )
        xenstore = {"1": "enabled", "2": "no-xenstore"}.get(enhanced)
        if xenstore:
            domain["xenstore"] = xenstore
        capabilities = self.capabilities(i)
        if capabilities is not None:
            domain["capabilities"] = capabilities
        pool = self.number("DOMU_CPUPOOL", i)
        if pool is not None:
            if pool in pools:
                domain["cpupool"] = pools[pool]["name"]
            else:
                self.refuse(
                    f"DOMU_CPUPOOL[{i}]",
                    f"DOMU_CPUPOOL[{i}]={pool} but there is no CPUPOOL[{pool}] (NUM_CPUPOOLS "
                    "counts them from 0)",
                )
        grant = {
            key: value
            for key, value in (
                ("version", self.number("DOMU_GRANT_VER", i)),
                ("frames", self.number("DOMU_GRANT_FRAMES", i)),
                ("maptrack_frames", self.number("DOMU_MAPTRACK_FRAMES", i)),
            )
            if value is not None
        }
        if grant:
            domain["grant"] = grant
        region = self.value("DOMU_SHARED_MEM", i)
        if region is not None:
            domain["shared_memory"] = [self.shared_memory(i, region, shared)]
        return domain

    def capabilities(self, i: int) -> Optional[list[str]]:
        """DOMU_CAPS[i]: "control|hardware|xenstore" words ("dom0" all three, "none"), or
        the bit mask Xen's capabilities property takes (1 control, 2 hardware, 4 xenstore)."""
        text = self.value("DOMU_CAPS", i)
        if text is None:
            return None
        key = f"DOMU_CAPS[{i}]"
        if text.strip()[:1].isdigit():
            mask = self.parse_number(key, text.strip())
            if mask & ~0b111:
                self.refuse(key, f"{key}={text!r}: the bits are 1 control, 2 hardware, 4 xenstore")
            return [name for bit, name in enumerate(CAPABILITIES) if mask >> bit & 1]
        found: list[str] = []
        for word in text.split("|"):
            word = word.strip()
            if word == "dom0":
                found += CAPABILITIES
            elif word in CAPABILITIES:
                found.append(word)
            elif word != "none":
                self.refuse(
                    key,
                    f"{key}: unknown capability {word!r}: write control, hardware, xenstore, "
                    "dom0 or none, joined with |",
                )
        return [name for name in CAPABILITIES if name in found]

    def regions(self, name: str, index: Optional[int] = None) -> list[dict[str, str]]:
        """NAME[i] = "base1 size1 ... baseN sizeN" (DOMU_STATIC_MEM, XEN_STATIC_HEAP)."""
        text = self.value(name, index)
        if text is None:
            return []
        words = text.split()
        key = name if index is None else f"{name}[{index}]"
        if len(words) % 2:
            self.refuse(key, f"{key} needs pairs of address and size")
            return []
        return [
            {"address": hex(self.parse_number(key, a)), "size": hex(self.parse_number(key, s))}
            for a, s in zip(words[::2], words[1::2])
        ]

    def shared_memory(self, i: int, text: str, shared: dict[str, dict[str, Any]]) -> dict:
        """DOMU_SHARED_MEM[i] = "ID HOST GUEST SIZE", or "ID GUEST SIZE" (host from Xen's heap)."""
        words = text.split()
        key = f"DOMU_SHARED_MEM[{i}]"
        if len(words) not in (3, 4):
            self.refuse(
                key, f'{key} is "ID HOST-ADDRESS GUEST-ADDRESS SIZE" or "ID GUEST-ADDRESS SIZE"'
            )
            return {}
        ident, *addresses, size = words
        region: dict[str, Any] = {"id": ident, "size": hex(self.parse_number(key, size))}
        if len(addresses) == 2:
            region["host_address"] = hex(self.parse_number(key, addresses[0]))
        shared.setdefault(ident, region)
        return {"id": ident, "guest_address": hex(self.parse_number(key, addresses[-1]))}

    def boot(self) -> dict[str, Any]:
        boot: dict[str, Any] = {}
        load = self.value("LOAD_CMD")
        if load is not None:
            boot["load"] = load_of(load)
        else:
            self.drop(
                "LOAD_CMD",
                "not set (ImageBuilder takes it from -t): boot.load keeps "
                "its default, virtio 0:1; set it to your board's",
            )
        command = self.value("BOOT_CMD")
        if command in ("booti", "bootm", "none"):
            boot["command"] = command
        elif command is not None:
            self.drop("BOOT_CMD", f"{command} is not generated; booti is used")
        boot.update(self.fit())
        start, end = self.number("MEMORY_START"), self.number("MEMORY_END")
        if start is None and end is None:
            return boot
        if start is None or end is None:
            given, missing = (
                ("MEMORY_START", "MEMORY_END") if end is None else ("MEMORY_END", "MEMORY_START")
            )
            self.refuse(
                given,
                f"{given} is set but {missing} is not: ImageBuilder needs both (the start and "
                "end of RAM); set both or neither",
            )
        elif end <= start:
            self.refuse(
                "MEMORY_END",
                f"MEMORY_END {hex(end)} is not above MEMORY_START {hex(start)}: write the end "
                "of RAM",
            )
        else:
            boot["load_region"] = {"address": hex(start), "size": hex(end - start)}
        return boot

    def fit(self) -> dict[str, Any]:
        """FIT (a FIT image, written as boot.itb), FIT_ENC_KEY_DIR (the signing key's directory
        and hint: HINT.key in it) and FIT_ENC_UB_DTB (U-Boot's control DTB that receives the
        public key) as boot.format and boot.signing."""
        fit, key, uboot_dtb = (self.value(n) for n in ("FIT", "FIT_ENC_KEY_DIR", "FIT_ENC_UB_DTB"))
        if uboot_dtb is not None and key is None:
            self.refuse(
                "FIT_ENC_UB_DTB",
                "FIT_ENC_UB_DTB receives the public half of the signing key, but "
                "FIT_ENC_KEY_DIR is not set: set it (DIR/HINT of HINT.key) or remove the line",
            )
        if key is not None and fit is None:
            self.refuse(
                "FIT_ENC_KEY_DIR",
                "FIT_ENC_KEY_DIR signs a FIT image, but FIT is not set: set FIT or remove the line",
            )
        if fit is None:
            return {}
        boot: dict[str, Any] = {"format": "fit"}
        if key is not None:
            boot["signing"] = {"key": self.path(f"{key}.key")}
            if uboot_dtb is not None:
                boot["signing"]["uboot_dtb"] = self.path(uboot_dtb)
        return boot

    def unknown(self) -> None:
        """Every variable set and not used: a documented one without counterpart, or unknown."""
        for key in self.config.names():
            if key in self.used or any(line.startswith(f"{key}:") for line in self.dropped):
                continue
            name = key.split("[")[0]
            if name in NO_COUNTERPART:
                self.drop(key, NO_COUNTERPART[name])
            elif name not in ("NUM_DOMUS", "NUM_CPUPOOLS"):
                self.drop(key, "not an ImageBuilder variable import knows; left out")


def load_of(command: str) -> str:
    """ImageBuilder's LOAD_CMD (or -t shorthand) as boot.load."""
    text = " ".join(command.split())
    if text in LOADS:
        return LOADS[text]
    for prefix in LOAD_PREFIXES:
        if text.startswith(prefix):
            device = text[len(prefix) :]
            if device.split(" ")[0] in LOAD_DEVICES and len(device.split()) == 2:
                return device
    return text
