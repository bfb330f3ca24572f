"""Finding the machine's Debian mirror and suite for the private deb-src entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import debian

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def machine(tmp_path: Path, codename: str, files: dict[str, str]) -> debian.Archive:
    """The archive found on a fake machine with ``files`` under /etc/apt."""
    release = tmp_path / "os-release"
    release.write_text(f'NAME="Debian"\nVERSION_CODENAME={codename}\n')
    for name, text in files.items():
        path = tmp_path / "apt" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return debian.machine_archive(tmp_path / "apt", release)


def test_deb822_entry_for_the_suite(tmp_path: Path) -> None:
    archive = machine(tmp_path, "bookworm", {"sources.list.d/debian.sources": DEB822})
    assert archive == debian.Archive(
        "http://mirror.example/debian", "bookworm", "/usr/share/keyrings/debian-archive-keyring.gpg"
    )
    assert archive.entry() == (
        "deb-src [signed-by=/usr/share/keyrings/debian-archive-"
        "keyring.gpg] http://mirror.example/debian bookworm main\n"
    )


def test_one_line_entry_with_options(tmp_path: Path) -> None:
    line = "deb [arch=arm64 signed-by=/k.gpg] http://ftp.example/debian trixie main # x\n"
    archive = machine(tmp_path, "trixie", {"sources.list": "# comment\n" + line})
    assert archive == debian.Archive("http://ftp.example/debian", "trixie", "/k.gpg")
    assert archive.entry().startswith("deb-src [signed-by=/k.gpg] http://ftp.example")


def test_no_entry_or_no_codename_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no 'deb' entry for the suite sid"):
        machine(tmp_path, "sid", {"sources.list.d/debian.sources": DEB822})
    with pytest.raises(UserError, match="names no VERSION_CODENAME"):
        debian.machine_archive(tmp_path / "apt", tmp_path / "absent")


def test_a_line_with_unterminated_options_is_skipped(tmp_path: Path) -> None:
    broken = "deb [signed-by=/k.gpg http://bad.example/debian trixie main\n"
    good = "deb http://ftp.example/debian trixie main\n"
    archive = machine(tmp_path, "trixie", {"sources.list": broken + good})
    assert archive.uri == "http://ftp.example/debian"


def test_binary_entry_names_its_one_architecture() -> None:
    """Trixie's arm64 Xen 4.20 comes through a private 'deb [arch=arm64 ...]' line."""
    assert debian.TRIXIE.entry("deb", "arm64") == (
        "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
        "http://deb.debian.org/debian trixie main\n"
    )


def test_private_apt_leaves_the_host_sources_alone(tmp_path: Path) -> None:
    apt = debian._private_apt(tmp_path, debian.TRIXIE.entry("deb", "arm64"), "arm64")
    options = dict(a[2:].split("=", 1) for a in apt if a.startswith("-o"))
    assert options["Dir::Etc::SourceList"] == str(tmp_path / "sources.list")
    assert options["Dir::Etc::SourceParts"] == str(tmp_path / "parts")
    assert options["Dir::State::Lists"] == str(tmp_path / "lists")
    assert options["APT::Architectures::"] == "arm64"
    assert (tmp_path / "sources.list").read_text().startswith("deb [arch=arm64 ")
