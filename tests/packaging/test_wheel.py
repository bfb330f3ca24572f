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
from types import ModuleType

import fdt
import pytest
import tqdm
import yaml

from xen_dom0less.generator.facts.images import ARM64_IMAGE, classify

from ..conftest import ROOT, write_inputs

#: What the build reads besides lib/ (pyproject.toml names README.md as the long description).
BUILD_FILES = ("pyproject.toml", "README.md")


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def build_wheel(source: Path, work: Path, env: dict[str, str], pattern: str) -> Path:
    pip = [sys.executable, "-m", "pip"]
    run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work), "."], source, env)
    (wheel,) = work.glob(pattern)
    return wheel


def venv_with(prefix: Path, wheels: list[Path], env: dict[str, str]) -> Path:
    """A venv with ``wheels`` installed, not their dependencies (this interpreter's serve,
    through dependencies())."""
    venv.EnvBuilder(with_pip=False).create(prefix)
    python = prefix / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    run([*pip, "install", "--no-deps", *map(str, wheels)], prefix.parent, env)
    return prefix


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """The product's and the harness's wheels, and an environment that does not see the
    checkout."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy: building in the checkout would leave build/ there
    shutil.copytree(ROOT / "lib", source / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    for name in BUILD_FILES:
        shutil.copy(ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env |= {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env["DOM0LESS_CACHE"] = str(work / "cache")  # no guest assembled by another run
    product = build_wheel(source, work, env, "xen_dom0less-*.whl")
    harness = build_wheel(source / "lib" / "harness", work, env, "xen_dom0less_harness-*.whl")
    return product, harness, env


def dependencies(work: Path, *modules: ModuleType) -> Path:
    """A directory holding only these modules of this interpreter's, for PYTHONPATH: a venv
    made from a venv (the project's .venv) would see the base interpreter's site-packages,
    which on Debian has none of them."""
    deps = work / "deps"
    deps.mkdir()
    for module in modules:
        (deps / module.__name__).symlink_to(Path(module.__file__).parent)
    return deps


@pytest.fixture(scope="module")
def product_only(wheels, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """What a Yocto task or a user's CI installs: the generator's wheel alone, in a venv that
    sees only its two dependencies of this interpreter's (not the harness installed here)."""
    product, _, env = wheels
    work = tmp_path_factory.mktemp("product")
    prefix = venv_with(work / "venv", [product], env)
    return prefix, {**env, "PYTHONPATH": str(dependencies(work, yaml, fdt))}


@pytest.fixture(scope="module")
def installed(wheels, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A developer's or CI's install: the product and the QEMU harness."""
    product, harness, env = wheels
    work = tmp_path_factory.mktemp("both")
    prefix = venv_with(work / "venv", [product, harness], env)
    return prefix, {**env, "PYTHONPATH": str(dependencies(work, yaml, fdt, tqdm))}


def test_the_product_wheel_holds_no_harness(wheels):
    import zipfile

    product, harness, _ = wheels
    names = zipfile.ZipFile(product).namelist()
    assert not [n for n in names if "harness" in n or n.endswith(".S")], names
    assert "xen_dom0less/generator/read/schema/system.schema.json" in names
    assert "xen_dom0less_harness/guests/baremetal.S" in zipfile.ZipFile(harness).namelist()


def test_check_plan_and_build_run_from_the_product_wheel_alone(product_only, tmp_path):
    """The example, checked, planned and built in a venv without the harness; run-qemu is
    named as the harness's when asked for."""
    prefix, env = product_only
    inputs = tmp_path / "inputs"
    write_inputs(inputs)
    env = {**env, "DOM0LESS_INPUTS": str(inputs)}
    command = str(prefix / "bin" / "dom0less")
    example = str(ROOT / "examples" / "qemu-dom0less.yaml")
    run([command, "check", example], tmp_path, env)
    assert "rtos" in run([command, "plan", example], tmp_path, env)
    run([command, "build", example, "-o", str(tmp_path / "out")], tmp_path, env)
    assert (tmp_path / "out" / "boot.scr").is_file()
    result = subprocess.run(
        [command, "run-qemu", "--help"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2 and "invalid choice: 'run-qemu'" in result.stderr
    help_text = run([command, "--help"], tmp_path, env)
    listed = help_text.split("options:")[0]
    assert "run-qemu" not in listed and "    setup " not in listed, help_text
    assert "come with the QEMU harness" in help_text


def test_the_installed_package_is_the_wheels_not_the_checkout(installed):
    prefix, env = installed
    where = run(
        [str(prefix / "bin" / "python"), "-c", "import xen_dom0less; print(xen_dom0less.__file__)"],
        prefix,
        env,
    )
    assert Path(where.strip()).is_relative_to(prefix), where


def test_the_harness_adds_setup_and_run_qemu_to_the_command(installed):
    prefix, env = installed
    command = str(prefix / "bin" / "dom0less")
    assert "--xen-build" in run([command, "setup", "--help"], prefix, env)
    assert "--expect" in run([command, "run-qemu", "--help"], prefix, env)
    assert "boot what build wrote" in run([command, "--help"], prefix, env)


@pytest.mark.skipif(
    shutil.which("aarch64-linux-gnu-as") is None and not os.environ.get("CI"),
    reason="binutils-aarch64-linux-gnu not installed (dom0less setup installs it)",
)
def test_the_bare_metal_guest_builds_from_the_wheel(installed, tmp_path):
    prefix, env = installed
    probe = (
        "import sys, pathlib; from xen_dom0less_harness.guests import baremetal; "
        "baremetal.write(baremetal.Program('hello'), pathlib.Path(sys.argv[1]))"
    )
    image = tmp_path / "guest.bin"
    run([str(prefix / "bin" / "python"), "-c", probe, str(image)], prefix, env)
    assert classify(image.read_bytes()[:64]) == ARM64_IMAGE


def test_the_schema_ships_in_the_wheel(installed, tmp_path):
    """``check`` of an incomplete description answers from the schema (exit 1), not a bug."""
    prefix, env = installed
    description = tmp_path / "system.yaml"
    description.write_text("version: 1\n")
    argv = [str(prefix / "bin" / "dom0less"), "check", str(description)]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    assert "missing required key 'xen'" in result.stderr
