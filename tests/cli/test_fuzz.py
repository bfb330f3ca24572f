"""Fuzzing: hostile descriptions and DTBs end in exit 0 or 1, never a traceback or a hang.

Each case (tests/cli/fuzz_cases.py) runs the CLI in a forked child with a time and
an address-space limit. bench/fuzz.py runs the same cases by the ten thousand;
what either found is kept as a named test in test_hostile.py or test_dtb_check.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..conftest import write_inputs
from .fuzz_cases import RandomDraw, accepted_overlaps, make_case, run_case


class HypothesisDraw:
    """Choices drawn by hypothesis, so a failing case shrinks to its smallest form."""

    def __init__(self, data):
        self.data = data

    def pick(self, options):
        return self.data.draw(st.sampled_from(options))

    def number(self, low, high):
        return self.data.draw(st.integers(low, high))


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_hostile_cases_end_in_exit_0_or_1(data):
    with tempfile.TemporaryDirectory(prefix="dom0less-fuzz-") as tmp:
        work = Path(tmp)
        case = make_case(HypothesisDraw(data), work)
        outcome = run_case(case, work)
        accepted = accepted_overlaps(case, outcome, work)
    assert not outcome.hung, f"hung: {case.steps}"
    assert not accepted, f"accepted overlaps {accepted}: {case.steps}"
    assert outcome.ok, f"exit {outcome.code}: {case.steps}\n{outcome.stderr[-3000:]}"


def test_the_case_maker_runs_where_the_campaign_found_it_failing(tmp_path: Path):
    """Seed 1982: a host-tree change after 'domains' was set to a number ('int' object is
    not iterable in the case maker, so the case never ran)."""
    inputs = write_inputs(tmp_path / "inputs")
    for seed in (1982,):
        work = tmp_path / f"case-{seed}"
        work.mkdir()
        assert make_case(RandomDraw(seed), work, inputs).steps
