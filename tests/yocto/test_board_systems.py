"""The layer's descriptions for the kas boards keep the board facts of examples/boards/.

The layer's copy differs only in where the images come from (this build's deploy
directories), the Xen release it builds and the domU's console; the board's memory,
boot device, consoles and the devices each domain is given must stay those of the
example, which the board tests check against the real board tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SYSTEMS = REPO / "meta-xen-dom0less" / "systems"
EXAMPLES = REPO / "examples" / "boards"
KAS = REPO / "kas"

#: The layer's description (systems/${MACHINE}.yml) -> the board example it follows.
FOLLOWS = {
    "zcu102-zynqmp.yml": "zcu102.yaml",
    "raspberrypi4-64.yml": "rpi4.yaml",
    "imx8mp-lpddr4-evk.yml": "imx8mp-evk.yaml",
}


def board_facts(path: Path) -> dict:
    document = yaml.safe_load(path.read_text())
    return {
        "host.memory": document["host"].get("memory"),
        "boot": document["boot"],
        "xen.console": document["xen"].get("console"),
        "domains": [
            {key: domain.get(key) for key in ("name", "memory", "vcpus", "passthrough")}
            for domain in document["domains"]
        ],
    }


@pytest.mark.parametrize("system", sorted(FOLLOWS), ids=str)
def test_layer_description_keeps_the_board_facts(system: str) -> None:
    assert board_facts(SYSTEMS / system) == board_facts(EXAMPLES / FOLLOWS[system])


@pytest.mark.parametrize(
    "path",
    sorted(p for p in KAS.glob("*.yml") if not p.name.endswith(".lock.yml")),
    ids=lambda p: p.name,
)
def test_each_kas_machine_has_a_description(path: Path) -> None:
    """XEN_DOM0LESS_SYSTEM defaults to systems/${MACHINE}.yml."""
    machine = yaml.safe_load(path.read_text())["machine"]
    assert (SYSTEMS / f"{machine}.yml").is_file(), f"{path.name}: no systems/{machine}.yml"
    assert machine == "qemuarm64" or f"{machine}.yml" in FOLLOWS
