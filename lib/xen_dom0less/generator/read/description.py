"""Read a YAML system description into the model.

Steps: parse YAML, expand ``${VAR}`` from the environment, check against the
JSON Schema, then convert to :class:`model.System` with sizes in bytes and
paths made absolute relative to the YAML file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from ... import files
from ...errors import DescriptionError, InputFileError, Problem, Problems
from ...units import MiB, parse_int, parse_size
from .. import model
from . import schema_check, schema_defaults, yaml_reader

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: A description is a few KiB; anything past this is the wrong file.
MAX_DESCRIPTION = 1 * MiB


def load(path: Path, environ: Optional[Mapping[str, str]] = None) -> model.System:
    """Parse and schema-check ``path``; raise UserError listing every problem."""
    path = Path(path)
    environ = os.environ if environ is None else environ
    document, lines = _read_yaml(path)
    problems = Problems(str(path), lines=lines)
    document = _expand(document, "", environ, problems)
    problems.raise_if_any()
    for where, message in schema_check.check(document):
        problems.add(where, message)
    problems.raise_if_any()
    return (
        _Converter(path).system(schema_defaults.fill(document))._replace(lines=tuple(lines.items()))
    )


def _read_yaml(path: Path) -> tuple[Any, dict[str, int]]:
    try:
        data = files.read(path, MAX_DESCRIPTION, "a system description")
    except files.UnusableFile as error:
        raise InputFileError(f"cannot read the description: {error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DescriptionError(
            Problem(
                f"byte {error.start + 1} ({data[error.start]:#04x}) is not UTF-8: "
                "save the description as UTF-8 text",
                str(path),
            )
        ) from None
    return yaml_reader.load(text, path)


def _expand(value: Any, where: str, environ: Mapping[str, str], problems: Problems) -> Any:
    if isinstance(value, str):

        def substitute(match: re.Match) -> str:
            name = match.group(1)
            if name not in environ:
                problems.add(
                    where,
                    f"${{{name}}} is not set in the environment: export it or write the value",
                )
                return match.group(0)
            return environ[name]

        return _VARIABLE.sub(substitute, value)
    if isinstance(value, dict):
        return {
            k: _expand(v, f"{where}.{k}" if where else str(k), environ, problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_expand(v, f"{where}[{i}]", environ, problems) for i, v in enumerate(value)]
    return value


def _address(value: Any) -> int:
    return value if isinstance(value, int) else parse_int(str(value))


class _Converter:
    """Turns a schema-valid document into the model (no checks left to fail but sizes)."""

    def __init__(self, source: Path):
        self.source = source
        self.base = files.resolve(Path.cwd(), str(source)).parent

    def path(self, value: Optional[str]) -> Optional[Path]:
        if value is None:
            return None
        return files.resolve(self.base, value)

    def region(self, value: dict) -> model.Region:
        return model.Region(_address(value["address"]), parse_size(value["size"]))

    def regions(self, values: Optional[list]) -> tuple[model.Region, ...]:
        return tuple(self.region(v) for v in values or ())

    def system(self, doc: dict) -> model.System:
        return model.System(
            source=self.source,
            xen=self.xen(doc["xen"]),
            host=self.host(doc["host"]),
            dom0=self.dom0(doc["dom0"]) if "dom0" in doc else None,
            domains=tuple(self.domain(i, d) for i, d in enumerate(doc["domains"])),
            cpupools=tuple(
                model.Cpupool(
                    name=p["name"], index=i, cpus=tuple(p["cpus"]), scheduler=p.get("scheduler")
                )
                for i, p in enumerate(doc.get("cpupools", ()))
            ),
            shared_memory=tuple(
                model.SharedMemory(
                    id=s["id"],
                    size=parse_size(s["size"]),
                    host_address=_address(s["host_address"]) if "host_address" in s else None,
                )
                for s in doc.get("shared_memory", ())
            ),
            boot=self.boot(doc["boot"]),
            isolation=model.IsolationPolicy(**doc["isolation"]),
        )

    def xen(self, doc: dict) -> model.Xen:
        llc = doc.get("llc_coloring")
        return model.Xen(
            image=self.path(doc["image"]),
            version=doc["version"],
            config=self.path(doc.get("config")),
            bootargs=doc.get("bootargs"),
            extra_bootargs=doc.get("extra_bootargs", ""),
            console=doc.get("console"),
            scheduler=doc.get("scheduler"),
            critical=doc.get("critical"),
            static_heap=self.regions(doc.get("static_heap")),
            llc_coloring=None
            if llc is None
            else model.LlcColoring(
                xen_colors=llc.get("xen_colors"),
                size=parse_size(llc["size"]) if "size" in llc else None,
                ways=llc.get("ways"),
            ),
            xsm_policy=self.path(doc.get("xsm_policy")),
            efi=self.path(doc.get("efi")),
        )

    def host(self, doc: dict) -> model.Host:
        return model.Host(
            dtb=self.path(doc["dtb"]),
            uboot_reserve=parse_size(doc["uboot_reserve"]),
            disable=tuple(doc.get("disable", ())),
            memory=self.regions(doc.get("memory")),
        )

    def dom0(self, doc: dict) -> model.Dom0:
        return model.Dom0(
            kernel=self.path(doc["kernel"]),
            ramdisk=self.path(doc.get("ramdisk")),
            cmdline=doc.get("cmdline", ""),
            memory=parse_size(doc["memory"]),
            vcpus=doc["vcpus"],
            llc_colors=doc.get("llc_colors"),
        )

    def domain(self, index: int, doc: dict) -> model.Domain:
        grant = doc.get("grant")
        return model.Domain(
            name=doc["name"],
            index=index,
            kernel=self.path(doc["kernel"]),
            ramdisk=self.path(doc.get("ramdisk")),
            device_tree=self.path(doc.get("device_tree")),
            cmdline=doc.get("cmdline", ""),
            memory=parse_size(doc["memory"]) if "memory" in doc else None,
            vcpus=doc["vcpus"],
            vpl011=doc["vpl011"],
            devices=tuple(self.device(d) for d in doc.get("passthrough", ())),
            iommu=doc.get("iommu"),
            direct_map=doc["direct_map"],
            static_memory=self.regions(doc.get("static_memory")),
            llc_colors=doc.get("llc_colors"),
            cpupool=doc.get("cpupool"),
            xenstore=doc.get("xenstore"),
            nr_spis=doc.get("nr_spis"),
            p2m_mem_mb=doc.get("p2m_mem_mb"),
            grant=None
            if grant is None
            else model.Grant(
                version=grant.get("version"),
                frames=grant.get("frames"),
                maptrack_frames=grant.get("maptrack_frames"),
            ),
            sve=doc.get("sve"),
            capabilities=tuple(doc.get("capabilities", ())),
            vcpu_affinity=tuple(
                sorted((int(k), v) for k, v in doc.get("vcpu_affinity", {}).items())
            ),
            trap_unmapped_accesses=doc.get("trap_unmapped_accesses"),
            sci_type=doc.get("sci_type"),
            v8r_el1_msa=doc.get("v8r_el1_msa"),
            event_channels=tuple(
                model.EventChannel(e["port"], e["peer"], e["peer_port"])
                for e in doc.get("event_channels", ())
            ),
            shared_memory=tuple(
                model.SharedMemoryUse(
                    id=s["id"], guest_address=_address(s["guest_address"]), role=s.get("role")
                )
                for s in doc.get("shared_memory", ())
            ),
            pv=_pv(doc.get("pv", {})),
        )

    def device(self, doc) -> model.Device:
        if isinstance(doc, str):
            return model.Device(doc)
        guest = doc.get("guest_address")
        return model.Device(
            doc["path"],
            guest_address=None if guest is None else _address(guest),
            accept=tuple(doc.get("accept", ())),
        )

    def boot(self, doc: dict) -> model.Boot:
        return model.Boot(
            load=doc["load"],
            command=doc["command"],
            device_tree=doc["device_tree"],
            load_region=self.region(doc["load_region"]) if "load_region" in doc else None,
            script_address=(_address(doc["script_address"]) if "script_address" in doc else None),
            align=parse_size(doc["align"]),
            format=doc["format"],
            signing=self.signing(doc["signing"]) if "signing" in doc else None,
            compression=doc["compression"],
        )

    def signing(self, doc: dict) -> model.Signing:
        return model.Signing(
            key=self.path(doc["key"]),
            uboot_dtb=self.path(doc.get("uboot_dtb")),
            key_file=Path(doc["key"]).name,
            uboot_version=doc.get("uboot_version"),
        )


def _pv(doc: dict) -> model.Pv:
    return model.Pv(
        network=tuple(
            model.PvNetwork(n["bridge"], n.get("backend"), n.get("mac"))
            for n in doc.get("network", ())
        ),
        block=tuple(
            model.PvBlock(b["target"], b["vdev"], b.get("backend"), b.get("readonly", False))
            for b in doc.get("block", ())
        ),
    )
