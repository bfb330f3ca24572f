"""Static shared memory and static event channels between two domUs, shown by the guests.

Debian's Xen 4.17 lacks CONFIG_STATIC_SHM (it needs CONFIG_UNSUPPORTED), so
these tests boot the session's hypervisor built from Debian's source
(``xenbuild``), whose .config the planner checks each description against.
Cpupools and direct-mapped static memory are shown by the partitioned
example's boot (test_examples.py).
"""

from __future__ import annotations

import pytest

from xen_dom0less.harness.guests.baremetal import Program

pytestmark = [pytest.mark.e2e, pytest.mark.xenbuild]

HOST_SHM = 0x7FE00000
OWNER_VIEW = 0x50000000
BORROWER_VIEW = 0x51000000
WORD = 0x600DF00D


def shm_system(ws, xen: str, config: str) -> dict:
    owner = ws.bare("owner", Program("shm owner: up", write=(OWNER_VIEW, WORD)))
    borrower = ws.bare("borrower", Program("shm borrower: up", poll=BORROWER_VIEW))
    document = ws.description(
        [
            {
                "name": "owner",
                "kernel": str(owner),
                "memory": "16M",
                "shared_memory": [{"id": "ring", "guest_address": OWNER_VIEW, "role": "owner"}],
            },
            {
                "name": "borrower",
                "kernel": str(borrower),
                "memory": "16M",
                "shared_memory": [
                    {"id": "ring", "guest_address": BORROWER_VIEW, "role": "borrower"}
                ],
            },
        ],
        shared_memory=[{"id": "ring", "host_address": HOST_SHM, "size": "4K"}],
    )
    document["xen"].update(image=xen, config=config)
    return document


def test_borrower_reads_what_the_owner_wrote(workspace, partitioned_build):
    ws = workspace
    document = shm_system(ws, str(partitioned_build.xen), str(partitioned_build.config))
    expect = [
        "shm owner: up",
        "written",
        "shm borrower: up",
        f"read 0x{BORROWER_VIEW:016x} = 0x{WORD:016x}",
    ]
    result = ws.boot(document, expect, timeout=60)
    assert "allocate static shared memory BANK" in result.console


def hex64(value: int) -> str:
    return f"0x{value:016x}"


def test_an_event_sent_on_a_static_channel_is_pending_at_the_other_end(
    workspace, partitioned_build
):
    ws = workspace
    sender = ws.bare("sender", Program("evtchn sender: up", send_event=10))
    receiver = ws.bare("receiver", Program("evtchn receiver: up", watch_event=11))
    document = ws.description(
        [
            {"name": "receiver", "kernel": str(receiver), "memory": "16M"},
            {
                "name": "sender",
                "kernel": str(sender),
                "memory": "16M",
                "event_channels": [{"port": 10, "peer": "receiver", "peer_port": 11}],
            },
        ]
    )
    document["xen"].update(image=str(partitioned_build.xen), config=str(partitioned_build.config))
    ws.boot(
        document,
        [
            f"DOM1: event watch on port {hex64(11)}",
            f"DOM2: event send on port {hex64(10)}",
            f"DOM2: hypercall result {hex64(0)}",
            f"DOM1: event pending on port {hex64(11)}",
        ],
        timeout=60,
    )
