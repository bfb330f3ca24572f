"""Isolation under Xen: a domU that reads an address it was not given takes the data abort
Xen injects, while its passed-through device answers and the domains sharing memory still
share it.

Xen's release builds log nothing for the abort (the line is gdprintk, debug builds only),
so the guest's own vector table prints the syndrome and fault address it received.
"""

from __future__ import annotations

import re

import pytest
from xen_dom0less_harness.guests.baremetal import Program

from .conftest import Workspace
from .test_xen_features import BORROWER_VIEW, HOST_SHM, WORD, hex64, shm_system

pytestmark = [pytest.mark.e2e, pytest.mark.xenbuild]

HOST_GPIO = 0x9030000
GUEST_GPIO = 0x23000000
#: The PL061's peripheral ID 0 register and its value
PL061_ID0 = (0xFE0, 0x61)
#: ESR_ELx exception class of a data abort taken without a change of exception level
EC_DATA_ABORT = 0x25


def test_a_domain_faults_outside_what_it_was_given(tmp_path, guest_inputs, virt_dtb, xen_420_build):
    """'io' reads its PL061, then HOST_SHM: the host page 'owner' and 'borrower' share."""
    ws = Workspace(tmp_path, guest_inputs, virt_dtb, xen_version="4.20")
    built = {"image": str(xen_420_build.xen), "config": str(xen_420_build.config)}
    document = shm_system(ws, {**built, "version": "4.20"})
    gpio_id = GUEST_GPIO + PL061_ID0[0]
    io = ws.bare("io", Program("io: up", reads=(gpio_id, HOST_SHM)))
    device = {"path": f"/pl061@{HOST_GPIO:x}", "guest_address": GUEST_GPIO}
    document["domains"].insert(
        0, {"name": "io", "kernel": str(io), "memory": "16M", "passthrough": [device]}
    )
    expect = [
        f"read {hex64(gpio_id)} = {hex64(PL061_ID0[1])}",
        f"far {hex64(HOST_SHM)}",
        f"read {hex64(BORROWER_VIEW)} = {hex64(WORD)}",
    ]
    result = ws.boot(document, expect, timeout=60)
    fault = re.search(r"fault esr 0x([0-9a-f]{16}) far", result.console)
    assert fault, result.console[-3000:]
    assert int(fault.group(1), 16) >> 26 == EC_DATA_ABORT
    assert f"read {hex64(HOST_SHM)}" not in result.console
