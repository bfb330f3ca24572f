"""The values Xen's build stamps into the binary, fixed so that a rebuild is byte-identical.

xen/Makefile takes XEN_BUILD_DATE, XEN_BUILD_TIME, XEN_WHOAMI, XEN_DOMAIN and
XEN_BUILD_HOST from the environment when they are set, and otherwise asks
``date``, ``$USER``, ``dnsdomainname`` and ``hostname``. The absolute source
and build paths reach ``__FILE__`` strings (assertions, BUG frames) and the
debug information unless the compiler maps them away (Xen takes extra flags
from EXTRA_CFLAGS_XEN_CORE).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from ..units import parse_epoch

#: Build identity written into ``xen`` instead of the building machine's.
IDENTITY = {"XEN_WHOAMI": "dom0less", "XEN_DOMAIN": "reproducible", "XEN_BUILD_HOST": "build"}


def source_date_epoch(root: Path, environ: Mapping[str, str]) -> int:
    """``$SOURCE_DATE_EPOCH``, or else the date of the source's ``xen/Makefile``."""
    value = environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int((root / "xen" / "Makefile").stat().st_mtime)
    return parse_epoch(value)


def environment(root: Path, build_dir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Variables to add to make's environment; ones the caller already set are kept."""
    epoch = source_date_epoch(root, environ)
    stamp = time.gmtime(epoch)
    chosen = {
        "SOURCE_DATE_EPOCH": str(epoch),
        "XEN_BUILD_DATE": time.strftime("%a %b %d %H:%M:%S UTC %Y", stamp),
        "XEN_BUILD_TIME": time.strftime("%H:%M:%S", stamp),
        **IDENTITY,
    }
    chosen.update({name: environ[name] for name in chosen if name in environ})
    # The build directory is also DWARF's comp_dir, which has no trailing slash;
    # its hash in xen-syms' build-id note is copied into xen.
    maps = f"-ffile-prefix-map={root}/= -ffile-prefix-map={build_dir}=."
    chosen["EXTRA_CFLAGS_XEN_CORE"] = f"{environ.get('EXTRA_CFLAGS_XEN_CORE', '')} {maps}".strip()
    chosen.update(LC_ALL="C", TZ="UTC")
    return chosen
