"""One renderer per artefact, each turning the plan into one output file.

A renderer module exposes ``render(context) -> dict[file name, bytes]``;
adding an artefact means adding a module to RENDERERS, nothing else.
"""

from __future__ import annotations

import importlib
from functools import cached_property

from .. import chosen
from ..dtree import ChosenTree
from ..plan import Blob, Plan

#: Renderer modules in the order they run (the script image needs the script text).
RENDERERS = ("devicetree", "uboot_script", "script_image", "kconfig_fragment", "manifest")


class Context:
    """The plan plus what renderers share: the /chosen tree and files made so far."""

    def __init__(self, plan: Plan, source_date_epoch: int):
        self.plan = plan
        self.source_date_epoch = source_date_epoch
        self.outputs: dict[str, bytes] = {}

    @cached_property
    def tree(self) -> ChosenTree:
        return chosen.build(self.plan)

    def size_of(self, blob: Blob) -> int:
        """Bytes loaded for ``blob``: generated files are measured once rendered."""
        generated = self.outputs.get(blob.file)
        return len(generated) if generated is not None else blob.size


def render_all(plan: Plan, source_date_epoch: int) -> dict[str, bytes]:
    """Every generated file (not the copied binaries), by output file name."""
    context = Context(plan, source_date_epoch)
    for name in RENDERERS:
        module = importlib.import_module(f"{__name__}.{name}")
        context.outputs.update(module.render(context))
    return context.outputs
