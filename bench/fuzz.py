#!/usr/bin/env python3
"""A fuzzing campaign: N hostile cases through `dom0less`, counting exits, tracebacks, hangs
and accepted overlaps.

The cases are tests/cli/fuzz_cases.py's (the fuzz test's), their choices drawn
from random.Random(seed) for seeds FIRST..FIRST+N-1, so any case is rerun
with ``--first SEED --count 1 --show``. Each runs in a forked child limited
to 20 s and 3 GiB more address space. Cases that did not end in exit 0 or 1
without a traceback, and cases with a changed host tree that exited 0 although the
isolation oracle (tests/cli/isolation_oracle.py) finds an overlap, are written to
--report with their steps and stderr.

With --host-trees the cases are tests/cli/host_mutations.py's instead: `build` on
QEMU's tree with semantic mutations (GIC, RAM, console, CPUs, PSCI, timer), each
also judged by that module's reading of the tree as Xen's boot code reads it.
A tree built (exit 0) on which Xen would panic, hang or run without what the tree
declares is a silent acceptance, reported and counted as bad; a tree refused on
which Xen would boot is counted (over-strict) and reported, not failed.

    nice python3 bench/fuzz.py --count 10000 --jobs 2
    nice -n 10 python3 bench/fuzz.py --host-trees --count 2000
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lib"), str(ROOT)]

from tests.cli.fuzz_cases import (  # noqa: E402
    HOST_TREE,
    RandomDraw,
    accepted_overlaps,
    make_case,
    run_case,
)
from tests.cli.host_mutations import make_host_case  # noqa: E402
from tests.conftest import write_inputs  # noqa: E402

#: Outcomes of --host-trees that fail the campaign
SILENT = "accepted, Xen cannot boot"
STRICT = "refused, Xen would boot"
#: A case with a changed host tree that built although the isolation oracle finds an overlap
ACCEPTED = "accepted overlap"


def run_range(
    first: int, count: int, report: Path, show: bool, host_trees: bool
) -> collections.Counter:
    """Run seeds first..first+count-1; count outcomes; report the bad ones."""
    counts: collections.Counter = collections.Counter()
    with tempfile.TemporaryDirectory(prefix="dom0less-campaign-") as shared:
        inputs = write_inputs(Path(shared) / "inputs")
        for seed in range(first, first + count):
            with tempfile.TemporaryDirectory(prefix="dom0less-case-") as tmp:
                try:
                    if host_trees:
                        case, faults = make_host_case(RandomDraw(seed), Path(tmp), inputs)
                    else:
                        case, faults = make_case(RandomDraw(seed), Path(tmp), inputs), []
                except Exception as error:  # a bug of the case maker, not of dom0less
                    counts["case maker failed"] += 1
                    print(f"seed {seed}: the case maker failed: {error!r}", file=sys.stderr)
                    continue
                outcome = run_case(case, Path(tmp))
                found = accepted_overlaps(case, outcome, Path(tmp))
            kind = "hang" if outcome.hung else f"exit {outcome.code}"
            counts[kind] += 1
            counts["traceback"] += outcome.traceback
            counts[ACCEPTED] += bool(found)
            counts["host tree changed"] += any(s.startswith(HOST_TREE) for s in case.steps)
            counts["slowest ms"] = max(counts["slowest ms"], int(outcome.seconds * 1000))
            verdict = _verdict(outcome.code, faults) if host_trees else None
            if verdict:
                counts[verdict] += 1
            flagged = not outcome.ok or verdict in (SILENT, STRICT) or bool(found)
            if show or flagged:
                text = f"seed {seed}: {kind}{f' ({verdict})' if verdict else ''}\n  "
                text += "\n  ".join(case.steps + [f"Xen: {f}" for f in faults]) + "\n"
                text += "".join(f"  {ACCEPTED}: {line}\n" for line in found)
                text += outcome.stderr[-4000:] + "\n"
                if show:
                    print(text)
                if flagged:
                    report.mkdir(parents=True, exist_ok=True)
                    (report / f"seed-{seed}.txt").write_text(text)
    return counts


def _verdict(code: int, faults: list[str]) -> str:
    """The product's answer (built or refused) against the oracle's (Xen boots or not)."""
    built = {0: "accepted", 1: "refused"}.get(code, "crashed")
    return f"{built}, Xen {'cannot boot' if faults else 'would boot'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--report", type=Path, default=Path("fuzz-report"))
    parser.add_argument("--show", action="store_true", help="print every case")
    parser.add_argument(
        "--host-trees", action="store_true", help="semantic host-tree mutations, judged by Xen"
    )
    args = parser.parse_args()
    start = time.monotonic()
    share = -(-args.count // args.jobs)
    ranges = [
        (args.first + i * share, min(share, args.count - i * share)) for i in range(args.jobs)
    ]
    total: collections.Counter = collections.Counter()
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(run_range, a, n, args.report, args.show, args.host_trees) for a, n in ranges
        ]
        for future in futures:
            for key, value in future.result().items():
                total[key] = max(total[key], value) if key == "slowest ms" else total[key] + value
    cases = sum(v for k, v in total.items() if k.startswith(("exit", "hang")))
    print(f"{cases} cases in {time.monotonic() - start:.0f} s (seeds {args.first}..)")
    for key in sorted(total):
        print(f"  {key}: {total[key]}")
    bad = cases - total["exit 0"] - total["exit 1"] + total["traceback"] + total[SILENT]
    bad += total[ACCEPTED]
    print(
        f"  bad (not exit 0/1, a traceback, {SILENT} or an {ACCEPTED}): {bad}; "
        f"reports in {args.report}"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
