"""Real boards' device trees: the ones Debian's arm64 kernel package ships.

``dom0less setup`` (run by scripts/test) unpacks that package into the cache;
without it these tests fail with the command to run, as the boot tests do.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from xen_dom0less_harness import debian_inputs

from xen_dom0less.errors import UserError


def kernel_dtbs() -> Path:
    """The dtbs directory of the unpacked linux-image-*-arm64 package."""
    try:
        return debian_inputs.kernel_dtbs(debian_inputs.installed())
    except UserError as error:
        pytest.fail(f"{error} (its device trees are the real boards' trees these tests read)")


@pytest.fixture(scope="session")
def dtbs() -> Path:
    return kernel_dtbs()
