"""Room for the FIT: it is placed like any other blob, so nothing copied out of it overlaps it.

In the FIT format U-Boot loads one file, boot.itb, and ``bootm`` copies Xen, the DTB and
every module out of it to the addresses planned for them; the FIT's own size is known only
once it is rendered, so it is placed with this estimate first (see pipeline.plan_and_render).
"""

from __future__ import annotations

from collections.abc import Sequence

from ... import outputs
from ...units import KiB
from ..plan import Blob

#: FIT structure around the data: node names, types, addresses, hashes, a signature.
OVERHEAD = 16 * KiB
PER_IMAGE = 1 * KiB


def estimate(contents: Sequence[Blob]) -> int:
    """Room for the FIT: everything it carries (the DTB at its full room) and its structure."""
    return OVERHEAD + sum(
        PER_IMAGE + (blob.span if blob.role == "dtb" else blob.size) for blob in contents
    )


def fit_blob(contents: Sequence[Blob], room: int) -> Blob:
    """The FIT, placed like any other blob so nothing copied out of it overlaps it."""
    return Blob(
        role="fit",
        file=outputs.BOOT_ITB,
        source=None,
        size=0,
        span=max(estimate(contents), room),
        users=["u-boot"],
    )
