"""Signing a FIT configuration for U-Boot's verified boot, with the host's mkimage.

mkimage (Debian's u-boot-tools, as oe-core's uboot-sign.bbclass uses it) computes the
regions U-Boot's verifier hashes and writes the public key the way U-Boot reads it; doing
that again in Python would be a second implementation of U-Boot's region rules to keep in
step with it. The unsigned FIT is ours (render.fit_image); mkimage only adds signatures.
The private key is read where it lies and never copied into the output.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple, Optional, Union

from .. import files, hosttools
from ..errors import UserError
from .model import Signing

#: RSA sizes U-Boot's verifier implements (rsa2048, rsa4096; rsa3072 is newer than bookworm's).
KEY_BITS = (2048, 4096)
_BITS = re.compile(r"Private-Key: \((\d+) bit")
#: Characters of a device-tree node name (the devicetree spec), as key-NAME under /signature.
_KEY_NAME = re.compile(r"[A-Za-z0-9,._+-]+")


class Signed(NamedTuple):
    fit: bytes
    #: U-Boot's control DTB with the public key under /signature; None if none was given
    uboot_dtb: Optional[bytes]


def _tool(name: str) -> str:
    package = hosttools.PACKAGES[name]
    return hosttools.require(name, f"signing a FIT needs it: apt-get install {package}")


def key_bits(key: Path) -> Union[int, str]:
    """The size of the RSA private key in ``key``, or why it is not one U-Boot can use."""
    try:
        files.check_regular(key)
    except files.UnusableFile as error:
        return str(error)
    openssl = _tool("openssl")
    try:
        text = hosttools.run(
            [openssl, "rsa", "-in", str(key), "-noout", "-text", "-passin", "pass:"],
            "reading the key",
        )
    except UserError:  # openssl could not read it as an unencrypted RSA key
        return f"{key} is not an unencrypted PEM RSA private key (make one with `openssl genrsa`)"
    found = _BITS.search(text)
    bits = int(found[1]) if found else 0
    if bits not in KEY_BITS:
        return (
            f"{key} is a {bits}-bit RSA key; U-Boot verifies "
            f"{' or '.join(map(str, KEY_BITS))}-bit keys: make one with `openssl genrsa 4096`"
        )
    return bits


def key_name_problem(signing: Signing) -> Optional[str]:
    """Why the key's file name cannot be U-Boot's key-name-hint, or None: mkimage names the
    node ``/signature/key-NAME`` after it, so it must be a non-empty node name."""
    name = signing.key_name
    if _KEY_NAME.fullmatch(name):
        return None
    return (
        f"{signing.key} gives the key name {name!r} (the file name without .key), which "
        "cannot name U-Boot's /signature/key-NAME node: rename the file NAME.key, "
        "NAME of letters, digits and , . _ + -"
    )


def algorithm(bits: int) -> str:
    """The FIT signature node's algo for a key of ``bits``."""
    return f"sha256,rsa{bits}"


def sign(fit: bytes, signing: Signing, epoch: int) -> Signed:
    """``fit`` with its configuration signed, and U-Boot's DTB with the key required."""
    with tempfile.TemporaryDirectory(prefix="dom0less-sign-") as tmp:
        work = Path(tmp)
        keydir = work / "keys"
        keydir.mkdir(mode=0o700)
        name = signing.key_name
        os.symlink(signing.key, keydir / f"{name}.key")
        # mkimage reads the public key from a certificate next to the key.
        hosttools.run(
            [
                _tool("openssl"),
                "req",
                "-batch",
                "-new",
                "-x509",
                "-key",
                str(signing.key),
                "-subj",
                f"/CN={name}",
                "-days",
                "1",
                "-out",
                str(keydir / f"{name}.crt"),
            ],
            f"making a certificate for {signing.key}",
        )
        image = work / "boot.itb"
        image.write_bytes(fit)
        argv = [_tool("mkimage"), "-F", "-k", str(keydir)]
        control = work / "u-boot.dtb"
        if signing.uboot_dtb is not None:
            shutil.copyfile(signing.uboot_dtb, control)
            argv += ["-K", str(control), "-r"]
        env = {"PATH": os.environ.get("PATH", ""), "SOURCE_DATE_EPOCH": str(epoch)}
        hosttools.run([*argv, str(image)], "signing the FIT with mkimage", env=env)
        return Signed(
            image.read_bytes(), control.read_bytes() if signing.uboot_dtb is not None else None
        )
