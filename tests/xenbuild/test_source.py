"""Finding the Xen tree in a directory or tarball, and its version."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import source

MAKEFILE = "export XEN_VERSION       = 4\nexport XEN_SUBVERSION    = 17\n"


def fake_tree(root: Path) -> Path:
    (root / "xen").mkdir(parents=True)
    (root / "xen" / "Makefile").write_text(MAKEFILE)
    (root / "xen" / "Kconfig").write_text("")
    return root


def test_tree_from_its_top_its_xen_dir_or_the_one_directory_inside(tmp_path: Path) -> None:
    top = fake_tree(tmp_path / "unpacked" / "xen-4.17.5")
    for given in (top, top / "xen", tmp_path / "unpacked"):
        assert source.resolve(given) == top.resolve()
    assert source.version(top) == "4.17"


def test_not_a_tree_or_absent(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(UserError, match="is not a Xen source tree"):
        source.resolve(tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        source.resolve(tmp_path / "absent")


def test_tarball_is_extracted_once_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOM0LESS_CACHE", str(tmp_path / "cache"))
    top = fake_tree(tmp_path / "xen-4.17.5")
    tarball = tmp_path / "xen-4.17.5.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(top, arcname=top.name)
    first = source.resolve(tarball)
    assert first.parent.parent == tmp_path / "cache" / "xen-src"
    (first / "marker").write_text("kept")
    assert source.resolve(tarball) == first
    assert (first / "marker").exists()


def test_unreadable_tarball_and_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOM0LESS_CACHE", str(tmp_path / "cache"))
    junk = tmp_path / "junk.tar.xz"
    junk.write_bytes(b"not a tarball")
    with pytest.raises(UserError, match=r"extracting .*junk\.tar\.xz failed .*give a Xen source"):
        source.resolve(junk)
    top = fake_tree(tmp_path / "odd")
    (top / "xen" / "Makefile").write_text("export XEN_VERSION = 4\n")
    with pytest.raises(UserError, match="does not state XEN_VERSION and XEN_SUBVERSION"):
        source.version(top)
