"""The FIT as one packed run: every image is used where it lies in boot.itb, nothing copied.

U-Boot loads one file, boot.itb, and ``bootm`` (fit_image_load) copies an image out of it
only when the image's ``load`` differs from where its data lies. So boot.itb keeps its
data outside the FIT structure (mkimage's ``-E -p HEADER -B DATA_ALIGN`` layout: image
data in node order from offset HEADER, each started on a DATA_ALIGN boundary) and each
image's planned address is the FIT's address plus its data's offset: U-Boot checks every
hash and copies nothing. Xen comes last, so its BSS runs into free room after the file
and nothing after it needs moving; the FIT is placed so Xen lands on boot.align. The DTB
is carried at its full room, so U-Boot and Xen can grow it in place.

The structure's size (HEADER) is known only once it is rendered (and signed), so it is
placed with this estimate first and measured again by pipeline.plan_and_render.
"""

from __future__ import annotations

from collections.abc import Sequence

from ... import outputs
from ...units import KiB, align_up
from ..plan import Blob

#: FIT structure around the data: node names, types, addresses, hashes, a signature.
OVERHEAD = 16 * KiB
PER_IMAGE = 1 * KiB
#: mkimage -B: each image's data starts on a page, as U-Boot reads it.
DATA_ALIGN = 4 * KiB


def header_room(contents: Sequence[Blob], measured: int) -> int:
    """Room for the FIT's structure before the first image's data: the estimate, or what
    an earlier pass measured."""
    return align_up(max(OVERHEAD + PER_IMAGE * len(contents), measured), DATA_ALIGN)


def run(contents: Sequence[Blob]) -> list[Blob]:
    """The images in the order their data follows the structure: Xen last."""
    return [b for b in contents if b.role != "xen"] + [b for b in contents if b.role == "xen"]


def data_size(blob: Blob) -> int:
    """Bytes ``blob`` takes in boot.itb: the DTB at its full room, the rest as they are."""
    return blob.span if blob.role == "dtb" else blob.size


def offsets(contents: Sequence[Blob], header: int) -> list[int]:
    """Where each image of run(contents) starts in boot.itb (mkimage's -E -p -B layout)."""
    found, at = [], header
    for blob in run(contents):
        found.append(at)
        at += align_up(data_size(blob), DATA_ALIGN)
    return found


def fit_blob(contents: Sequence[Blob], header: int) -> Blob:
    """The FIT with ``header`` bytes of structure, placed with Xen's data (last) on
    boot.align."""
    xen_at = offsets(contents, header)[-1]
    fit = Blob(
        role="fit",
        file=outputs.BOOT_ITB,
        source=None,
        size=0,
        span=xen_at + run(contents)[-1].span,
        users=["u-boot"],
    )
    fit.aligned_at = xen_at
    return fit


def unpack(fit: Blob, contents: Sequence[Blob], header: int) -> None:
    """Give every image the address its data has once U-Boot loaded boot.itb at ``fit``."""
    for blob, offset in zip(run(contents), offsets(contents, header)):
        blob.address = fit.address + offset


def header_of(fit: Blob, contents: Sequence[Blob]) -> int:
    """The room ``fit`` was placed with for its structure: up to its first image's data."""
    return min(b.address for b in contents) - fit.address
