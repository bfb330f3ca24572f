"""Signing FITs for U-Boot's verified boot, with the host's mkimage: boot.itb's
configuration, and the FIT script boot.scr's; and every image in both unless the
description's U-Boot verifies boot.scr's configuration (2023.04 on, facts.uboot).

Signed images: one RSA key goes by two names (Signing.key_name for configurations,
image_key_name for images), so U-Boot's control DTB gets a key required for
configurations (bootm checks boot.itb's) and one required for images (``source`` checks
the script's, as U-Boot before 2023.04 verifies no configuration when it runs a script).
A key required for images is required of boot.itb's too, so bootm hashes each image twice:
for its signature and for its hash node. Configurations only: the key is required for
configurations alone and bootm hashes each image once, for the hash node the signed
configuration covers.

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

import fdt

from ... import hosttools
from ..check.signing_key import tool
from ..facts import uboot
from ..model import Signing
from ..place.fit_room import DATA_ALIGN


class Signed(NamedTuple):
    fit: bytes
    #: U-Boot's control DTB with the public key under /signature; None if none was given
    uboot_dtb: Optional[bytes]


def algorithm(bits: int) -> str:
    """The FIT signature node's algo for a key of ``bits``."""
    return f"sha256,rsa{bits}"


def sign(
    fit: bytes, signing: Signing, epoch: int, control: bool = True, external: int = 0
) -> Signed:
    """``fit`` with its signature nodes filled in, and (``control``, when signing has a
    uboot_dtb) U-Boot's DTB with the keys required. With ``external``, the images' data
    is moved out of the structure to that offset on (mkimage -E -p, each image on a
    DATA_ALIGN boundary): without those options mkimage -F brings it back inside."""
    with tempfile.TemporaryDirectory(prefix="dom0less-sign-") as tmp:
        work = Path(tmp)
        keydir = work / "keys"
        keydir.mkdir(mode=0o700)
        name = signing.key_name
        os.symlink(signing.key, keydir / f"{name}.key")
        os.symlink(signing.key, keydir / f"{signing.image_key_name}.key")
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
        os.symlink(keydir / f"{name}.crt", keydir / f"{signing.image_key_name}.crt")
        image = work / "image.itb"
        image.write_bytes(fit)
        argv = [tool("mkimage"), "-F", "-k", str(keydir)]
        if external:
            argv += ["-E", "-p", f"0x{external:x}", "-B", f"0x{DATA_ALIGN:x}"]
        dtb = work / "u-boot.dtb"
        with_dtb = control and signing.uboot_dtb is not None
        if with_dtb:
            shutil.copyfile(signing.uboot_dtb, dtb)
            argv += ["-K", str(dtb), "-r"]
        env = {"PATH": os.environ.get("PATH", ""), "SOURCE_DATE_EPOCH": str(epoch)}
        hosttools.run([*argv, str(image)], "signing the FIT with mkimage", env=env)
        return Signed(image.read_bytes(), dtb.read_bytes() if with_dtb else None)


def signs_images(signing: Signing) -> bool:
    """Whether each image is signed too: unless the description's U-Boot verifies the
    script's configuration, only a key required for images protects boot.scr."""
    return not uboot.source_verifies_configuration(signing.uboot_version)


def signature(bits: int, key_name: str, *images: str) -> fdt.Node:
    """A signature-1 node for mkimage to fill in: of an image's data, or of a
    configuration and the ``images`` it names."""
    node = fdt.Node("signature-1")
    node.append(fdt.PropStrings("algo", algorithm(bits)))
    node.append(fdt.PropStrings("key-name-hint", key_name))
    if images:
        node.append(fdt.PropStrings("sign-images", *images))
    return node
