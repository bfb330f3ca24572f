"""Build only the Xen hypervisor: the one entry point for the CLI and the Yocto recipe.

Takes paths in and gives paths out, reports progress through a callback
(logging by default) and raises UserError for anything the caller can fix.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .. import outputs
from ..errors import BuildError, Checks, DescriptionError, Problem
from ..generator.facts import kconfig, xen_versions
from ..generator.read import description as description_loader
from . import repro, source, toolchain, wishes
from .configure import check, configure, sync
from .make import Make, Progress

_log = logging.getLogger(__name__)

#: Build products copied to the output directory; the first two must exist.
PRODUCTS = ("xen", "xen-syms", "xen.efi")
CONFIG_NAME = ".config"
FRAGMENT_NAME = outputs.KCONFIG_FRAGMENT  # the name the generator gives it too
LOG_NAME = "build.log"


@dataclass(frozen=True)
class BuildResult:
    """Where the products of one build are, and what was asked of Kconfig."""

    outdir: Path
    xen: Path
    xen_syms: Path
    xen_efi: Optional[Path]
    config: Path
    fragment: Path
    log: Path
    version: str
    settings: dict[str, wishes.Wish]
    seconds: float


def build_hypervisor(
    source_path: Path,
    outdir: Path,
    *,
    arch: str = "arm64",
    cross_compile: Optional[str] = None,
    description: Optional[Path] = None,
    fragments: Sequence[Path] = (),
    jobs: Optional[int] = None,
    build_dir: Optional[Path] = None,
    environ: Optional[Mapping[str, str]] = None,
    progress: Optional[Progress] = None,
    configured: bool = False,
) -> BuildResult:
    """Configure and build ``xen`` from ``source_path`` (tree or tarball) into ``outdir``.

    ``cross_compile`` defaults to the usual Debian prefix for ``arch``;
    ``build_dir`` (reused for incremental builds) defaults to ``outdir/build``.
    ``configured``: build with the ``.config`` already in ``build_dir`` (written by
    Yocto's do_configure, changed by menuconfig), checked to hold what was asked for.
    """
    started = time.monotonic()
    environ = dict(os.environ if environ is None else environ)
    target = toolchain.target(arch)
    cross = target.cross_compile if cross_compile is None else cross_compile
    checks = Checks()  # every problem of the tools, the source and the settings at once
    checks.run(toolchain.check_tools, target, cross, environ)
    root, version, wanted = _asked(source_path, description, fragments, environ, checks)
    checks.run(_not_configured_in_place, root)
    checks.raise_if_any()
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    build = Path(build_dir or outdir / "build").resolve()
    build.mkdir(parents=True, exist_ok=True)
    log = outdir / LOG_NAME
    log.write_text("")
    make = Make(
        root / "xen",
        build,
        target.arch,
        cross,
        {**environ, **repro.environment(root, build, environ)},
        log,
        progress or _log.info,
    )
    if configured:
        check(make.xen_dir, build / CONFIG_NAME, wanted, target.srcarch, version)
        sync(make)
    else:
        configure(make, wanted, target.srcarch, version)
    make(jobs=jobs or default_jobs())
    copied = _collect(build, outdir)
    fragment = outdir / FRAGMENT_NAME
    fragment.write_text(wishes.fragment(wanted))
    return BuildResult(
        outdir=outdir,
        xen=copied["xen"],
        xen_syms=copied["xen-syms"],
        xen_efi=copied.get("xen.efi"),
        config=copied[CONFIG_NAME],
        fragment=fragment,
        log=log,
        version=version,
        settings=wanted,
        seconds=time.monotonic() - started,
    )


def description_fragment(
    source_path: Path, description: Path, environ: Optional[Mapping[str, str]] = None
) -> str:
    """The Kconfig fragment ``description`` needs from this Xen source, each line with its reason.

    For Kconfig's merge_config.sh, with the fragments of a Yocto recipe and its BSP.
    """
    checks = Checks()
    _, _, wanted = _asked(
        source_path, description, (), os.environ if environ is None else environ, checks
    )
    checks.raise_if_any()
    return wishes.fragment(wanted)


def check_config(
    source_path: Path,
    config: Path,
    *,
    arch: str = "arm64",
    description: Optional[Path] = None,
    fragments: Sequence[Path] = (),
    environ: Optional[Mapping[str, str]] = None,
) -> None:
    """Refuse a resolved ``config`` without a setting the description or a fragment asks for."""
    checks = Checks()
    root, version, wanted = _asked(
        source_path, description, fragments, os.environ if environ is None else environ, checks
    )
    checks.raise_if_any()
    check(root / "xen", Path(config), wanted, toolchain.target(arch).srcarch, version)


def _asked(
    source_path: Path,
    description: Optional[Path],
    fragments: Sequence[Path],
    environ: Mapping[str, str],
    checks: Checks,
) -> tuple[Path, str, dict[str, wishes.Wish]]:
    """The source's root and version and the settings asked of it; what is wrong with any of
    them goes to ``checks`` (the values are placeholders then: raise_if_any before use)."""
    root = checks.run(source.resolve, Path(source_path))
    version = checks.run(source.version, root) if root is not None else None
    wanted = checks.run(settings, version, description, fragments, environ)
    return root or Path(source_path), version or "", wanted or {}


def _not_configured_in_place(root: Path) -> None:
    """An out-of-tree build refuses a source tree that has its own configuration (a ``root``
    that is no source tree has none: that problem is named already)."""
    if (root / "xen" / ".config").exists():
        raise BuildError(
            f"{root}/xen has been configured in place (xen/.config exists): run "
            f"'make -C {root}/xen distclean' or give a clean copy of the source"
        )


def default_jobs() -> int:
    """One job per CPU this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def settings(
    version: Optional[str],
    description: Optional[Path],
    fragments: Sequence[Path],
    environ: Mapping[str, str],
) -> dict[str, wishes.Wish]:
    """The Kconfig settings a build of Xen ``version`` asks for, each with its reason.

    ``version`` None (the source was refused) still checks the description and fragments,
    all but the description's xen.version against the source's."""
    return wishes.collect(_needed(description, version, environ), fragments)


def _needed(
    description: Optional[Path], version: Optional[str], environ: Mapping[str, str]
) -> dict[str, str]:
    """Options the description's features need, after checking it targets this Xen."""
    if description is None:
        return {}
    system = description_loader.load(Path(description), environ)
    wanted = xen_versions.parse_version(system.xen.version)
    if version is not None and wanted != xen_versions.parse_version(version):
        raise DescriptionError(
            Problem(
                f"xen.version is {system.xen.version} but the source is Xen {version}: build "
                "the matching source or fix xen.version",
                str(description),
            )
        )
    return kconfig.required(system)


def _collect(build: Path, outdir: Path) -> dict[str, Path]:
    """Copy the products (a symlink stays a symlink) and ``.config``; drop stale ones."""
    copied: dict[str, Path] = {}
    for name in (*PRODUCTS, CONFIG_NAME):
        built, kept = build / name, outdir / name
        if kept.is_symlink() or kept.exists():
            kept.unlink()
        if built.is_symlink() or built.exists():
            shutil.copy2(built, kept, follow_symlinks=False)
            copied[name] = kept
    return copied
