"""Boot an output directory under QEMU and watch for the expected markers.

Ends as soon as the answer is known: every marker seen (success), a fatal
line (failure, after a moment to capture the reason), QEMU exiting, or the
timeout. Only the QEMU process group started here is ever killed.
"""

from __future__ import annotations

import math
import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Union

from xen_dom0less.hosttools import timeout_scale

from . import command, manifest, preflight
from .console import Console, Hit
from .machine import Machine

#: After a fatal line, keep reading this long so the report includes the reason.
FATAL_GRACE_S = 1.0
#: What to type on the console once a text has appeared: (text, bytes to type).
Keys = Sequence[tuple[str, bytes]]


@dataclass(frozen=True)
class BootResult:
    """How a boot went: the verdict, why, the whole console and when each marker came."""

    ok: bool
    reason: str
    console: str
    hits: dict[str, Hit]
    elapsed: float


def boot(
    outdir: Union[Path, manifest.BootManifest],
    expect: list[str],
    timeout: Optional[float] = 120.0,
    machine: Optional[Machine] = None,
    floor: bool = False,
    echo: Optional[Callable[[str], None]] = None,
    work: Optional[Path] = None,
    keys: Keys = (),
    uboot_dtb: Optional[Path] = None,
    disk: Optional[Path] = None,
    firmware: str = "u-boot",
    uboot_bin: Optional[Path] = None,
) -> BootResult:
    """Boot ``outdir`` (what ``dom0less build`` wrote, or a directory without a manifest
    as :func:`.manifest.foreign` describes it) until every ``expect`` text appears.

    With no ``expect`` it runs until the timeout (None: until QEMU exits), which
    counts as success unless a fatal line appeared. ``uboot_dtb`` replaces U-Boot's
    control DTB (one requiring a FIT signature key); ``disk`` is the disk image to boot
    from (``dom0less image``) instead of one built from ``outdir``; ``firmware`` "edk2"
    boots a UEFI output with EDK2 instead of U-Boot; ``uboot_bin`` replaces Debian's U-Boot.
    """
    boot_manifest = outdir if isinstance(outdir, manifest.BootManifest) else manifest.read(outdir)
    machine = machine or Machine()
    preflight.check(boot_manifest, machine)
    with tempfile.TemporaryDirectory(prefix="dom0less-qemu-") as tmp:
        where = work or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        if floor or machine.board == "zcu102":  # Debian has no U-Boot for the ZynqMP
            argv = command.floor(boot_manifest, machine, where)
        elif firmware == "edk2":
            argv = command.edk2(boot_manifest, machine, where, disk)
        else:
            argv = command.uboot(boot_manifest, machine, where, uboot_dtb, disk, uboot_bin)
        triggers = [text for text, _ in keys]
        return watch(argv, Console(expect + triggers, echo), timeout, keys)


def watch(
    argv: list[str], console: Console, timeout: Optional[float], keys: Keys = ()
) -> BootResult:
    """Run QEMU, feed its console to ``console``, and stop when the outcome is known.

    Each of ``keys`` is typed on the console once its text has appeared, e.g.
    to switch Xen's console input to Xen and ask it for a debug-key dump.
    ``timeout`` is multiplied by ``$DOM0LESS_TIMEOUT_SCALE`` (slow runners).
    """
    if timeout is not None:
        timeout *= timeout_scale()
    start = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if keys else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        reason = _stream(proc, console, start, timeout, list(keys))
    finally:
        _stop(proc)
    console.finish(time.monotonic() - start)
    ok = reason is None
    return BootResult(
        ok,
        reason or "every marker appeared",
        console.text,
        dict(console.hits),
        time.monotonic() - start,
    )


def _stream(
    proc: subprocess.Popen,
    console: Console,
    start: float,
    timeout: Optional[float],
    keys: list[tuple[str, bytes]],
) -> Optional[str]:
    """None on success, else why the boot failed."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = start + timeout if timeout is not None else math.inf
    grace_set = False
    while console.fatal is not None or not console.complete or not console.expect:
        if console.fatal is not None and not grace_set:
            deadline, grace_set = min(deadline, time.monotonic() + FATAL_GRACE_S), True
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], None if math.isinf(left) else left)
        if not ready:
            continue
        data = os.read(fd, 65536)
        if not data:
            console.finish(time.monotonic() - start)
            if console.fatal is None and console.missing:
                return f"QEMU exited (status {proc.wait()}) before {_missing(console)}"
            break
        console.feed(data, time.monotonic() - start)
        keys = _type_due(proc, console, keys)
    if console.fatal is not None:
        return console.fatal
    if console.complete:
        return None
    return f"timed out after {timeout:g} s waiting for {_missing(console)}"


def _type_due(
    proc: subprocess.Popen, console: Console, keys: list[tuple[str, bytes]]
) -> list[tuple[str, bytes]]:
    """Type, in order, each key whose text has appeared; the rest wait."""
    while keys and keys[0][0] in console.hits:
        assert proc.stdin is not None
        proc.stdin.write(keys.pop(0)[1])
        proc.stdin.flush()
    return keys


def _missing(console: Console) -> str:
    return ", ".join(repr(text) for text in console.missing)


def _stop(proc: subprocess.Popen) -> None:
    """Terminate our QEMU's own process group, then make sure it is gone."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
