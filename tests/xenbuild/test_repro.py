"""The environment that makes Xen's build reproducible."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.xenbuild import repro


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "xen").mkdir()
    (tmp_path / "xen" / "Makefile").write_text("")
    os.utime(tmp_path / "xen" / "Makefile", (1_600_000_000, 1_600_000_000))
    return tmp_path


def test_stamps_follow_source_date_epoch(root: Path) -> None:
    env = repro.environment(root, Path("/b"), {"SOURCE_DATE_EPOCH": "1700000000"})
    assert env["XEN_BUILD_DATE"] == "Tue Nov 14 22:13:20 UTC 2023"
    assert env["XEN_BUILD_TIME"] == "22:13:20"
    assert {env[k] for k in ("XEN_WHOAMI", "XEN_DOMAIN", "XEN_BUILD_HOST")} <= {
        *repro.IDENTITY.values()
    }
    assert env["EXTRA_CFLAGS_XEN_CORE"] == (f"-ffile-prefix-map={root}/= -ffile-prefix-map=/b=.")


def test_default_epoch_is_the_source_date_and_caller_values_win(root: Path) -> None:
    env = repro.environment(root, Path("/b"), {"XEN_WHOAMI": "me", "EXTRA_CFLAGS_XEN_CORE": "-O1"})
    assert env["SOURCE_DATE_EPOCH"] == "1600000000"
    assert env["XEN_WHOAMI"] == "me"
    assert env["EXTRA_CFLAGS_XEN_CORE"].startswith("-O1 -ffile-prefix-map=")


def test_bad_epoch_is_refused(root: Path) -> None:
    with pytest.raises(UserError, match="SOURCE_DATE_EPOCH='yesterday' is not a number"):
        repro.environment(root, Path("/b"), {"SOURCE_DATE_EPOCH": "yesterday"})
