"""A domU's own console: the device its ``console=`` names must exist in that guest.

Linux given ``console=hvc0`` (Xen gives a domain it builds at boot no PV console ring,
whatever serves xenstore later), or ``ttyAMA0`` with neither Xen's vpl011 nor a PL011
passed through, boots without a word: no error from Xen or Linux, the domain just never
prints. Names Linux gives other
devices (tty0, ttyUSB0, ...) are left alone.
"""

from __future__ import annotations

from typing import Optional

from ..model import Domain
from .rule_context import RuleContext

#: Linux's serial console names, by prefix: (what drives it, compatibles a passed-through
#: UART of that kind has; a compatible that starts with one of them counts).
SERIAL_CONSOLES = {
    "ttyAMA": ("a PL011", ("arm,pl011", "arm,sbsa-uart")),
    "ttyPS": ("a Cadence UART", ("cdns,uart", "xlnx,xuartps", "xlnx,zynqmp-uart")),
    "ttyS": ("an 8250/16550 UART", ("ns16550", "ns8250", "snps,dw-apb-uart", "brcm,bcm2835-aux")),
    "ttymxc": ("an i.MX UART", ("fsl,imx",)),
    "ttySC": ("a Renesas SCIF", ("renesas,scif", "renesas,hscif", "renesas,rcar-gen3-scif")),
}

#: What to write instead, for a domU on any board.
VPL011_FIX = "use console=ttyAMA0 (Xen's emulated PL011, vpl011, on by default)"


def check(ctx: RuleContext, domain: Domain) -> None:
    """Every ``console=`` of the domU's command line names a device it will have."""
    for word in domain.cmdline.split():
        key, _, value = word.partition("=")
        if key != "console" or not value:
            continue
        device = value.split(",", 1)[0]
        reason = _missing(ctx, domain, device)
        if reason is not None:
            ctx.add(
                f"{domain.key}.cmdline",
                f"console={value} names a device the domain will not have, so it would "
                f"boot silently: {reason}",
            )


def _missing(ctx: RuleContext, domain: Domain, device: str) -> Optional[str]:
    """Why ``device`` will not exist in the domain, with the fix; None if it will."""
    if "hardware" in domain.capabilities:
        return None  # the hardware domain has the host's devices and Xen's console, like dom0
    prefix = device.rstrip("0123456789")
    fix = VPL011_FIX if domain.vpl011 else "set vpl011: true and use console=ttyAMA0"
    if prefix == "hvc":
        return (
            f"{device} is Xen's PV console, which Xen does not give the domains it creates at "
            "boot, with or without xenstore and a dom0 (xl console does not attach to them: "
            f"Xen's docs/features/dom0less.pandoc): {fix}"
        )
    if prefix not in SERIAL_CONSOLES or (prefix == "ttyAMA" and domain.vpl011):
        return None
    what, compatibles = SERIAL_CONSOLES[prefix]
    for path in domain.passthrough:
        if ctx.host.has_node(path) and any(
            c.startswith(compatibles) for c in ctx.host.strings(path, "compatible")
        ):
            return None
    if prefix == "ttyAMA":
        return (
            f"{device} needs {what}, but vpl011 is off and none is passed through: "
            "set vpl011: true or pass a PL011 through"
        )
    return f"{device} needs {what} and none is passed through to the domain: pass one, or {fix}"
