"""Xen from Debian: its source package for builds, its binaries for the boot harness.

apt runs with a private configuration in the cache (one entry for the machine's
own suite and mirror, or for trixie, the suite with Xen 4.20), so nothing under
/etc changes and no root is needed. The tree is extracted once and reused by
later runs; delete the cache directory to fetch a newer upload.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from .. import cache, hosttools
from ..errors import UserError

APT_DIR = Path("/etc/apt")
OS_RELEASE = Path("/etc/os-release")


@dataclass(frozen=True)
class Archive:
    """A Debian mirror and suite, and the keyring apt checks it with."""

    uri: str
    suite: str
    signed_by: Optional[str] = None

    def entry(self, kind: str = "deb-src", architecture: Optional[str] = None) -> str:
        """One sources.list line of ``kind`` (deb or deb-src) for this suite."""
        options = [f"arch={architecture}"] if architecture else []
        options += [f"signed-by={self.signed_by}"] if self.signed_by else []
        bracket = f"[{' '.join(options)}] " if options else ""
        return f"{kind} {bracket}{self.uri} {self.suite} main\n"


#: Debian's archive keyring (the debian-archive-keyring package), which checks both suites.
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")

#: Debian 13, whose xen packages are Xen 4.20 (bookworm's are 4.17); reached through
#: Debian's own mirror and keyring whatever the host runs.
TRIXIE = Archive("http://deb.debian.org/debian", "trixie", str(KEYRING))

#: Debian 12: the boot harness's Xen 4.17, Linux and busybox, the same whatever the host runs.
BOOKWORM = Archive("http://deb.debian.org/debian", "bookworm", str(KEYRING))


#: Programs fetching a source package runs.
FETCH_TOOLS = ("apt-get", "dpkg-source")
MIRROR_HINT = "check that the Debian mirror is reachable"


def fetch(package: str = "xen", archive: Optional[Archive] = None) -> Path:
    """The extracted source tree of ``package`` in ``archive`` (default: the machine's suite)."""
    archive = archive or machine_archive()
    root = cache.cache_dir("xen-src")
    target = root / f"debian-{archive.suite}-{package}"
    if target.is_dir():
        return target
    for tool in FETCH_TOOLS:
        hosttools.require(tool, f"install the Debian package {hosttools.PACKAGES[tool]}")
    apt = _updated_apt(root / _state_name("apt", archive), archive.entry("deb-src"), archive)
    staging = Path(tempfile.mkdtemp(prefix="debian-", dir=root))
    try:
        hosttools.run(
            [*apt, "source", "--download-only", f"{package}/{archive.suite}"],
            f"apt-get source {package}",
            staging,
            MIRROR_HINT,
        )
        dsc = next(staging.glob("*.dsc"))
        hosttools.run(
            ["dpkg-source", "-x", dsc.name, "tree"], f"dpkg-source -x {dsc.name}", staging
        )
        (staging / "tree").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def download(
    package: str,
    archive: Archive,
    into: Path,
    architecture: str = "arm64",
    percent: Optional[Callable[[float], None]] = None,
) -> None:
    """``apt-get download`` one binary package of ``archive`` into ``into``; ``percent`` is
    told how much of it apt has fetched, from apt's own status lines, as they come."""
    hosttools.require("apt-get", f"install the Debian package {hosttools.PACKAGES['apt-get']}")
    state = cache.cache_dir("xen-src") / _state_name(f"apt-{architecture}", archive)
    apt = _updated_apt(state, archive.entry("deb", architecture), archive, architecture)
    if percent is None:
        on_line = None
    else:
        apt.append("-oAPT::Status-Fd=1")  # 'dlstatus:ITEM:PERCENT:TEXT' lines on stdout

        def on_line(line: str) -> None:
            kind, _, rest = line.partition(":")
            if kind == "dlstatus":
                percent(float(rest.split(":")[1]))

    hosttools.run(
        [*apt, "download", package],
        f"apt-get download {package}",
        into,
        MIRROR_HINT,
        on_line=on_line,
    )


def _state_name(prefix: str, archive: Archive) -> str:
    """The machine's own suite keeps the directory name it always had."""
    return prefix if archive.suite == _codename_or_none() else f"{prefix}-{archive.suite}"


def _codename_or_none() -> Optional[str]:
    try:
        return _codename(OS_RELEASE)
    except UserError:
        return None


def _updated_apt(
    state: Path, sources: str, archive: Archive, architecture: Optional[str] = None
) -> list[str]:
    apt = _private_apt(state, sources, architecture)
    hosttools.run(
        [*apt, "update"], f"apt-get update for {archive.uri} {archive.suite}", state, MIRROR_HINT
    )
    return apt


def machine_archive(apt_dir: Path = APT_DIR, os_release: Path = OS_RELEASE) -> Archive:
    """The mirror this machine installs its ``suite`` packages from."""
    suite = _codename(os_release)
    for entry in _entries(apt_dir):
        if "deb" in entry.get("Types", ()) and suite in entry.get("Suites", ()):
            signed = entry.get("Signed-By")
            return Archive(entry["URIs"][0], suite, signed[0] if signed else None)
    raise UserError(
        f"no 'deb' entry for the suite {suite} in {apt_dir}: add one, e.g. "
        f"'deb http://deb.debian.org/debian {suite} main' to sources.list"
    )


def _codename(os_release: Path) -> str:
    if os_release.is_file():
        for line in os_release.read_text().splitlines():
            key, _, value = line.partition("=")
            if key == "VERSION_CODENAME" and value.strip('"'):
                return value.strip('"')
    raise UserError(
        f"{os_release} names no VERSION_CODENAME: fetching Debian's source "
        "package needs a Debian machine; give --source instead"
    )


def _entries(apt_dir: Path) -> list[dict[str, list[str]]]:
    """Every source entry, deb822 (``*.sources``) and one-line (``*.list``) alike."""
    entries: list[dict[str, list[str]]] = []
    for path in sorted(apt_dir.glob("sources.list.d/*.sources")):
        entries += _deb822(path.read_text())
    for path in [apt_dir / "sources.list", *sorted(apt_dir.glob("sources.list.d/*.list"))]:
        if path.is_file():
            entries += [e for e in map(_one_line, path.read_text().splitlines()) if e]
    return entries


def _deb822(text: str) -> list[dict[str, list[str]]]:
    entries: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] = {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if current:
                entries.append(current)
            current = {}
        elif not line.startswith("#") and ":" in line and not line[0].isspace():
            key, _, value = line.partition(":")
            current[key.strip()] = value.split()
    return entries


def _one_line(line: str) -> Optional[dict[str, list[str]]]:
    words = line.split("#", 1)[0].split()
    options: dict[str, list[str]] = {}
    if len(words) > 1 and words[1].startswith("["):
        end = next((i for i, w in enumerate(words) if w.endswith("]")), None)
        if end is None:
            return None  # an unterminated [options]: apt refuses the line too
        for option in " ".join(words[1 : end + 1]).strip("[]").split():
            key, _, value = option.partition("=")
            options[key.title()] = value.split(",")
        words = [words[0], *words[end + 1 :]]
    if len(words) < 3:
        return None
    return {"Types": [words[0]], "URIs": [words[1]], "Suites": [words[2]], **options}


def _private_apt(state: Path, sources: str, architecture: Optional[str] = None) -> list[str]:
    """apt-get with its own sources, lists and cache under ``state``.

    With ``architecture``, that is the only one apt knows, so a foreign
    package is fetched without the host's dpkg knowing the architecture.
    """
    (state / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (state / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (state / "parts").mkdir(exist_ok=True)
    (state / "sources.list").write_text(sources)
    settings: dict[str, object] = {
        "Dir::Etc::SourceList": state / "sources.list",
        "Dir::Etc::SourceParts": state / "parts",
        "Dir::State::Lists": state / "lists",
        "Dir::Cache": state / "cache",
        "APT::Sandbox::User": "root",
    }
    if architecture:
        settings["APT::Architecture"] = architecture
        settings["APT::Architectures::"] = architecture
    return ["apt-get", "-q", *(f"-o{key}={value}" for key, value in settings.items())]
