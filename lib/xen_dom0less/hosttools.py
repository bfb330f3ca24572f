"""Host programs the library runs: found, run, and named in one sentence when they fail.

A missing program or a failed one becomes a UserError saying what to install
or what went wrong, never a traceback from deep in subprocess.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from .errors import UserError

#: Lines of a failed program's output quoted in the message.
QUOTED_LINES = 3


def which(name: str) -> Optional[str]:
    """Absolute path of ``name``; also looks in /usr/sbin (mkfs.vfat), off a user's PATH."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def require(name: str, install: str) -> str:
    """Absolute path of ``name``, or a UserError ending with ``install`` (how to get it)."""
    found = which(name)
    if found is None:
        raise UserError(f"'{name}' is not installed: {install}")
    return found


def run(argv: list[str], what: str, cwd: Optional[Path] = None, hint: str = "") -> str:
    """Run a program and return its output; a failure is a UserError quoting its last lines."""
    try:
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UserError(f"{what} failed: '{argv[0]}' is not installed") from None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()[-QUOTED_LINES:]
        detail = " ".join(lines) or f"exit status {result.returncode}"
        raise UserError(
            f"{what} failed ({Path(argv[0]).name}: {detail})" + (f": {hint}" if hint else "")
        )
    return result.stdout


def missing_packages(
    programs: Mapping[str, str], files: Optional[Mapping[Path, str]] = None
) -> list[str]:
    """Debian packages (values) whose programs or files (keys) are absent, sorted."""
    missing = {package for name, package in programs.items() if which(name) is None}
    missing |= {package for path, package in (files or {}).items() if not path.is_file()}
    return sorted(missing)
