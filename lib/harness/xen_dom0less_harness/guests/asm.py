"""Assemble our own arm64 sources into flat binaries with binutils, cached by content."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from xen_dom0less import hosttools
from xen_dom0less.cache import cache_dir

from .. import tools


def flat_binary(source: Path) -> Path:
    """``source`` assembled, linked at 0 and stripped to raw bytes; rebuilt when it changes."""
    text = source.read_bytes()
    digest = hashlib.sha256(text).hexdigest()[:16]
    out = cache_dir("guests") / f"{source.stem}-{digest}.bin"
    if out.is_file():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        obj, elf, raw = (Path(tmp) / name for name in ("o.o", "o.elf", "o.bin"))
        hosttools.run(
            [tools.tool("aarch64-linux-gnu-as"), "-o", str(obj), str(source)],
            f"assembling {source}",
        )
        hosttools.run(
            [
                tools.tool("aarch64-linux-gnu-ld"),
                "-Ttext=0",
                "-e",
                "_head",
                "-o",
                str(elf),
                str(obj),
            ],
            f"linking {source}",
        )
        hosttools.run(
            [tools.tool("aarch64-linux-gnu-objcopy"), "-O", "binary", str(elf), str(raw)],
            f"extracting the binary of {source}",
        )
        raw.replace(out)
    return out
