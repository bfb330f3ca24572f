"""Static shared memory and static event channels between two domUs, shown by the guests.

Debian's Xen lacks CONFIG_STATIC_SHM (it needs CONFIG_UNSUPPORTED), so these
tests boot the session's purpose-built hypervisors (``xenbuild``): 4.17 from Debian 12's
source, 4.20 and 4.22 from their release tarballs, whose .config the
planner checks each description against.
Cpupools and direct-mapped static memory are shown by the partitioned
example's boot (test_examples.py).
"""

from __future__ import annotations

import pytest
from xen_dom0less_harness.guests.baremetal import Program

pytestmark = [pytest.mark.e2e, pytest.mark.xenbuild]

HOST_SHM = 0x7FE00000
#: xen.version -> the session fixture building that release with the options needed.
BUILDS = {"4.17": "xen_417_build", "4.20": "xen_420_build", "4.22": "xen_422_build"}
OWNER_VIEW = 0x50000000
BORROWER_VIEW = 0x51000000
WORD = 0x600DF00D


@pytest.fixture(params=sorted(BUILDS), ids=[f"xen{v}" for v in sorted(BUILDS)])
def built_xen(request) -> dict:
    """The ``xen`` section for a purpose-built hypervisor of each release in turn."""
    build = request.getfixturevalue(BUILDS[request.param])
    return {"image": str(build.xen), "config": str(build.config), "version": request.param}


def shm_system(ws, xen: dict) -> dict:
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
    document["xen"].update(xen)
    return document


def test_borrower_reads_what_the_owner_wrote(workspace, built_xen):
    ws = workspace
    document = shm_system(ws, built_xen)
    # Not the owner's 'written': from 4.20 the owner holds console input and prints raw,
    # so the borrower's prefixed lines can land inside it ('wri(XEN) ... DOM2: ...tten',
    # seen on 4.22). The word read back proves the write.
    expect = ["shm owner: up", "shm borrower: up", f"read 0x{BORROWER_VIEW:016x} = 0x{WORD:016x}"]
    result = ws.boot(document, expect, timeout=60)
    if built_xen["version"] == "4.17":  # 4.18 dropped the line (static-shmem.c)
        assert "allocate static shared memory BANK" in result.console


def hex64(value: int) -> str:
    return f"0x{value:016x}"


def test_an_event_sent_on_a_static_channel_is_pending_at_the_other_end(workspace, built_xen):
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
    document["xen"].update(built_xen)
    # From 4.20 DOM1 holds console input, and Xen prints its lines without the prefix.
    receiver_says = "" if built_xen["version"] >= "4.20" else "DOM1: "
    ws.boot(
        document,
        [
            f"{receiver_says}event watch on port {hex64(11)}",
            f"DOM2: event send on port {hex64(10)}",
            f"DOM2: hypercall result {hex64(0)}",
            f"{receiver_says}event pending on port {hex64(11)}",
        ],
        timeout=60,
    )
