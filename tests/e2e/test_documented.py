"""The documentation's ``sh`` lines run as a reader runs them: in page order, in one shell
per page, from the checkout, after ``scripts/test`` (or ``scripts/demo``) made ``.venv`` and
fetched the inputs. Lines no test runs as written are listed in tests/project/documented.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from xen_dom0less import hosttools

from ..conftest import ROOT
from ..project.documented import PAGES, run_here

pytestmark = pytest.mark.e2e

#: Seconds one page's lines may take (the README's: a check, a build and a boot).
LIMIT_S = 600


@pytest.mark.parametrize(
    "page", [p for p in PAGES if run_here(p)], ids=lambda p: str(p.relative_to(ROOT))
)
def test_documented_lines_run(page: Path, guest_inputs) -> None:
    if not (ROOT / ".venv" / "bin" / "activate").is_file():
        pytest.skip("no .venv in the checkout: scripts/test and scripts/demo make it")
    lines = run_here(page)
    script = "set -e\n" + "".join(f"echo '+ {c.text}'\n{c.text}\n" for c in lines)
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=LIMIT_S * hosttools.timeout_scale(),
        check=False,
    )
    ran = [line for line in result.stdout.splitlines() if line.startswith("+ ")]
    assert result.returncode == 0, (
        f"{page.name}: '{ran[-1] if ran else '?'}' failed:\n"
        f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    )
    assert len(ran) == len(lines)
