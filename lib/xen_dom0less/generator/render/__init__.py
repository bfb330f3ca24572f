"""Stage 6, render: one renderer per artefact, each turning the validated plan into its files.

Every renderer honours one contract (:class:`Renderer`): its kind, whether what it writes
is loaded at an address the plan placed before the file existed (then the pipeline
measures it and places again if it outgrew its room), and ``render(context)``, which
returns its files by output name. They run in the order of RENDERERS: the FIT carries
the DTB, the script names the FIT's size, the script image needs the script text.
Adding an artefact means adding a module here, a row in RENDERERS and its file name to
``outputs``. The other modules of this stage are what renderers share: the /chosen
tree (``chosen``, ``dtree``), signing, and the plan shown to people (``memory_map``,
``plan_picture``); ``partial_tree`` is rendered earlier, as one of the guests' inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ..plan import Plan
from . import (
    devicetree,
    fit_image,
    kconfig_fragment,
    manifest,
    script_image,
    services,
    uboot_script,
    uefi_config,
)
from .context import Context


class Renderer(NamedTuple):
    """One artefact kind."""

    kind: str
    #: Whether U-Boot loads its files at an address placed from an estimate of their size.
    placed: bool
    render: Callable[[Context], dict[str, bytes]]


RENDERERS: tuple[Renderer, ...] = (
    Renderer("devicetree", True, devicetree.render),
    Renderer("fit_image", True, fit_image.render),
    Renderer("uefi_config", False, uefi_config.render),
    Renderer("uboot_script", False, uboot_script.render),
    Renderer("script_image", True, script_image.render),
    Renderer("kconfig_fragment", False, kconfig_fragment.render),
    Renderer("services", False, services.render),
    Renderer("manifest", False, manifest.render),
)


class Rendered(NamedTuple):
    """Every generated file (not the copied binaries) by output name, and which were placed."""

    files: dict[str, bytes]
    placed: frozenset[str]


def render_all(plan: Plan, source_date_epoch: int) -> Rendered:
    """Run every renderer of RENDERERS in order over ``plan``."""
    context = Context(plan, source_date_epoch)
    placed: set[str] = set()
    for renderer in RENDERERS:
        files = renderer.render(context)
        context.outputs.update(files)
        if renderer.placed:
            placed.update(files)
    return Rendered(context.outputs, frozenset(placed))
