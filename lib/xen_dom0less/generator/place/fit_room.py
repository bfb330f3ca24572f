"""The FIT as one packed run: an image stored as it is is used where it lies in boot.itb.

U-Boot loads one file, boot.itb, and ``bootm`` (fit_image_load) copies an image out of it
only when the image's ``load`` differs from where its data lies. So boot.itb keeps its
data outside the FIT structure (mkimage's ``-E -p HEADER -B DATA_ALIGN`` layout: image
data in node order from offset HEADER, each started on a DATA_ALIGN boundary) and each
such image's planned address is the FIT's address plus its data's offset: U-Boot checks
every hash and copies nothing. Xen comes last, so its BSS runs into free room after the
file and nothing after it needs moving; the FIT is placed so Xen lands on boot.align. The
DTB is carried at its full room, so U-Boot and Xen can grow it in place.

An image stored compressed (boot.compression, place.compression) is different: bootm
decompresses it from boot.itb to its ``load`` address (boot/image-fit.c fit_image_load
for the loadables, boot/bootm.c bootm_load_os for Xen), so it is placed as a file of its
own would be, and the FIT, which holds the DTB and what is used where it lies until Xen
starts, may overlap none of those addresses (U-Boot only refuses a ``load`` overlapping
the FIT's structure, not its external data). Its data lies between the images used in
place and Xen.

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


def in_place(blob: Blob) -> bool:
    """Whether U-Boot uses ``blob`` where its data lies in boot.itb: unless it is stored
    compressed, for bootm to decompress to its own address."""
    return not blob.compression


def run(contents: Sequence[Blob]) -> list[Blob]:
    """The images in the order their data follows the structure: those used in place, the
    compressed ones (by the address they are decompressed to, once placed), Xen last
    unless it is compressed."""
    xen = [b for b in contents if b.role == "xen" and in_place(b)]
    kept = [b for b in contents if in_place(b) and b not in xen]
    return kept + sorted((b for b in contents if not in_place(b)), key=lambda b: b.address) + xen


def data_size(blob: Blob) -> int:
    """Bytes ``blob`` takes in boot.itb: the DTB at its full room, a compressed image's
    stored bytes, the rest as they are."""
    if blob.role == "dtb":
        return blob.span
    return blob.stored_size


def offsets(contents: Sequence[Blob], header: int) -> dict[int, int]:
    """Where each image's data starts in boot.itb, by id() (mkimage's -E -p -B layout, in
    run() order)."""
    found, at = {}, header
    for blob in run(contents):
        found[id(blob)] = at
        at += align_up(data_size(blob), DATA_ALIGN)
    return found


def fit_blob(contents: Sequence[Blob], header: int) -> Blob:
    """The FIT with ``header`` bytes of structure, placed with Xen's data (last, when it is
    used in place) on boot.align. Its size does not depend on where the compressed images
    go, which is decided with the FIT's own place."""
    end = header + sum(align_up(data_size(b), DATA_ALIGN) for b in contents)
    xen = next(b for b in contents if b.role == "xen")
    fit = Blob(role="fit", file=outputs.BOOT_ITB, source=None, size=0, span=end, users=["u-boot"])
    if in_place(xen):
        fit.aligned_at = end - align_up(data_size(xen), DATA_ALIGN)
        fit.span = fit.aligned_at + xen.span
    return fit


def compressed(contents: Sequence[Blob]) -> list[Blob]:
    """The images bootm decompresses out of boot.itb, each placed like a file of its own."""
    return [b for b in contents if not in_place(b)]


def unpack(fit: Blob, contents: Sequence[Blob], header: int) -> None:
    """Give every image used in place the address its data has once U-Boot loaded
    boot.itb at ``fit`` (the compressed ones were placed with the FIT)."""
    where = offsets(contents, header)
    for blob in contents:
        if in_place(blob):
            blob.address = fit.address + where[id(blob)]


def header_of(fit: Blob, contents: Sequence[Blob]) -> int:
    """The room ``fit`` was placed with for its structure: up to its first image's data
    (the DTB at least is used in place)."""
    return min(b.address for b in contents if in_place(b)) - fit.address
