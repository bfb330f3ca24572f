"""Signing a FIT configuration for U-Boot's verified boot, with the host's mkimage.

mkimage (Debian's u-boot-tools, as oe-core's uboot-sign.bbclass uses it) computes the
regions U-Boot's verifier hashes and writes the public key the way U-Boot reads it; doing
that again in Python would be a second implementation of U-Boot's region rules to keep in
step with it. The unsigned FIT is ours (render.fit_image); mkimage only adds signatures.
The private key is read where it lies and never copied into the output.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple, Optional

from ... import hosttools
from ..check.signing_key import tool
from ..model import Signing


class Signed(NamedTuple):
    fit: bytes
    #: U-Boot's control DTB with the public key under /signature; None if none was given
    uboot_dtb: Optional[bytes]


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
                tool("openssl"),
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
        argv = [tool("mkimage"), "-F", "-k", str(keydir)]
        control = work / "u-boot.dtb"
        if signing.uboot_dtb is not None:
            shutil.copyfile(signing.uboot_dtb, control)
            argv += ["-K", str(control), "-r"]
        env = {"PATH": os.environ.get("PATH", ""), "SOURCE_DATE_EPOCH": str(epoch)}
        hosttools.run([*argv, str(image)], "signing the FIT with mkimage", env=env)
        return Signed(
            image.read_bytes(), control.read_bytes() if signing.uboot_dtb is not None else None
        )
