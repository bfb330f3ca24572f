"""A U-Boot environment image for QEMU's second pflash bank.

U-Boot's qemu_arm64 build reads its environment from flash; handing it one
with ``bootdelay=0`` and our ``bootcmd`` replaces the default environment, so
nothing waits for a keyboard and nothing probes boot devices we don't use.
"""

from __future__ import annotations

import zlib
from pathlib import Path

#: CONFIG_ENV_SIZE of Debian's qemu_arm64 U-Boot.
ENV_SIZE = 0x40000
#: QEMU's virt machine wants every pflash bank to be exactly 64 MiB.
PFLASH_SIZE = 64 << 20
ERASED = 0xFF


def encode(variables: dict[str, str], size: int = ENV_SIZE) -> bytes:
    """The environment as U-Boot stores it: CRC32, then ``name=value`` NUL-separated, padded."""
    data = b"".join(f"{name}={value}".encode() + b"\0" for name, value in variables.items())
    data += b"\0"
    room = size - 4
    if len(data) > room:
        raise ValueError(f"environment needs {len(data)} bytes, more than the {room} available")
    data += bytes([ERASED]) * (room - len(data))
    return zlib.crc32(data).to_bytes(4, "little") + data


def write_pflash(variables: dict[str, str], path: Path) -> Path:
    """Write the environment at the start of a 64 MiB flash image (sparse beyond it)."""
    with path.open("wb") as out:
        out.write(encode(variables))
        out.truncate(PFLASH_SIZE)
    return path
