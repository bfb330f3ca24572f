"""xen.scheduler credit: with four CPUs the first domain listed is the first to run.

Each bare-metal guest prints the counter it read on its first instructions, so
the order is read from the guests themselves, not from when their lines reached
the console. With Xen's default (credit2) the later domains start first here
(checked: this test fails without the scheduler key); docs/boot-order.md says why.
"""

from __future__ import annotations

import re

import pytest
from xen_dom0less_harness.guests.baremetal import Program

pytestmark = pytest.mark.e2e
ENTRY = re.compile(r"DOM(\d+): counter 0x([0-9a-f]+) frequency")


def test_credit_starts_the_first_domain_first_on_four_cpus(workspace):
    ws = workspace
    assert ws.machine.smp == 4
    markers = ["critical: up", "second: up", "third: up"]
    domains = [
        {
            "name": f"d{i}",
            "kernel": str(ws.bare(f"d{i}", Program(marker, print_counter=True))),
            "memory": "16M",
        }
        for i, marker in enumerate(markers, start=1)
    ]
    document = ws.description(domains)
    document["xen"]["scheduler"] = "credit"
    counters = [f"DOM{i}: counter" for i in (1, 2, 3)]  # Xen 4.17 prefixes every domU
    result = ws.boot(document, markers + counters, timeout=60)
    entries = {int(d): int(c, 16) for d, c in ENTRY.findall(result.console)}
    assert "Using scheduler: SMP Credit Scheduler (credit)" in result.console
    assert sorted(entries) == [1, 2, 3], result.console[-3000:]
    assert entries[1] < min(entries[2], entries[3]), entries
