"""Write outputs whole or not at all, and say in one sentence why a write failed.

A reader never sees half a file, a failure leaves none; a file system error
(full, read-only, no permission, a directory in the way) is a BuildError naming
the output, never a traceback. The build's output directory (generator's
output_dir) reports its errors with the same words.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import BuildError

#: What a write error means for the user, by errno.
WRITE_REASONS = {
    errno.ENOSPC: "the file system is full (no space left on device): free some space",
    errno.EDQUOT: "the disk quota is exceeded: free some space",
    errno.EROFS: "the file system is read-only: choose another output",
    errno.EACCES: "permission denied: choose a place you can write to",
    errno.EPERM: "operation not permitted: choose a place you can write to",
    errno.ENOENT: "its directory does not exist: create it or choose another output",
    errno.ENOTDIR: "a part of its path is a file, not a directory: choose another output",
    errno.EEXIST: "a part of its path is a file, not a directory: choose another output",
    errno.EISDIR: "it is a directory: name a file",
    errno.ENAMETOOLONG: "its path is too long: choose a shorter one",
    errno.ELOOP: "its path has a symbolic link loop: choose another output",
}


def write_problem(path: Path, error: OSError) -> BuildError:
    """The BuildError for ``error`` writing ``path``."""
    why = WRITE_REASONS.get(error.errno) or error.strerror or str(error)
    return BuildError(f"cannot write {path}: {why}")


def refuse_input(path: Path, source: Path, option: str) -> None:
    """BuildError if ``path`` (given as ``option``) is the input ``source``: writing would
    replace the user's own file with the output made from it."""
    try:
        same = path.exists() and source.exists() and os.path.samefile(path, source)
    except (OSError, ValueError):  # unreadable or a NUL in the name: writing reports it
        same = False
    if same:
        raise BuildError(f"{option} {path} is the input {source}: name another file")


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` through a hidden sibling renamed over it."""
    if path.is_dir():
        raise write_problem(path, IsADirectoryError(errno.EISDIR, "Is a directory"))
    try:
        handle, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as error:
        raise write_problem(path, error) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(staging, 0o644)
        os.replace(staging, path)
    except BaseException as error:
        os.unlink(staging)
        if isinstance(error, OSError):
            raise write_problem(path, error) from None
        raise
