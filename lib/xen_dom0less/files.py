"""The one place that resolves and reads the files a description names.

Every failure becomes a sentence (:class:`UnusableFile`) its caller reports
under the key naming the file, never a traceback. Only regular files are
read: a FIFO would block forever and a device never end. Large files are
streamed, never read whole (a 5 GiB kernel is hashed, not loaded), and a file
is first only probed (its size and first bytes) so that a wrong or oversized
one is refused before it is read at all.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO, NamedTuple

from .units import human_size

#: Bytes read at a time when streaming a file.
CHUNK = 1 << 20

_REASONS = {
    errno.ENOENT: "does not exist",
    errno.ENOTDIR: "does not exist (a part of its path is a file, not a directory)",
    errno.ELOOP: "cannot be opened: its symbolic links form a loop",
    errno.ENAMETOOLONG: (
        "cannot be opened: its path is too long (a name over 255 bytes or the whole over 4096)"
    ),
    errno.EACCES: "cannot be read: permission denied",
    errno.EPERM: "cannot be read: operation not permitted",
    errno.EISDIR: "is a directory, not a file",
}
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UnusableFile(Exception):
    """A file that cannot be read, with a sentence saying why (it names the file)."""


class Probe(NamedTuple):
    """What a file's metadata and first bytes tell: enough to identify and size it."""

    size: int
    head: bytes


def resolve(base: Path, value: str) -> Path:
    """``value`` made absolute against ``base``, symbolic links resolved where they can be.

    A path that cannot be resolved (a symlink loop, a name too long) is kept
    as written, made absolute, so that reading it reports why.
    """
    path = base / value
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # RuntimeError: Python's "Symlink loop"
        return Path(os.path.abspath(path))


def reason(path: Path, error: BaseException) -> str:
    """A sentence for an error opening or reading ``path``."""
    if isinstance(error, ValueError):  # os functions refuse NUL bytes with ValueError
        return f"file {path!r} cannot be opened: its path holds a NUL byte"
    if isinstance(error, OSError):
        why = _REASONS.get(error.errno) or f"cannot be read: {error.strerror or error}"
        return f"file {path} {why}"
    return f"file {path} cannot be read: {error}"


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file; UnusableFile otherwise."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError) as error:
        raise UnusableFile(reason(path, error)) from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise UnusableFile(f"file {path} is {kind}, not a regular file")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def check_regular(path: Path) -> None:
    """UnusableFile unless ``path`` is a regular file this process can read."""
    open_regular(path).close()


def read(path: Path, limit: int, what: str) -> bytes:
    """All of ``path``, which must be a regular file of at most ``limit`` bytes (``what``)."""
    with open_regular(path) as file:
        try:
            data = file.read(limit + 1)
        except OSError as error:
            raise UnusableFile(reason(path, error)) from None
    if len(data) > limit:
        raise UnusableFile(
            f"file {path} is larger than {human_size(limit)}, too large for {what}: "
            "is it the right file?"
        )
    return data


def probe(path: Path, head: int) -> Probe:
    """Size and first ``head`` bytes of ``path``, the rest unread."""
    with open_regular(path) as file:
        try:
            return Probe(os.fstat(file.fileno()).st_size, file.read(head))
        except OSError as error:
            raise UnusableFile(reason(path, error)) from None


def tail(path: Path, count: int) -> bytes:
    """The last ``count`` bytes of ``path`` (all of it when shorter)."""
    with open_regular(path) as file:
        try:
            file.seek(max(0, os.fstat(file.fileno()).st_size - count))
            return file.read(count)
        except OSError as error:
            raise UnusableFile(reason(path, error)) from None


def sha256(path: Path) -> str:
    """SHA-256 of ``path``, read in chunks."""
    digest = hashlib.sha256()
    with open_regular(path) as file:
        try:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
        except OSError as error:
            raise UnusableFile(reason(path, error)) from None
    return digest.hexdigest()
