"""Xen's console: which UART it is, and whether the target release can drive it.

Xen takes its console from ``dtuart=`` or, without one, /chosen's stdout-path.
With no driver for that UART it boots without a console: no error, no output,
so the rules (``host_rules.console``) check the choice against the release's driver table.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from ..facts import xen_versions
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


def driver(system: System, host: HostTree) -> Optional[xen_versions.UartDriver]:
    """The driver the release has for Xen's console, if it has one (its Kconfig option is
    then needed); the rules refuse a console without one (host_rules.console)."""
    console = choose(system, host)
    if console.path is None or not host.has_node(console.path):
        return None
    return xen_versions.uart_driver(system.xen.version, host.strings(console.path, "compatible"))


def known_compatibles(version: str) -> list[str]:
    """Every compatible some driver of ``version`` binds to, for messages."""
    return [c for d in xen_versions.UART_DRIVERS for c in d.matches(version)]
