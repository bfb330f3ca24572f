"""Our U-Boot environment encoder must match U-Boot's own mkenvimage byte for byte."""

from __future__ import annotations

import subprocess

import pytest
from xen_dom0less_harness import envimage, tools

VARIABLES = {
    "bootdelay": "0",
    "bootcmd": "virtio scan; load virtio 0:1 0x40200000 boot.scr; source 0x40200000",
    "empty": "",
}


def test_matches_mkenvimage(tmp_path):
    text = tmp_path / "env.txt"
    text.write_text("".join(f"{k}={v}\n" for k, v in VARIABLES.items()))
    theirs = tmp_path / "env.bin"
    subprocess.run(
        [tools.tool("mkenvimage"), "-s", hex(envimage.ENV_SIZE), "-o", str(theirs), str(text)],
        check=True,
    )
    assert envimage.encode(VARIABLES) == theirs.read_bytes()


def test_pflash_is_padded_to_bank_size(tmp_path):
    path = envimage.write_pflash(VARIABLES, tmp_path / "flash.img")
    assert path.stat().st_size == envimage.PFLASH_SIZE
    assert path.read_bytes()[: envimage.ENV_SIZE] == envimage.encode(VARIABLES)


def test_refuses_oversized_environment():
    with pytest.raises(ValueError, match="more than"):
        envimage.encode({"big": "x" * envimage.ENV_SIZE})
