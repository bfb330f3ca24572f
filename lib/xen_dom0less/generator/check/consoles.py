"""Xen's console: which UART it is, and whether the target release can drive it.

Xen takes its console from ``dtuart=`` or, without one, /chosen's stdout-path.
With no driver for that UART it boots without a console: no error, no output,
so the choice is checked against the release's driver table here.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from ... import files
from ...errors import Problems
from ..facts import kconfig, xen_versions
from ..hostdt import HostTree
from ..model import System

#: ``xen.console`` value for a Xen without a console
NONE = "none"


class Console(NamedTuple):
    """The UART Xen will use, and the YAML key that chose it."""

    where: str
    #: the alias or path as written; None when Xen runs without a console
    name: Optional[str]
    #: the node it resolves to in the host tree; None if it does not
    path: Optional[str]


def choose(system: System, host: HostTree) -> Console:
    """The console of ``xen.console``, of ``dtuart=`` in ``xen.bootargs``, or stdout-path."""
    xen = system.xen
    if xen.console is not None:
        if xen.console == NONE:
            return Console("xen.console", None, None)
        return Console("xen.console", xen.console, host.resolve_alias(xen.console))
    if xen.bootargs is not None:
        options = dict(word.partition("=")[::2] for word in xen.bootargs.split())
        if "dtuart" not in options.get("console", "dtuart").split(","):
            return Console("xen.bootargs", None, None)
        if "dtuart" in options:
            name = options["dtuart"].split(":", 1)[0]
            return Console("xen.bootargs", name, host.resolve_alias(name))
    name = host.stdout_path()
    return Console("host.dtb", name, host.resolve_alias(name) if name else None)


def bootargs(system: System, host: HostTree) -> str:
    """The console part of Xen's default command line."""
    console = choose(system, host)
    if console.name is None:
        return "console=none"
    return f"console=dtuart dtuart={console.name}"


def check(system: System, host: HostTree, problems: Problems) -> Optional[xen_versions.UartDriver]:
    """Refuse a console Xen cannot drive; the driver it will use, if there is a console."""
    console = choose(system, host)
    if console.name is None:
        return None
    version = system.xen.version
    if console.path is None or not host.has_node(console.path):
        problems.add(
            console.where,
            f"Xen's console {console.name} is neither a node nor an alias of the host "
            "device tree: give a UART's path or alias, or none",
        )
        return None
    compatibles = host.strings(console.path, "compatible")
    driver = xen_versions.uart_driver(version, compatibles)
    if driver is None:
        problems.add(
            console.where,
            f"Xen {version} has no driver for its console {console.path} "
            f"({', '.join(compatibles) or 'no compatible'}) and would boot without one: "
            "set xen.console to a UART it drives "
            f"({', '.join(known_compatibles(version))}) or to none for no Xen console",
        )
        return None
    try:  # an unreadable .config is reported by xen_checks
        options = kconfig.read(system.xen.config) if system.xen.config else None
    except files.UnusableFile:
        options = None
    if options is not None and options.get(driver.option) != "y":
        problems.add(
            "xen.config",
            f"CONFIG_{driver.option} is not enabled in {system.xen.config.name} but "
            f"Xen's console {console.path} needs its driver ({driver.source}): rebuild "
            f"Xen with CONFIG_{driver.option}=y, or set xen.console to another UART "
            "or to none",
        )
    return driver


def known_compatibles(version: str) -> list[str]:
    """Every compatible some driver of ``version`` binds to, for messages."""
    return [c for d in xen_versions.UART_DRIVERS for c in d.matches(version)]
