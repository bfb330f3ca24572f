"""The output directory, written all or nothing.

Outputs are written into a fresh sibling directory that replaces OUTDIR only
once complete, so a failed run leaves the previous output untouched. A run
killed outright (SIGKILL, power loss) cannot clean up after itself; a later
successful run into the same OUTDIR removes what it left, once it is stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from ..atomic import write_problem
from ..errors import BuildError
from ..files import resolve
from .plan import Plan

#: Modes of what build writes, whatever the umask: read by all, written by the owner.
FILE_MODE = 0o644
DIR_MODE = 0o755
#: Random bytes in a staging directory's name, after the process id.
NAME_TOKEN_BYTES = 4
#: A sibling left by a process that is gone is removed only once untouched this long
#: (seconds): the process id may be another machine's (an output on a shared mount), whose
#: staging directory changes as each file is written into it.
ABANDONED_AFTER = 3600
#: The name after ``.OUTDIR.`` of a sibling made by _fresh_sibling: role, process id, token.
SIBLING_NAME = re.compile(rf"(?:new|old)\.([0-9]+)\.[0-9a-f]{{{2 * NAME_TOKEN_BYTES}}}", re.ASCII)


def write_atomically(outdir: Path, plan: Plan, files: dict[str, bytes], epoch: int) -> None:
    """Write ``files`` and the plan's binaries as ``outdir``, replacing it only once complete.

    Builds into one parent directory take turns (a lock on that directory), so
    two into the same ``outdir`` serialise. Files are 0644 and the directory
    0755 whatever the umask; a file system error is a BuildError naming it.
    """
    outdir = resolve(Path.cwd(), str(outdir))
    _refuse_overwriting_inputs(outdir, plan)
    if outdir.exists() and not outdir.is_dir():
        raise BuildError(
            f"output directory {outdir} is an existing file: choose another -o "
            "(build replaces a directory as a whole)"
        )
    try:
        outdir.parent.mkdir(parents=True, exist_ok=True)
        with _turn(outdir.parent):
            _write(outdir, plan, files, epoch)
    except OSError as error:
        raise write_problem(outdir, error) from None
    # Only now: a run killed between _replace's renames left the previous output in .old alone.
    _remove_abandoned_siblings(outdir)


@contextlib.contextmanager
def _turn(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (flock on the directory itself, no lock file).

    Where it cannot be taken (a file system without flock, a directory we may
    not read) builds go ahead unlocked, as they did before there was a lock.
    """
    try:
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _write(outdir: Path, plan: Plan, files: dict[str, bytes], epoch: int) -> None:
    staging = _fresh_sibling(outdir, "new")
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        for blob in plan.blobs:
            if blob.file in files or plan.container(blob) is not None:
                continue
            if blob.data is not None:
                (staging / blob.file).write_bytes(blob.data)
            else:
                shutil.copyfile(blob.source, staging / blob.file)
        for path in staging.iterdir():
            path.chmod(FILE_MODE)
            os.utime(path, (epoch, epoch))
        staging.chmod(DIR_MODE)
        _replace(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _replace(staging: Path, outdir: Path) -> None:
    if not outdir.exists():
        staging.rename(outdir)
        return
    old = _fresh_sibling(outdir, "old")
    old.rmdir()
    outdir.rename(old)
    staging.rename(outdir)
    shutil.rmtree(old, ignore_errors=True)


def _fresh_sibling(outdir: Path, role: str) -> Path:
    """A new empty directory next to ``outdir`` (same file system, so renames are atomic).

    Made here rather than by ``tempfile``, whose import is 2 ms of a 60 ms
    build; the name is as unguessable and the directory as private.
    """
    for _attempt in range(100):
        name = f".{outdir.name}.{role}.{os.getpid()}.{os.urandom(NAME_TOKEN_BYTES).hex()}"
        candidate = outdir.with_name(name)
        try:
            candidate.mkdir(mode=0o700)
            return candidate
        except FileExistsError:
            continue
    raise BuildError(
        f"{outdir.parent}: cannot create a new .{outdir.name}.{role}.* directory "
        "there (100 names taken): remove the ones no build is using"
    )


def _remove_abandoned_siblings(outdir: Path) -> None:
    """Remove the staging and old-output directories of runs that are no longer running.

    Their names carry the run's process id (see _fresh_sibling). Left alone: a
    run still going or one whose process this user may not signal, anything
    touched within ABANDONED_AFTER, and whatever cannot be listed or has just
    gone (another build sweeping at the same time).
    """
    prefix = f".{outdir.name}."
    cutoff = time.time() - ABANDONED_AFTER
    abandoned = []
    try:
        with os.scandir(outdir.parent) as entries:
            for entry in entries:
                match = entry.name.startswith(prefix) and SIBLING_NAME.fullmatch(
                    entry.name, len(prefix)
                )
                if (
                    match
                    and entry.is_dir(follow_symlinks=False)
                    and _has_exited(int(match[1]))
                    and entry.stat(follow_symlinks=False).st_mtime < cutoff
                ):
                    abandoned.append(entry.path)
    except OSError:  # an unreadable parent, or an entry removed meanwhile
        return
    for path in abandoned:
        shutil.rmtree(path, ignore_errors=True)


def _has_exited(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # another user's process; not a pid at all
        return False
    return False


def _refuse_overwriting_inputs(outdir: Path, plan: Plan) -> None:
    signing = plan.system.boot.signing
    named = (plan.system.source, plan.system.host.dtb, plan.system.xen.config)
    named += (signing.key, signing.uboot_dtb) if signing is not None else ()
    inputs = [resolve(Path.cwd(), str(path)) for path in named if path is not None]
    inputs += [b.source for b in plan.blobs if b.source]
    for path in inputs:
        if outdir == path or outdir in path.parents:
            raise BuildError(
                f"output directory {outdir} contains the input {path}: "
                "choose another -o (it is replaced as a whole)"
            )
