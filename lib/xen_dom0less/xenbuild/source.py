"""Where the Xen source comes from: a tree given by the user, or a tarball extracted once.

Tarballs are unpacked into the cache, keyed by their content, so repeated
builds from the same release do not pay for extraction again.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path

from .. import cache, hosttools
from ..errors import UserError

_VERSION_LINE = re.compile(r"^export\s+XEN_(SUBVERSION|VERSION)\s*\??=\s*(\d+)\s*$", re.M)


def resolve(path: Path) -> Path:
    """The root of a Xen source tree (the directory holding ``xen/``) from a tree or tarball."""
    path = Path(path)
    if path.is_dir():
        return tree(path)
    if path.is_file():
        return tree(extract(path))
    raise UserError(f"Xen source {path} does not exist: give a source tree or tarball")


def tree(path: Path) -> Path:
    """Accept the top of a Xen checkout or its ``xen/`` directory; refuse anything else."""
    path = path.resolve()
    for root in (path, path.parent) if path.name == "xen" else (path,):
        if (root / "xen" / "Makefile").is_file() and (root / "xen" / "Kconfig").is_file():
            return root
    children = [c for c in path.iterdir() if c.is_dir()] if path.is_dir() else []
    if len(children) == 1:
        return tree(children[0])
    raise UserError(
        f"{path} is not a Xen source tree (no xen/Makefile and xen/Kconfig): "
        "give the top directory of Xen's source"
    )


def extract(tarball: Path) -> Path:
    """Unpack ``tarball`` into the cache once; later calls reuse the extracted copy."""
    digest = sha256_file(tarball)[:16]
    target = cache.cache_dir("xen-src") / f"tarball-{digest}"
    if target.is_dir():
        return target
    tar = hosttools.require("tar", "install the Debian packages tar and xz-utils")
    staging = Path(tempfile.mkdtemp(prefix="extract-", dir=target.parent))
    try:
        hosttools.run(
            [tar, "-xf", str(tarball.resolve()), "-C", str(staging)],
            f"extracting {tarball}",
            hint="give a Xen source tarball tar can read",
        )
    except UserError:
        shutil.rmtree(staging)
        raise
    staging.rename(target)
    return target


def version(root: Path) -> str:
    """Xen's major.minor as its ``xen/Makefile`` states it, e.g. ``4.17``."""
    numbers = dict(_VERSION_LINE.findall((root / "xen" / "Makefile").read_text()))
    if set(numbers) != {"VERSION", "SUBVERSION"}:
        raise UserError(
            f"{root}/xen/Makefile does not state XEN_VERSION and XEN_SUBVERSION: "
            "give an unmodified Xen source tree"
        )
    return f"{numbers['VERSION']}.{numbers['SUBVERSION']}"


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in pieces (release tarballs are several MiB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
