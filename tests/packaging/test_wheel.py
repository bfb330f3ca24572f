"""The package as users get it: a wheel built from the tree, installed in a fresh venv.

An editable install reads files from the checkout, so it cannot notice a file
the wheel leaves out (baremetal.S once was). This builds the wheel offline
(setuptools from this interpreter, no build isolation), installs it without
its dependencies (the venv sees this interpreter's PyYAML and fdt), and runs
the command and the bare-metal guest build from the venv's copy only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from ..conftest import ROOT

#: What the build reads besides lib/ (pyproject.toml names README.md as the long description).
BUILD_FILES = ("pyproject.toml", "README.md")


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A venv with the wheel installed, and an environment that does not see the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy: building in the checkout would leave build/ there
    shutil.copytree(ROOT / "lib", source / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    for name in BUILD_FILES:
        shutil.copy(ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env |= {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env["DOM0LESS_CACHE"] = str(work / "cache")  # no guest assembled by another run
    pip = [sys.executable, "-m", "pip"]
    run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work), "."], source, env)
    (wheel,) = work.glob("xen_dom0less-*.whl")
    prefix = work / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(prefix)
    python = prefix / "bin" / "python"
    run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)], work, env)
    return prefix, env


def test_the_installed_package_is_the_wheels_not_the_checkout(installed):
    prefix, env = installed
    where = run(
        [str(prefix / "bin" / "python"), "-c", "import xen_dom0less; print(xen_dom0less.__file__)"],
        prefix,
        env,
    )
    assert Path(where.strip()).is_relative_to(prefix), where


def test_setup_help_runs_from_the_wheel(installed):
    prefix, env = installed
    assert "--xen-build" in run([str(prefix / "bin" / "dom0less"), "setup", "--help"], prefix, env)


@pytest.mark.skipif(
    shutil.which("aarch64-linux-gnu-as") is None and not os.environ.get("CI"),
    reason="binutils-aarch64-linux-gnu not installed (dom0less setup installs it)",
)
def test_the_bare_metal_guest_builds_from_the_wheel(installed, tmp_path):
    prefix, env = installed
    probe = (
        "import sys, pathlib; from xen_dom0less.harness.guests import baremetal; "
        "baremetal.write(baremetal.Program('hello'), pathlib.Path(sys.argv[1]))"
    )
    image = tmp_path / "guest.bin"
    run([str(prefix / "bin" / "python"), "-c", probe, str(image)], prefix, env)
    assert image.read_bytes()[0x38:0x3C] == b"ARM\x64"


def test_the_schema_ships_in_the_wheel(installed, tmp_path):
    """``check`` of an incomplete description answers from the schema (exit 1), not a bug."""
    prefix, env = installed
    description = tmp_path / "system.yaml"
    description.write_text("version: 1\n")
    argv = [str(prefix / "bin" / "dom0less"), "check", str(description)]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    assert "missing required key 'xen'" in result.stderr
