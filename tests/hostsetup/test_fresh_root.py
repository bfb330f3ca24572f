"""The README's demo command on a Debian that has never seen the project (``-m freshroot``).

fresh_root.sh builds a minimal Debian root from the archive, clones the checkout's
committed HEAD into it and runs ``scripts/demo`` in a chroot. CI runs Debian 12 as a
user with sudo and Debian 13 as root (about 3 minutes each on a fast mirror); run the
other two pairs by hand with the script. Marked e2e too (it boots under QEMU), so the
fast suite leaves it out.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from xen_dom0less import hosttools

from ..conftest import ROOT

SCRIPT = ROOT / "tests" / "hostsetup" / "fresh_root.sh"

#: Seconds one fresh root may take: building it, installing QEMU and the guests, the boot.
LIMIT_S = 1200


@pytest.mark.e2e
@pytest.mark.freshroot
@pytest.mark.parametrize(("suite", "user"), [("bookworm", "user"), ("trixie", "root")])
def test_the_demo_runs_on_a_fresh_debian(suite: str, user: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("fresh_root.sh needs root on the host (it builds a root and chroots into it)")
    result = subprocess.run(
        ["bash", str(SCRIPT), suite, user],
        capture_output=True,
        text=True,
        timeout=LIMIT_S * hosttools.timeout_scale(),
        check=False,
    )
    closing = "\n".join(result.stdout.splitlines()[-8:])
    print(closing)
    assert result.returncode == 0, f"{closing}\n{result.stderr[-3000:]}"
    assert "dom0less: ok: every marker appeared" in result.stdout, closing
