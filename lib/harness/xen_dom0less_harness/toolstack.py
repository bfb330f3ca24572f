"""Xen's toolstack for arm64, cross-built from a release's source: xl, xenstored, xenconsoled,
init-dom0less and their libraries, for a release Debian does not package (4.22).

The toolstack must be the hypervisor's release. The cross build needs the arm64 headers
and libraries the tools link against: Debian's arm64 ``-dev`` packages are downloaded and
unpacked into a sysroot (never installed, so the host's apt architectures stay as they
are). Only the programs a dom0, a hardware domain or a control domain runs are built
(no QEMU, stubdoms, OCaml, Go, Python bindings or firmware), laid out as Debian lays out
its own Xen tools, so the dom0 initramfs takes them the same way.

Each build is kept per source checksum and configuration, like the hypervisor builds: it
runs in a hidden staging directory renamed into place only when installed completely, and
a failed build leaves only ``KEY.failed.log`` beside the kept ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from xen_dom0less import hosttools
from xen_dom0less.cache import cache_dir
from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import ReleaseSource, cached, debian, make

from . import debian_inputs, progress
from .guests import xl_dom0

TRIPLET = "aarch64-linux-gnu"
#: What ./configure and the tools' link need: the C library and its kernel headers (the
#: host's cross compiler brings no arm64 libc to link against), then the libraries
#: configure insists on (yajl, uuid, zlib, curses, libfdt on Arm). Optional ones (lzma,
#: bzip2, zstd, lz4, libnl, json-c) are left out: nothing the tests run uses them.
SYSROOT_PACKAGES = (
    "libc6",
    "libc6-dev",
    "linux-libc-dev",
    "libyajl2",
    "libyajl-dev",
    "libuuid1",
    "uuid-dev",
    "zlib1g",
    "zlib1g-dev",
    "libncurses6",
    "libtinfo6",
    "libncurses-dev",
    "libfdt1",
    "libfdt-dev",
)
#: What the built programs load at run time besides their own libraries: readelf's NEEDED,
#: libgcc_s (the C library loads it when xl's threads are cancelled: "libgcc_s.so.1 must be
#: installed for pthread_cancel to work", then abort) and libtinfo (bash's, which runs the
#: hotplug scripts).
RUNTIME_PACKAGES = ("libc6", "libyajl2", "libuuid1", "zlib1g", "libfdt1", "libgcc-s1", "libtinfo6")
#: The tools' directories built and installed, in dependency order.
SUBDIRS = ("include", "libs", "xs-clients", "xenstored", "console", "xl", "helpers", "hotplug")
#: Host programs the build runs (iasl: libxl's ACPI tables for arm64 guests).
HOST_TOOLS = ("make", "flex", "bison", "iasl", "pkg-config", f"{TRIPLET}-gcc")
STAMP = "toolstack.json"
LOG_NAME = "build.log"


def configure_args(release: str) -> list[str]:
    """./configure's options: arm64, Debian's layout (programs and helpers in
    /usr/lib/xen-RELEASE/bin, libraries in the multiarch directory), and everything the
    tests never run disabled (QEMU is taken as present, so it is not built)."""
    return [
        f"--host={TRIPLET}",
        "--prefix=/usr",
        f"--libdir=/usr/lib/{TRIPLET}",
        f"--sbindir=/usr/lib/xen-{release}/bin",
        f"--with-libexec-leaf-dir=xen-{release}",
        "--disable-xen",
        "--disable-stubdom",
        "--disable-docs",
        "--disable-ocamltools",
        "--disable-golang",
        "--disable-pygrub",
        "--disable-seabios",
        "--disable-xsmpolicy",
        "--disable-monitors",
        "--with-system-qemu=/usr/bin/qemu-system-aarch64",
    ]


def build(release: ReleaseSource, jobs: int = 2) -> xl_dom0.Toolstack:
    """The toolstack of ``release`` for a dom0 initramfs (guests/xl_dom0.py): the tools
    built once and kept, beside Debian's libraries they load."""
    missing = hosttools.missing_packages(HOST_TOOLS)
    if missing:
        raise UserError(
            f"building Xen {release.version}'s tools needs {' '.join(missing)}: "
            "run `dom0less setup --xen-build`"
        )
    root = cache_dir("xen-tools")
    final = root / f"{release.version}-{key(release)[:16]}"
    with cached.locked(root / f".{final.name}.lock"):
        if not (final / STAMP).is_file():
            _keep(final, release, jobs)
    return xl_dom0.Toolstack(release.version, RUNTIME_PACKAGES, debian.BOOKWORM, final / "tree")


def key(release: ReleaseSource) -> str:
    """SHA-256 naming one build: the source, the configuration, the sysroot's packages and
    the compiler."""
    compiler = hosttools.run([f"{TRIPLET}-gcc", "--version"], f"asking {TRIPLET}-gcc its version")
    identity = {
        "source": release.digest,
        "configure": configure_args(release.version),
        "subdirs": SUBDIRS,
        "sysroot": [debian.BOOKWORM.suite, *SYSROOT_PACKAGES],
        "compiler": compiler.splitlines()[0],
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _keep(final: Path, release: ReleaseSource, jobs: int) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    log = staging / LOG_NAME
    try:
        sysroot = staging / "sysroot"
        for package in SYSROOT_PACKAGES:
            shutil.copytree(
                debian_inputs.unpacked(package),
                sysroot,
                symlinks=True,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(".unpacked"),
            )
        _relative_links(sysroot)
        progress.step(f"copying Xen {release.version}'s source")
        source = staging / "src"
        shutil.copytree(release.root, source, symlinks=True)
        started = time.monotonic()
        _compile(source, sysroot, staging / "tree", release.version, jobs, log)
        seconds = time.monotonic() - started
    except UserError as error:
        failed = final.parent / f"{final.name}.failed.log"
        if not log.is_file():
            shutil.rmtree(staging, ignore_errors=True)
            raise
        os.replace(log, failed)
        shutil.rmtree(staging, ignore_errors=True)
        raise UserError(f"{error}: the whole log is {failed}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(sysroot)
    shutil.rmtree(source)
    stamp = {
        "release": release.version,
        "source_sha256": release.digest,
        "seconds": round(seconds, 1),
        "configure": configure_args(release.version),
    }
    (staging / STAMP).write_text(json.dumps(stamp, indent=1) + "\n")
    staging.chmod(0o755)
    os.rename(staging, final)


def _relative_links(sysroot: Path) -> None:
    """Absolute links (``libz.so -> /lib/...``) would name the host's files: point them
    into the sysroot."""
    for link in sysroot.rglob("*"):
        if link.is_symlink() and os.readlink(link).startswith("/"):
            target = sysroot / os.readlink(link).lstrip("/")
            link.unlink()
            link.symlink_to(os.path.relpath(target, link.parent))


def _compile(source: Path, sysroot: Path, dest: Path, release: str, jobs: int, log: Path) -> None:
    """configure, then make and install each of SUBDIRS, every line into ``log``."""
    env = dict(
        os.environ,
        CC=f"{TRIPLET}-gcc --sysroot={sysroot}",
        PKG_CONFIG_LIBDIR=f"{sysroot}/usr/lib/{TRIPLET}/pkgconfig:{sysroot}/usr/share/pkgconfig",
        PKG_CONFIG_SYSROOT_DIR=str(sysroot),
    )
    variables = [
        "XEN_TARGET_ARCH=arm64",
        f"CROSS_COMPILE={TRIPLET}-",
        f"CC={env['CC']}",
    ]
    steps = [["./configure", *configure_args(release)]]
    steps += [["make", f"-j{jobs}", "-C", f"tools/{d}", *variables] for d in SUBDIRS]
    steps += [
        ["make", "-C", f"tools/{d}", "install", f"DESTDIR={dest}", *variables] for d in SUBDIRS[1:]
    ]
    with log.open("w") as out:
        for argv in steps:
            progress.step(f"Xen {release} tools: {' '.join(argv[:4])}")
            out.write(f"$ {' '.join(argv)}\n")
            out.flush()
            done = subprocess.run(
                ["nice", "-n", "10", *argv],
                cwd=source,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            if done.returncode != 0:
                raise UserError(
                    f"building Xen {release}'s tools failed at `{' '.join(argv[:4])}`: "
                    f"{make.cause(log)}"
                )
