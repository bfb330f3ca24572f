"""The key that signs a FIT for U-Boot's verified boot, checked before anything is planned.

openssl reads it as U-Boot's mkimage will (render.signing); a key U-Boot cannot verify with,
or whose file name cannot name its node under /signature, is refused with the fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional, Union

from ... import files, hosttools
from ...errors import UserError
from ..model import Signing

#: RSA sizes U-Boot's verifier implements (rsa2048, rsa4096; rsa3072 is newer than bookworm's).
KEY_BITS = (2048, 4096)
_BITS = re.compile(r"Private-Key: \((\d+) bit")
#: Characters of a device-tree node name (the devicetree spec), as key-NAME under /signature.
_KEY_NAME = re.compile(r"[A-Za-z0-9,._+-]+")


def tool(name: str) -> str:
    """The host tool's path, or a UserError naming the Debian package that has it."""
    package = hosttools.PACKAGES[name]
    return hosttools.require(name, f"signing a FIT needs it: apt-get install {package}")


def key_bits(key: Path) -> Union[int, str]:
    """The size of the RSA private key in ``key``, or why it is not one U-Boot can use."""
    try:
        files.check_regular(key)
    except files.UnusableFile as error:
        return str(error)
    openssl = tool("openssl")
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
