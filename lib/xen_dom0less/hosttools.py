"""Host programs the library runs: found, run, and named in one sentence when they fail.

A missing program or a failed one becomes a ToolError saying what to install
or what went wrong (and keeping the program's exit status), never a traceback
from deep in subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Optional

from .errors import ToolError, UserError

#: Lines of a failed program's output quoted in the message.
QUOTED_LINES = 3
#: Seconds a host program may run before it counts as hung (times timeout_scale()).
RUN_TIMEOUT_S = 900.0
#: Multiplies every timeout of host programs and QEMU boots, for slow or shared runners.
TIMEOUT_SCALE = "DOM0LESS_TIMEOUT_SCALE"

#: Every host program the library runs -> the Debian package providing it: the one table
#: that ``dom0less setup`` installs from and every "not installed" message names.
PACKAGES = {
    # the QEMU harness and its guests
    "qemu-system-aarch64": "qemu-system-arm",
    "mkimage": "u-boot-tools",
    "mkenvimage": "u-boot-tools",
    "openssl": "openssl",  # and signing a FIT
    "lz4": "lz4",  # boot.compression: lz4
    "dtc": "device-tree-compiler",
    "mcopy": "mtools",
    "mdir": "mtools",
    "mmd": "mtools",
    "mkfs.vfat": "dosfstools",
    "cpio": "cpio",
    "aarch64-linux-gnu-as": "binutils-aarch64-linux-gnu",
    "aarch64-linux-gnu-ld": "binutils-aarch64-linux-gnu",
    "aarch64-linux-gnu-objcopy": "binutils-aarch64-linux-gnu",
    # building Xen (Kconfig is built from flex and bison sources), and its cross compilers
    "make": "make",
    "gcc": "gcc",
    "flex": "flex",
    "bison": "bison",
    "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
    "arm-linux-gnueabihf-gcc": "gcc-arm-linux-gnueabihf",
    # cross-building Xen's tools (libxl's ACPI tables; the sysroot's libraries)
    "iasl": "acpica-tools",
    "pkg-config": "pkg-config",
    # fetching Debian's Xen source
    "apt-get": "apt",
    "dpkg-source": "dpkg-dev",
}


def which(name: str) -> Optional[str]:
    """Absolute path of ``name``; also looks in /usr/sbin (mkfs.vfat), off a user's PATH."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def require(name: str, install: str) -> str:
    """Absolute path of ``name``, or a ToolError ending with ``install`` (how to get it)."""
    found = which(name)
    if found is None:
        raise ToolError(f"'{name}' is not installed: {install}", name, None)
    return found


def timeout_scale() -> float:
    """``$DOM0LESS_TIMEOUT_SCALE`` (default 1): a slow runner sets it above 1."""
    text = os.environ.get(TIMEOUT_SCALE, "1")
    try:
        scale = float(text)
    except ValueError:
        scale = 0.0
    if not 0 < scale < float("inf"):
        raise UserError(f"{TIMEOUT_SCALE}={text!r} is not a positive number: set it to e.g. 3")
    return scale


def run(
    argv: list[str],
    what: str,
    cwd: Optional[Path] = None,
    hint: str = "",
    env: Optional[Mapping[str, str]] = None,
    timeout: float = RUN_TIMEOUT_S,
    on_line: Optional[Callable[[str], None]] = None,
) -> str:
    """Run a program and return its output; a failure is a ToolError quoting its last lines.

    A program still running after ``timeout`` seconds (times timeout_scale()) is killed
    and named as hung, rather than hanging its caller. ``on_line`` is handed each line of
    the output (stderr merged) as it comes, for a program that reports its progress.
    """
    limit = timeout * timeout_scale()
    tool = Path(argv[0]).name
    try:
        if on_line is None:
            done = subprocess.run(
                argv,
                cwd=cwd,
                capture_output=True,
                text=True,
                check=False,
                env=env,
                stdin=subprocess.DEVNULL,
                timeout=limit,
            )
            code, output = done.returncode, done.stdout
            quoted = done.stderr or done.stdout
        else:
            code, output = _streamed(argv, cwd, env, limit, on_line)
            quoted = output
    except (FileNotFoundError, subprocess.TimeoutExpired) as error:
        raise _not_run(error, argv, what, hint, limit) from None
    if code != 0:
        raise _failed(code, quoted, tool, what, hint)
    return output


def filtered(
    argv: list[str], data: bytes, what: str, hint: str = "", timeout: float = RUN_TIMEOUT_S
) -> bytes:
    """``data`` through a program reading its input and writing its output in binary (a
    compressor); a failure is a ToolError as :func:`run` makes it."""
    limit = timeout * timeout_scale()
    try:
        done = subprocess.run(argv, input=data, capture_output=True, check=False, timeout=limit)
    except (FileNotFoundError, subprocess.TimeoutExpired) as error:
        raise _not_run(error, argv, what, hint, limit) from None
    if done.returncode != 0:
        quoted = done.stderr.decode(errors="replace")
        raise _failed(done.returncode, quoted, Path(argv[0]).name, what, hint)
    return done.stdout


def _not_run(error: Exception, argv: list[str], what: str, hint: str, limit: float) -> ToolError:
    """The ToolError for a program that is not installed or did not finish in time."""
    tool = Path(argv[0]).name
    if isinstance(error, FileNotFoundError):
        return ToolError(f"{what} failed: '{argv[0]}' is not installed", tool, None)
    return ToolError(
        f"{what} did not finish within {limit:g} s ({tool} killed): "
        f"a slow machine may set {TIMEOUT_SCALE}" + (f"; {hint}" if hint else ""),
        tool,
        None,
    )


def _failed(code: int, quoted: str, tool: str, what: str, hint: str) -> ToolError:
    """The ToolError for a program that exited with ``code``, quoting its last lines."""
    lines = quoted.strip().splitlines()[-QUOTED_LINES:]
    detail = " ".join(lines) or f"exit status {code}"
    return ToolError(
        f"{what} failed ({tool}: {detail})" + (f": {hint}" if hint else ""), tool, code
    )


def _streamed(
    argv: list[str],
    cwd: Optional[Path],
    env: Optional[Mapping[str, str]],
    limit: float,
    on_line: Callable[[str], None],
) -> tuple[int, str]:
    """Exit status and output of ``argv``, each output line handed to ``on_line`` as it comes."""
    lines: list[str] = []
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as program:
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            program.kill()

        watchdog = threading.Timer(limit, kill)
        watchdog.start()
        try:
            assert program.stdout is not None
            for line in program.stdout:
                lines.append(line)
                on_line(line.rstrip("\n"))
        finally:
            watchdog.cancel()
    if killed.is_set():
        raise subprocess.TimeoutExpired(argv, limit)
    return program.returncode, "".join(lines)


def missing_packages(
    programs: Iterable[str], files: Optional[Mapping[Path, str]] = None
) -> list[str]:
    """Debian packages (PACKAGES) of absent ``programs``, and of absent ``files`` (keys), sorted."""
    missing = {PACKAGES[name] for name in programs if which(name) is None}
    missing |= {package for path, package in (files or {}).items() if not path.is_file()}
    return sorted(missing)
