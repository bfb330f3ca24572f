"""xen-kconfig.cfg: the Xen options this system needs, for ``build-xen`` or a recipe."""

from __future__ import annotations

from .. import kconfig


def render(context) -> dict[str, bytes]:
    return {"xen-kconfig.cfg": kconfig.fragment(context.plan.kconfig).encode()}
