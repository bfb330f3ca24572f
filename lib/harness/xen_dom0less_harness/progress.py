"""Progress of setup's long steps: one line per step, and on a terminal a bar for the
bytes apt is fetching.

tqdm draws the bar: it is kept up to date, pure Python with no dependencies of its
own, and handles terminal width, rates and redrawing, which we would otherwise write.
When stderr is not a terminal, or under CI, only the step lines are written, so a log
stays one line per step.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

from tqdm import tqdm


def on_terminal() -> bool:
    """Whether a bar can be drawn: stderr is a terminal and this is not a CI run."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def step(text: str) -> None:
    """One line saying what setup is doing now."""
    print(f"dom0less: {text}", file=sys.stderr, flush=True)


@contextmanager
def percent_bar(what: str) -> Iterator[Callable[[float], None]]:
    """A bar from 0 to 100 % on a terminal (nothing elsewhere); yields what moves it."""
    with tqdm(
        total=100.0,
        desc=what,
        bar_format="{desc}: {percentage:3.0f}% |{bar}| {elapsed}",
        file=sys.stderr,
        disable=not on_terminal(),
        leave=False,
    ) as bar:

        def move(percent: float) -> None:
            bar.update(max(0.0, min(percent, 100.0) - bar.n))

        yield move
