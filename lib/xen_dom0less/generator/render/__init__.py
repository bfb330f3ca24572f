"""One renderer per artefact, each turning the plan into one output file.

A renderer module exposes ``render(context) -> dict[file name, bytes]``;
adding an artefact means adding a module to RENDERERS and its file name to
``outputs``, nothing else.
"""

from __future__ import annotations

import importlib
from functools import cached_property
from types import ModuleType

from .. import chosen
from ..dtree import ChosenTree
from ..plan import Blob, Plan

#: Renderer modules in the order they run (the FIT carries the DTB, the script names the
#: FIT's size, the script image needs the script text). Each writes a name from ``outputs``
#: (FILE, or FILES); the device tree's name comes from the plan.
RENDERERS = (
    "devicetree",
    "fit_image",
    "uefi_config",
    "uboot_script",
    "script_image",
    "kconfig_fragment",
    "manifest",
)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


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
        context.outputs.update(_module(name).render(context))
    return context.outputs
