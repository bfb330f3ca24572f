"""xen-kconfig.cfg: the Xen options this system needs, for ``build-xen`` or a recipe."""

from __future__ import annotations

from ... import outputs
from ..facts import kconfig
from .context import Context

#: The file this renderer writes.
FILE = outputs.KCONFIG_FRAGMENT


def render(context: Context) -> dict[str, bytes]:
    return {FILE: kconfig.fragment(context.plan.kconfig).encode()}
