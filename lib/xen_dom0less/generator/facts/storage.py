"""How fast U-Boot reads a board's boot storage, and what a boot costs besides reading.

On a board U-Boot reads every file the boot script names before Xen starts,
so the storage's read rate sets when the first domain can run. Each class is
a sustained rate U-Boot reaches (bytes per second), with where it comes from;
a user who measured their own (``dom0less timeline`` prints U-Boot's rate from
a capture) gives it as a rate instead.
"""

from __future__ import annotations

import re
from typing import NamedTuple

MB = 1_000_000


class Storage(NamedTuple):
    name: str
    rate: float  # bytes per second
    source: str  # what the figure is and where it comes from


#: What U-Boot reached reading a large file from an SD card in High Speed mode, as a share
#: of that mode's bus rate (18.4 MB/s of 25 MB/s); the derived classes assume the same.
BUS_SHARE = 0.74
STORAGE = {
    "sd": Storage(
        "sd",
        18.4 * MB,
        "SD card in High Speed mode (4 bits at 50 MHz: 25 MB/s on the bus), the mode U-Boot "
        "runs a card in unless the board enables UHS-I; measured: a Zynq ZC706's U-Boot read "
        "a 60183094-byte image.ub in 3266 ms (its log: '17.6 MiB/s'), Xilinx forum thread "
        "977975, 2019",
    ),
    "emmc": Storage(
        "emmc",
        200 * MB * BUS_SHARE,
        f"eMMC in HS200 (8 bits at 200 MHz: 200 MB/s on the bus, JEDEC JESD84-B51) at the "
        f"{BUS_SHARE:.0%} of the bus U-Boot reached on SD; derived, not measured",
    ),
    "qspi": Storage(
        "qspi",
        50 * MB * BUS_SHARE,
        f"one quad-SPI NOR flash read at 100 MHz (4 bits a clock: 50 MB/s on the bus; a "
        f"dual-parallel pair as on the ZCU102 doubles it) at {BUS_SHARE:.0%} of the bus; "
        "derived, not measured",
    ),
    "tftp": Storage(
        "tftp",
        12.5 * MB * 1468 / 1538,
        "TFTP over 100 Mbit/s Ethernet: U-Boot's 1468-byte blocks (TFTP_BLOCKSIZE) in "
        "1538-byte frames on the wire; an upper bound, as each block waits for its "
        "acknowledgement",
    ),
}
#: Seconds Xen spends building one domU besides copying its files (the domain, its memory,
#: its device tree), and the bytes a second it copies each domU's kernel and ramdisk from
#: their modules into the domU's memory. Xen's own stamps in an -icount boot (one
#: instruction a nanosecond; Xen 4.17, bench/boot_time.py's throttled table), from one
#: "LOADING DOMU" line to the next: 3.5 ms for the 12 KiB bare-metal domU (16M), 65.6 ms for
#: a Linux domU (32956352-byte Image and 1847708-byte initramfs, 256M).
XEN_DOMAIN_S = 0.0035
XEN_COPY_RATE = 560 * MB
#: Seconds from reset to the domUs starting that are neither U-Boot's (UBOOT_S), reading nor
#: building domUs: Xen's own boot, then starting the domUs. The same bench's baseline (the
#: bare-metal domU and one Linux domU) took 0.132 s of CPU work, its two domUs 0.069 s of it.
XEN_BOOT_S = 0.018
#: Bytes a second Xen writes decompressing a gzip kernel (dom0's or a domU's), which it does
#: while it builds the domains, before any starts: Debian's 6.1 arm64 Image (32956352
#: bytes) gzipped put the bare-metal domU's start 0.831 s later than the Image itself did,
#: same machine and Xen, bench/boot_time.py's throttled table.
XEN_GUNZIP_RATE = 39.7 * MB
#: U-Boot's own work in the script path besides reading (start-up, the script, booti):
#: the script path's time to that line less the floor's and its reads, same bench.
UBOOT_S = 0.045
#: Bytes a second bootm checks of a FIT's images (ARMv8 crypto-extension sha256, as
#: Debian's U-Boot 2023.01 has it; once per image, twice when each image is signed too):
#: the unsigned FIT's 35.9 MB of image data put the critical domU 57 ms after the script
#: path (0.195 s against 0.138 s, fastest of 5 boots each, bench/boot_time.py --only fit).
UBOOT_FIT_CHECK_RATE = 630 * MB
#: Bytes a second U-Boot writes decompressing a file stored compressed (boot.compression)
#: with ``unzip`` and ``unlz4`` before Xen starts: Debian's 6.1 arm64 Image (32956352 bytes)
#: stored as gzip -9 (11225723 bytes) or lz4 -9 (13643465 bytes) and decompressed by
#: U-Boot 2023.01 put the bare-metal domU's start 0.450 s and 0.703 s later, U-Boot's reads
#: left out, than the Image itself did (0.132 s; -smp 1 -icount, 3 boots each, within 2 ms;
#: bench/boot_time.py's baseline). Here lz4 is the slower of the two: as read (not profiled),
#: U-Boot builds arm64 with -mstrict-align, so lib/lz4.c's unaligned 8-byte copies
#: (get_unaligned/put_unaligned) become byte loads and stores.
UBOOT_DECOMPRESS_RATE = {"gzip": 73.2 * MB, "lz4": 46.9 * MB}
RATE = re.compile(r"(\d+(?:\.\d+)?)\s*(kB|KB|KiB|MB|MiB|GB|GiB|Mbit|Gbit)/s")
UNITS = {
    "kB": 1e3,
    "KB": 1e3,
    "KiB": 1024,
    "MB": 1e6,
    "MiB": 1 << 20,
    "GB": 1e9,
    "GiB": 1 << 30,
    "Mbit": 1e6 / 8,
    "Gbit": 1e9 / 8,
}


def storage(value: str) -> Storage:
    """A named class, or a rate such as ``20MB/s`` or ``100Mbit/s``; ValueError otherwise."""
    if value in STORAGE:
        return STORAGE[value]
    match = RATE.fullmatch(value.strip())
    rate = float(match.group(1)) * UNITS[match.group(2)] if match else 0.0
    if rate <= 0:
        raise ValueError(
            f"--storage {value!r}: give {', '.join(STORAGE)} or a read rate such as "
            "20MB/s, 18.4MiB/s or 100Mbit/s"
        )
    return Storage(value, rate, "the rate given")
