"""Finding a Xen release's source: the shared tarballs (checked), a variable, a download."""

from __future__ import annotations

import functools
import hashlib
import http.server
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import release, source


def tarball(directory: Path, name: str, minor: int) -> Path:
    """A tarball of a tree whose xen/Makefile says Xen 4.<minor>, named ``name``."""
    top = directory / "tree" / name
    (top / "xen").mkdir(parents=True)
    (top / "xen" / "Makefile").write_text(
        f"export XEN_VERSION       = 4\nexport XEN_SUBVERSION    = {minor}\n"
    )
    (top / "xen" / "Kconfig").write_text("")
    path = directory / f"{name}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(top, arcname=name)
    return path


def shared(tmp_path: Path, *tarballs: Path, sums: dict[str, str] | None = None) -> Path:
    """A folder of tarballs with a SHA256SUMS listing them (or ``sums`` instead)."""
    folder = tmp_path / "shared"
    folder.mkdir()
    listed = {}
    for path in tarballs:
        listed[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        path.rename(folder / path.name)
    listed.update(sums or {})
    (folder / "SHA256SUMS").write_text("".join(f"{s}  {n}\n" for n, s in listed.items()))
    return folder


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOM0LESS_CACHE", str(tmp_path / "cache"))


def test_the_shared_tarball_is_taken_when_its_sum_matches(tmp_path: Path) -> None:
    given = tarball(tmp_path, "xen-4.22.0", 22)
    digest = hashlib.sha256(given.read_bytes()).hexdigest()
    folder = shared(tmp_path, given, tarball(tmp_path, "xen-4.20.4", 20))
    found = release.locate("4.22", folder, environ={})
    assert (found.version, found.origin, found.digest) == (
        "4.22",
        folder / "xen-4.22.0.tar.gz",
        digest,
    )
    assert (found.root / "xen" / "Makefile").is_file()


def test_a_damaged_shared_tarball_is_one_line_with_both_sums(tmp_path: Path) -> None:
    folder = shared(tmp_path, tarball(tmp_path, "xen-4.22.0", 22))
    damaged = folder / "xen-4.22.0.tar.gz"
    expected = hashlib.sha256(damaged.read_bytes()).hexdigest()
    damaged.write_bytes(damaged.read_bytes()[:-1])
    found = hashlib.sha256(damaged.read_bytes()).hexdigest()
    with pytest.raises(UserError) as raised:
        release.locate("4.22", folder, environ={})
    assert raised.value.lines == [
        f"{damaged}: SHA-256 {found} but {folder / 'SHA256SUMS'} says {expected}: "
        "the tarball is damaged or another file; copy it again"
    ]


def test_a_listed_tarball_that_is_missing_is_named(tmp_path: Path) -> None:
    folder = shared(tmp_path, sums={"xen-4.22.0.tar.xz": "00" * 32})
    with pytest.raises(UserError, match=r"4\.22\.0\.tar\.xz: listed in .*SHA256SUMS but missing"):
        release.locate("4.22", folder, environ={})


def test_a_tree_of_another_release_is_refused_with_both_versions(tmp_path: Path) -> None:
    folder = shared(tmp_path, tarball(tmp_path, "xen-4.20.4", 20))
    wrong = tmp_path / "xen-4.22.0.tar.gz"
    (folder / "xen-4.20.4.tar.gz").rename(wrong)
    with pytest.raises(UserError) as raised:
        release.locate("4.22", folder, environ={"DOM0LESS_XEN_SOURCE_4_22": str(wrong)})
    assert raised.value.lines == [
        f"{wrong}: the source is Xen 4.20 (xen/Makefile) but Xen 4.22 is wanted: "
        "give a Xen 4.22 release tree"
    ]
    mislabelled = shared(tmp_path / "b", tarball(tmp_path / "b", "xen-4.22.0", 20))
    with pytest.raises(UserError, match=r"xen-4\.22\.0\.tar\.gz: the source is Xen 4\.20"):
        release.locate("4.22", mislabelled, environ={})


def test_the_variable_names_a_tree_or_tarball_when_the_folder_lists_none(tmp_path: Path) -> None:
    folder = shared(tmp_path, tarball(tmp_path, "xen-4.20.4", 20))
    given = tarball(tmp_path, "xen-4.22.0", 22)
    environ = {release.variable("4.22"): str(given)}
    assert release.variable("4.22") == "DOM0LESS_XEN_SOURCE_4_22"
    found = release.locate("4.22", folder, environ=environ)
    assert found.origin == given and found.digest == source.sha256_file(given)
    tree = found.root
    by_tree = release.locate("4.22", None, environ={release.variable("4.22"): str(tree)})
    assert by_tree.root == tree and by_tree.digest == release.tree_digest(tree)
    with pytest.raises(UserError) as raised:
        release.locate("4.22", None, environ={release.variable("4.22"): str(tmp_path / "no")})
    assert raised.value.lines == [
        f"DOM0LESS_XEN_SOURCE_4_22={tmp_path / 'no'} does not exist: name a Xen 4.22 "
        "source tree or tarball"
    ]


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on localhost serving a directory: (URL pattern, directory)."""
    served = tmp_path / "web"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{{release}}/xen-{{release}}.tar.gz", served
    finally:
        server.shutdown()
        server.server_close()


def test_without_a_local_source_the_release_tarball_is_downloaded_once(
    tmp_path: Path, web: tuple[str, Path]
) -> None:
    pattern, served = web
    (served / "4.22.0").mkdir()
    tarball(tmp_path, "xen-4.22.0", 22).rename(served / "4.22.0" / "xen-4.22.0.tar.gz")
    first = release.locate("4.22", tmp_path / "absent", environ={}, download_url=pattern)
    assert first.origin == tmp_path / "cache" / "xen-src" / "downloads" / "xen-4.22.0.tar.gz"
    (served / "4.22.0" / "xen-4.22.0.tar.gz").unlink()
    again = release.locate("4.22", None, environ={}, download_url=pattern)
    assert again == first
    with pytest.raises(UserError) as raised:
        release.locate("4.20", None, environ={}, download_url=pattern)
    url = pattern.format(release="4.20.4")
    assert raised.value.lines == [
        f"downloading {url} failed (HTTP 404 File not found): set "
        "DOM0LESS_XEN_SOURCE_4_20 to a Xen 4.20 source tree or tarball"
    ]
    assert not list((tmp_path / "cache" / "xen-src" / "downloads").glob(".*"))
    with pytest.raises(UserError, match="none known to download: set DOM0LESS_XEN_SOURCE_4_18"):
        release.locate("4.18", None, environ={}, download_url=pattern)
