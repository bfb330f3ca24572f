"""Where downloaded and extracted inputs are kept between runs."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$DOM0LESS_CACHE`` or ``$XDG_CACHE_HOME/xen-dom0less``, created on demand."""
    root = os.environ.get("DOM0LESS_CACHE")
    if root is None:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(base) / "xen-dom0less")
    path = Path(root).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
