"""What U-Boot reads before Xen starts, and when the domUs start (``dom0less plan --storage``).

On a board the boot storage, not Xen, usually decides when the first domain
runs: U-Boot reads the script and every file it names before it starts Xen
(and hashes a FIT's images), and Xen builds every domU before it starts any
(decompressing gzip kernels and copying each domain's kernel and ramdisk on the
way). The estimate adds the read time at the storage's rate to what the boot
costs besides reading, measured under QEMU (facts.storage): with boot.compression,
the compressed files are read and U-Boot decompresses them before Xen starts.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import NamedTuple, Union

from ... import files as input_files
from ...errors import InputFileError
from ...units import human_size
from ..facts import images
from ..facts.storage import (
    UBOOT_DECOMPRESS_RATE,
    UBOOT_FIT_CHECK_RATE,
    UBOOT_S,
    XEN_BOOT_S,
    XEN_COPY_RATE,
    XEN_DOMAIN_S,
    XEN_GUNZIP_RATE,
    Storage,
)
from ..place import compression, fit_room
from ..plan import Blob, Plan
from . import signing, uboot_script

#: Columns the storage class's source is wrapped to.
WIDTH = 96


class Read(NamedTuple):
    file: str
    size: int
    users: tuple[str, ...]


def reads(plan: Plan, files: dict[str, bytes]) -> list[Read]:
    """The script, then each file it loads, with the bytes U-Boot reads for it.

    With ``boot.format: uefi`` Xen's EFI loader reads the same files through the
    firmware before Xen proper starts, so they count alike.
    """
    return [
        Read(
            blob.file,
            len(files[blob.file]) if blob.file in files else blob.stored_size,
            tuple(blob.users),
        )
        for blob in [plan.script, *uboot_script.loaded(plan)]
    ]


def kernel_size(blob: Blob) -> int:
    """Bytes of the kernel Xen copies into the domain: a gzip kernel's output (its trailer;
    an InputFileError if it can no longer be read, as it is read after the checks)."""
    if blob.kind != images.GZIP or blob.source is None:
        return blob.size
    try:
        return images.gzip_output_size(input_files.tail(blob.source, 4))
    except input_files.UnusableFile as error:
        raise InputFileError(str(error)) from None


def decompressing(plan: Plan) -> float:
    """Seconds Xen spends decompressing gzip kernels before it starts any domain."""
    gzipped = [b for b in plan.blobs if b.role == "kernel" and b.kind == images.GZIP]
    return sum(kernel_size(blob) for blob in gzipped) / XEN_GUNZIP_RATE


def building(plan: Plan) -> float:
    """Seconds Xen spends building the domains (dom0 too): each one, and copying its kernel
    and ramdisk into its memory (a file shared by several domains is copied for each)."""
    built = [*plan.domains.values(), *([plan.dom0] if plan.dom0 else [])]
    copied = sum(
        kernel_size(modules.kernel) + (modules.ramdisk.size if modules.ramdisk else 0)
        for modules in built
    )
    return len(built) * XEN_DOMAIN_S + copied / XEN_COPY_RATE


def checking(plan: Plan) -> float:
    """Seconds bootm spends hashing boot.itb's images before Xen: each once for its sha256,
    and once more for its signature when images are signed (render.signing); the bytes
    boot.itb stores, so a compressed image's compressed ones."""
    if plan.fit is None:
        return 0.0
    sign = plan.system.boot.signing
    passes = 2 if sign is not None and signing.signs_images(sign) else 1
    hashed = sum(fit_room.data_size(blob) for blob in plan.packed_blobs())
    return passes * hashed / UBOOT_FIT_CHECK_RATE


def uncompressing(plan: Plan) -> float:
    """Seconds U-Boot spends decompressing the files stored compressed (boot.compression)."""
    return sum(b.size / UBOOT_DECOMPRESS_RATE[b.compression] for b in plan.blobs if b.compression)


def domus_start(plan: Plan, files: dict[str, bytes], storage: Storage) -> float:
    """Seconds from reset to every domU starting (Xen starts them together)."""
    read = sum(r.size for r in reads(plan, files)) / storage.rate
    before_xen = UBOOT_S + read + checking(plan) + uncompressing(plan)
    return before_xen + XEN_BOOT_S + building(plan) + decompressing(plan)


def table(plan: Plan, files: dict[str, bytes], storage: Storage) -> str:
    """The files read before Xen with their read times, then the estimate of the domUs' start."""
    loaded = reads(plan, files)
    total = sum(r.size for r in loaded)
    width = max(24, *(len(r.file) for r in loaded))
    rows = [
        f"Before Xen starts, U-Boot reads {human_size(total)} ({total} bytes) in "
        f"{len(loaded)} files; on {storage.name} at {storage.rate / 1e6:.1f} MB/s:",
        "",
        f"{'file':<{width}} {'size':>8} {'read (s)':>9}  used by",
    ]
    rows += [
        f"{r.file:<{width}} {human_size(r.size):>8} {r.size / storage.rate:>9.3f}  "
        f"{', '.join(r.users)}"
        for r in loaded
    ]
    start = domus_start(plan, files, storage)
    gunzip, unpacking = decompressing(plan), uncompressing(plan)
    rows += [
        "",
        f"Estimated time from reset to the domUs starting: {start:.3f} s",
        f"  U-Boot's own work                  {UBOOT_S:.3f} s",
        f"  reading                            {total / storage.rate:.3f} s",
        *([f"  U-Boot checking the FIT's hashes   {checking(plan):.3f} s"] if plan.fit else []),
        *([f"  U-Boot decompressing the files     {unpacking:.3f} s"] if unpacking else []),
        f"  Xen booting, starting the domains  {XEN_BOOT_S:.3f} s",
        f"  Xen building the domains           {building(plan):.3f} s",
        *([f"  Xen decompressing gzip kernels     {gunzip:.3f} s"] if gunzip else []),
        "Xen builds every domU before it starts any, so each starts then; their own files:",
    ]
    for domain in plan.system.domains:
        own = sum(r.size for r in loaded if r.users == (domain.name,))
        seconds = own / storage.rate
        rows.append(f"  {domain.name}: {human_size(own)}, {seconds:.3f} s of the reading")
    rows += ["", *textwrap.wrap(f"{storage.name}: {storage.source}.", WIDTH)]
    return "\n".join(rows) + "\n"


def by_compression(plan: Plan, estimates: Mapping[str, Union[float, str]], storage: Storage) -> str:
    """What each boot.compression value gives on ``storage``, and the soonest to describe.

    ``estimates`` holds, for each value of place.compression.METHODS, domus_start of the
    description planned with it (so from the files it would store), or why it cannot be
    planned. A format whose boot reads files as they are (uefi) has nothing to compare.
    """
    if plan.system.boot.format == "uefi":
        return "boot.format uefi reads the files as they are: no boot.compression to compare.\n"
    described = plan.system.boot.compression
    rows = [f"With each boot.compression on {storage.name}, from the files each would store:"]
    for method in compression.METHODS:
        value = estimates[method]
        shown = f"{value:.3f} s" if isinstance(value, float) else f"not estimated: {value}"
        rows.append(f"  {method:<5} {shown}" + ("  (described)" if method == described else ""))
    timed = [m for m in compression.METHODS if isinstance(estimates[m], float)]
    soonest = min(timed, key=lambda m: round(estimates[m], 3))
    if soonest == described:
        rows.append(f"Soonest on {storage.name}: keep boot.compression: {described}.")
    else:
        rows.append(
            f"Soonest on {storage.name}: boot.compression: {soonest} "
            f'(put "compression: {soonest}" under boot: in the description).'
        )
    return "\n".join(rows) + "\n"
