"""The layer's qemuarm64 system booted on the Xen its recipe configures: release 4.22.0 with
Xen's defconfig and the description's needs, nothing else (the recipe merges the same
settings with merge_config.sh, and fetches the same commit: tests/yocto/test_recipe_xen.py).
The images the layer's multiconfigs build are this harness's own guests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from xen_dom0less_harness.guests.baremetal import Program

from xen_dom0less.xenbuild import build_release, locate

from ..conftest import ROOT, SHARED_XEN_SOURCES
from .conftest import Workspace

pytestmark = [pytest.mark.e2e, pytest.mark.xenbuild]

SYSTEMS = ROOT / "meta-xen-dom0less" / "systems"
RECIPE = next((ROOT / "meta-xen-dom0less").glob("recipes-*/xen/xen-hypervisor-dom0less_*.bb"))


def recipe_fragments() -> list[Path]:
    """The .cfg files beside the recipe, which its SRC_URI merges (test_recipe_xen.py)."""
    return sorted(RECIPE.parent.rglob("*.cfg"))


def test_the_layers_system_boots_on_the_xen_its_recipe_configures(
    tmp_path: Path, guest_inputs, build_environ
):
    ws = Workspace(tmp_path, guest_inputs, SYSTEMS / "qemuarm64-virt.dtb", xen_version="4.22")
    document = yaml.safe_load((SYSTEMS / "qemuarm64.yml").read_text())
    rtos, linux = document["domains"]
    document["host"]["dtb"] = str(ws.dtb)
    rtos["kernel"] = str(ws.bare("rtos", Program("layer rtos: up")))
    linux.update(kernel=str(guest_inputs.kernel), ramdisk=str(ws.initrd("linux", "layer: init")))
    # As at the recipe's do_configure: the image is not built yet (and not read for Kconfig).
    document["xen"] = {"image": str(tmp_path / "xen"), "version": document["xen"]["version"]}
    system = tmp_path / "layer.yaml"
    system.write_text(yaml.safe_dump(document, sort_keys=False))
    built = build_release(
        locate(document["xen"]["version"], SHARED_XEN_SOURCES),
        recipe_fragments(),
        description=system,
        environ=build_environ,
        progress=lambda line: None,
    )
    document["xen"].update(image=str(built.xen), config=str(built.config))
    ws.boot(document, ["layer rtos: up", "DOM2: layer: init"], 90)
