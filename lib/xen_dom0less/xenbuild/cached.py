"""One hypervisor per source and Kconfig: built once, kept in the cache, reused after.

The key is the source's SHA-256, the settings asked of Kconfig, the target and
the compiler. A build runs in a hidden staging directory that is renamed into
place only when every product is there, so a failed or interrupted build never
lands in the cache. Processes building the same key take turns (a lock file);
the later ones reuse the first one's result.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from .. import cache, hosttools
from ..errors import Checks, UserError
from . import hypervisor, toolchain, wishes
from .make import Progress
from .release import ReleaseSource

STAMP = "build.json"


def build_release(
    release: ReleaseSource,
    fragments: Sequence[Path] = (),
    *,
    arch: str = "arm64",
    cross_compile: Optional[str] = None,
    description: Optional[Path] = None,
    environ: Optional[Mapping[str, str]] = None,
    jobs: Optional[int] = None,
    progress: Optional[Progress] = None,
) -> hypervisor.BuildResult:
    """The cached build of ``release`` with ``fragments`` (and ``description``'s needs)."""
    environ = dict(os.environ if environ is None else environ)
    target = toolchain.target(arch)
    cross = target.cross_compile if cross_compile is None else cross_compile
    checks = Checks()  # missing tools and bad settings named together
    checks.run(toolchain.check_tools, target, cross, environ)
    wanted = checks.run(hypervisor.settings, release.version, description, fragments, environ)
    checks.raise_if_any()
    assert wanted is not None  # raised otherwise
    root = cache.cache_dir("xen-builds")
    final = root / f"{release.version}-{key(release, wanted, arch, cross, environ)[:16]}"

    def build(staging: Path) -> hypervisor.BuildResult:
        return hypervisor.build_hypervisor(
            release.root,
            staging,
            arch=arch,
            cross_compile=cross,
            description=description,
            fragments=fragments,
            jobs=jobs,
            environ=environ,
            progress=progress,
        )

    with locked(root / f".{final.name}.lock"):
        if not (final / STAMP).is_file():
            _keep(final, release, build)
    return load(final)


def key(
    release: ReleaseSource,
    wanted: Mapping[str, wishes.Wish],
    arch: str,
    cross: str,
    environ: Mapping[str, str],
) -> str:
    """SHA-256 naming one build: what goes into the binary and nothing else."""
    compiler = hosttools.run([f"{cross}gcc", "--version"], f"asking {cross}gcc its version")
    identity = {
        "source": release.digest,
        "kconfig": {option: wish.value for option, wish in sorted(wanted.items())},
        "arch": arch,
        "compiler": compiler.splitlines()[0] if compiler else "",
        "epoch": environ.get("SOURCE_DATE_EPOCH"),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _keep(
    final: Path, release: ReleaseSource, build: Callable[[Path], hypervisor.BuildResult]
) -> None:
    """Run ``build`` in a staging directory and rename it to ``final`` once complete."""
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        result = build(staging)
    except UserError as error:
        log, kept = staging / hypervisor.LOG_NAME, final.parent / f"{final.name}.failed.log"
        if not log.is_file():
            shutil.rmtree(staging)
            raise
        os.replace(log, kept)
        shutil.rmtree(staging)
        error.problems = tuple(
            p._replace(message=p.message.replace(str(log), str(kept))) for p in error.problems
        )
        raise error from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging / "build")
    stamp = {
        "version": result.version,
        "origin": str(release.origin),
        "source_sha256": release.digest,
        "seconds": round(result.seconds, 1),
        "settings": {o: [w.value, w.why] for o, w in result.settings.items()},
    }
    (staging / STAMP).write_text(json.dumps(stamp, indent=1) + "\n")
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the build from other users
    if final.exists():  # a copy from an older layout, without its stamp
        shutil.rmtree(final)
    os.rename(staging, final)


def load(directory: Path) -> hypervisor.BuildResult:
    """The BuildResult of a finished build kept in ``directory``."""
    stamp = json.loads((directory / STAMP).read_text())
    efi = directory / "xen.efi"
    return hypervisor.BuildResult(
        outdir=directory,
        xen=directory / "xen",
        xen_syms=directory / "xen-syms",
        xen_efi=efi if efi.is_symlink() or efi.exists() else None,
        config=directory / hypervisor.CONFIG_NAME,
        fragment=directory / hypervisor.FRAGMENT_NAME,
        log=directory / hypervisor.LOG_NAME,
        version=stamp["version"],
        settings={o: wishes.Wish(v, why) for o, (v, why) in stamp["settings"].items()},
        seconds=stamp["seconds"],
    )


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold ``path``'s lock: processes building one key take turns."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
