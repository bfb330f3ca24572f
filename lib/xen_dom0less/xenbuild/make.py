"""Running Xen's make: one command line for every target, live progress, a kept log.

The full output goes to the log; only kbuild's short status lines (``CC``,
``LD``...) are passed on as progress, and a failure is one line quoting the
first error of the failed run (the log keeps the rest).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ToolError

Progress = Callable[[str], None]

_STATUS = re.compile(r"^ {2}[A-Z][A-Z0-9_]*\s+\S")
#: A compiler's, linker's or make's own error line.
_ERROR = re.compile(r"\berror\b|\*\*\*", re.I)


@dataclass(frozen=True)
class Make:
    """make for one out-of-tree Xen build directory."""

    xen_dir: Path
    build_dir: Path
    arch: str
    cross_compile: str
    environ: Mapping[str, str]
    log: Path
    progress: Progress

    def __call__(self, *targets: str, jobs: int = 1) -> None:
        command = [
            "make",
            "-C",
            str(self.xen_dir),
            f"O={self.build_dir}",
            f"XEN_TARGET_ARCH={self.arch}",
            f"CROSS_COMPILE={self.cross_compile}",
            f"-j{jobs}",
            *targets,
        ]
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"$ {shlex.join(command)}\n")
            log.flush()
            with subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=dict(self.environ),
                text=True,
                errors="replace",
            ) as run:
                assert run.stdout is not None
                for line in run.stdout:
                    log.write(line)
                    if _STATUS.match(line):
                        self.progress(line.strip())
            code = run.returncode
        if code != 0:
            what = " ".join(targets) or "the hypervisor"
            raise ToolError(
                f"make {what} failed (exit {code}): {cause(self.log)}; the full log is {self.log}",
                "make",
                code,
            )


def cause(log: Path) -> str:
    """The line of the last make run that says why it failed: its first error, else its end."""
    lines = log.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("$ make")]
    run = [line.strip() for line in lines[starts[-1] + 1 if starts else 0 :] if line.strip()]
    errors = [line for line in run if _ERROR.search(line)]
    return (errors or run or ["no output"])[0 if errors else -1]
