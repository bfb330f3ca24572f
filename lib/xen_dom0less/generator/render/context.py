"""What every renderer receives: the plan, the build's time stamp and the files made so far."""

from __future__ import annotations

from functools import cached_property

from ..plan import Blob, Plan
from . import chosen
from .dtree import ChosenTree


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
