"""The source of one Xen release: a shared folder of release tarballs, a variable, or a download.

Looked for in that order, so a machine that has the tarballs never touches the network:

1. a folder of release tarballs with a ``SHA256SUMS`` file (the test suite passes
   ``../shared/xen-src`` beside the project); a tarball that is listed must be there
   and match its sum, so a damaged copy is refused instead of built;
2. ``DOM0LESS_XEN_SOURCE_<MAJOR>_<MINOR>`` (e.g. ``DOM0LESS_XEN_SOURCE_4_22``) naming a
   source tree or tarball;
3. the Xen Project's release tarball of the newest point release known here, downloaded
   once into the cache.

Whatever is found must be that release: its ``xen/Makefile`` is read and a tree of
another release is refused naming both versions.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .. import cache
from ..errors import UserError
from . import source

#: The point release downloaded for each release when no source is at hand.
POINT_RELEASES = {"4.20": "4.20.4", "4.21": "4.21.0", "4.22": "4.22.0"}
DOWNLOAD_URL = "https://downloads.xenproject.org/release/xen/{release}/xen-{release}.tar.gz"
SUMS_NAME = "SHA256SUMS"
#: Seconds a download may stall before it is given up.
DOWNLOAD_TIMEOUT_S = 60.0
_TARBALL = re.compile(r"^xen-(\d+\.\d+)\.(\d+)\.tar\.(gz|xz|bz2)$")


@dataclass(frozen=True)
class ReleaseSource:
    """A Xen source tree ready to build, and where it came from."""

    version: str  # major.minor, as xen.version spells it
    root: Path  # the tree (the directory holding xen/)
    origin: Path  # what was given or found: a tarball or a tree
    digest: str  # SHA-256 of the tarball, or of the tree's files


def variable(version: str) -> str:
    """The environment variable naming a source of ``version`` (``4.22`` -> ``..._4_22``)."""
    return "DOM0LESS_XEN_SOURCE_" + version.replace(".", "_")


def locate(
    version: str,
    shared: Optional[Path] = None,
    environ: Optional[Mapping[str, str]] = None,
    download_url: str = DOWNLOAD_URL,
) -> ReleaseSource:
    """The source of Xen ``version`` (major.minor), checked to be that release."""
    environ = os.environ if environ is None else environ
    listed = _from_shared(version, shared) if shared is not None else None
    given = environ.get(variable(version))
    if listed is not None:
        origin, digest = listed
    elif given:
        origin = Path(given)
        if not origin.exists():
            raise UserError(
                f"{variable(version)}={given} does not exist: name a Xen {version} "
                "source tree or tarball"
            )
        digest = source.sha256_file(origin) if origin.is_file() else tree_digest(origin)
    else:
        origin = _download(version, download_url)
        digest = source.sha256_file(origin)
    root = source.resolve(origin)
    found = source.version(root)
    if found != version:
        raise UserError(
            f"{origin}: the source is Xen {found} (xen/Makefile) but Xen {version} is "
            f"wanted: give a Xen {version} release tree"
        )
    return ReleaseSource(version, root, origin, digest)


def _from_shared(version: str, folder: Path) -> Optional[tuple[Path, str]]:
    """The folder's tarball of ``version`` and its checked sum; None if it lists none."""
    sums = folder / SUMS_NAME
    if not sums.is_file():
        return None
    for line in sums.read_text(encoding="utf-8", errors="replace").splitlines():
        expected, _, name = line.partition("  ")
        name = name.lstrip("*").strip()
        match = _TARBALL.match(name)
        if not match or match.group(1) != version:
            continue
        tarball = folder / name
        if not tarball.is_file():
            raise UserError(
                f"{tarball}: listed in {sums} but missing: copy it back or remove its line"
            )
        found = source.sha256_file(tarball)
        if found != expected.strip().lower():
            raise UserError(
                f"{tarball}: SHA-256 {found} but {sums} says {expected.strip()}: "
                "the tarball is damaged or another file; copy it again"
            )
        return tarball, found
    return None


def _download(version: str, url_pattern: str) -> Path:
    """The release tarball, downloaded once into the cache (never half a file)."""
    release = POINT_RELEASES.get(version)
    if release is None:
        raise UserError(
            f"no source of Xen {version} at hand and none known to download: set "
            f"{variable(version)} to a Xen {version} source tree or tarball"
        )
    url = url_pattern.format(release=release)
    target = cache.cache_dir("xen-src", "downloads") / url.rsplit("/", 1)[-1]
    if target.is_file():
        return target
    handle, staging = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with (
            os.fdopen(handle, "wb") as out,
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as answer,
        ):
            shutil.copyfileobj(answer, out)
        os.replace(staging, target)
    except (OSError, urllib.error.URLError) as error:
        os.unlink(staging)
        if isinstance(error, urllib.error.HTTPError):
            reason: object = f"HTTP {error.code} {error.reason}"
        else:
            reason = getattr(error, "reason", None) or error
        raise UserError(
            f"downloading {url} failed ({reason}): set {variable(version)} to a Xen "
            f"{version} source tree or tarball"
        ) from None
    return target


def tree_digest(root: Path) -> str:
    """SHA-256 over a tree's file names and contents (``.git`` left out)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(root).rglob("*") if ".git" not in p.parts):
        if path.is_file() and not path.is_symlink():
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(source.sha256_file(path).encode())
    return digest.hexdigest()
