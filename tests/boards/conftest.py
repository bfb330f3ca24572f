"""Real boards' device trees: the ones Debian's arm64 kernel package ships.

``dom0less setup`` (run by scripts/test) unpacks that package into the cache;
without it these tests fail with the command to run, as the boot tests do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xen_dom0less.cache import cache_dir


def kernel_dtbs() -> Path:
    """The dtbs directory of the unpacked linux-image-*-arm64 package."""
    found = sorted(cache_dir("arm64").glob("linux-image-*-arm64/usr/lib/linux-image-*"))
    if not found:
        pytest.fail(
            "Debian's arm64 kernel package is not unpacked: run `dom0less setup` "
            "(its device trees are the real boards' trees these tests read)"
        )
    return found[-1]


@pytest.fixture(scope="session")
def dtbs() -> Path:
    return kernel_dtbs()
