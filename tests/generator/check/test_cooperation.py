"""PV devices and their backend: each rule of check/cooperation.py with its exact problems."""

from __future__ import annotations

import pytest

from .test_rules import both
from .test_validate import problems_of

LINUX = "domains[1] (linux)"
DOM0 = {
    "kernel": "${DOM0LESS_INPUTS}/Image",
    "cmdline": "console=hvc0",
    "memory": "512M",
}


def with_dom0(doc: dict) -> None:
    doc["dom0"] = {**DOM0, "kernel": doc["domains"][1]["kernel"]}


def pv(**devices):
    """The linux domU with xenstore and ``devices`` under pv."""

    def change(doc: dict) -> None:
        doc["domains"][1]["xenstore"] = "enabled"
        doc["domains"][1]["pv"] = devices

    return change


NET = {"bridge": "xenbr0"}
DISK = {"target": "/srv/linux.img", "vdev": "xvda"}

CASES = [
    ("served-by-dom0", both(with_dom0, pv(network=[NET], block=[DISK])), []),
    (
        "no-xenstore",
        both(with_dom0, pv(network=[NET]), lambda d: d["domains"][1].pop("xenstore")),
        [
            f"{LINUX}.pv: PV devices are set up through xenstore, which this domain does "
            "not have: set xenstore: enabled"
        ],
    ),
    (
        "no-backend-domain",
        pv(block=[DISK]),
        [
            f"{LINUX}.xenstore: Xen 4.17 runs xenstore only in dom0, and there is none: "
            "add a dom0 or use 'no-xenstore'",
            f"{LINUX}.pv: PV devices need a backend domain running the generated services: "
            "add a dom0, or on Xen 4.21+ give one domU capabilities: [hardware]",
        ],
    ),
    (
        "backend-missing",
        both(with_dom0, pv(network=[{**NET, "backend": "netvm"}])),
        [f"{LINUX}.pv.network[0]: no domain named 'netvm' to serve it"],
    ),
    (
        "backend-runs-no-services",
        both(with_dom0, pv(block=[{**DISK, "backend": "rtos"}])),
        [
            f"{LINUX}.pv.block[0]: 'rtos' runs no backend services (the generated "
            "dom0less-services.sh runs in dom0): use backend: dom0 or leave it out"
        ],
    ),
    (
        "serves-itself",
        both(with_dom0, pv(network=[{**NET, "backend": "linux"}])),
        [f"{LINUX}.pv.network[0]: a domain cannot serve its own PV device: name another backend"],
    ),
    (
        "two-disks-one-name",
        both(with_dom0, pv(block=[DISK, {**DISK, "target": "/srv/other.img"}])),
        [f"{LINUX}.pv.block: xvda names 2 disks: give each its own vdev"],
    ),
    (
        "one-mac-twice",
        both(with_dom0, pv(network=[{**NET, "mac": "00:16:3e:00:00:01"}] * 2)),
        ["domains: the MAC address 00:16:3e:00:00:01 is given to 2 PV interfaces"],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in CASES], ids=[i for i, _, _ in CASES]
)
def test_cooperation_rule_gives_exactly(describe, change, expected):
    assert problems_of(describe, change) == expected
