"""Make bare-metal domU images from baremetal.S, one binary patched per use.

Assembling once and patching a parameter block (found by its magic) keeps
tests fast and means every test runs the very same code.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .asm import flat_binary

SOURCE = Path(__file__).with_name("baremetal.S")
MAGIC = b"D0LSPRM1"
MAX_READS = 16
MARKER_SIZE = 128
#: Xen's vpl011 for a normal domU (GUEST_PL011_BASE); direct-mapped ones use the host UART.
VPL011_BASE = 0x22000000
FLAG_LOAD_ADDRESS = 1 << 0
FLAG_COUNTER = 1 << 1
FLAG_XENSTORE = 1 << 2
FLAG_SCHEDULED = 1 << 3
#: The HVM parameters print_xenstore reads (Xen's public/hvm/params.h).
HVM_PARAM_STORE_PFN = 1
HVM_PARAM_STORE_EVTCHN = 2
# magic, uart, flags, write address, write value, poll address, send port, watch port,
# read count, reads, marker
_LAYOUT = struct.Struct(f"<8s8Q{MAX_READS}Q{MARKER_SIZE}s")


@dataclass(frozen=True)
class Program:
    """What the guest does, in order: marker, counter, load address, xenstore parameters,
    write, reads, poll, events."""

    marker: str
    uart: int = VPL011_BASE
    print_counter: bool = False  # CNTPCT_EL0 on entry and CNTFRQ_EL0: time since reset
    #: with print_counter, when Xen first ran the guest (ns on Xen's clock, from the vCPU's
    #: runstate): the order Xen ran domains in, which QEMU's vCPU threads cannot reorder
    print_scheduled: bool = False
    print_load_address: bool = False
    #: HVM_PARAM_STORE_PFN and _EVTCHN as the guest reads them (HVMOP_get_param): the frame
    #: Xen gave the xenstore page, ~0 for the one init-dom0less is to give, 0 for none.
    print_xenstore: bool = False
    write: Optional[tuple[int, int]] = None  # (address, 32-bit value)
    reads: tuple[int, ...] = ()  # addresses of 32-bit words to print
    poll: Optional[int] = None  # address to wait on until non-zero, then print
    send_event: int = 0  # local port of a static event channel to notify (EVTCHNOP_send)
    watch_event: int = 0  # local port to wait on until pending (in a mapped shared_info)

    def pack(self) -> bytes:
        marker = self.marker.encode()
        if len(marker) >= MARKER_SIZE or b"\n" in marker:
            raise ValueError(f"marker must be one line under {MARKER_SIZE} bytes")
        if len(self.reads) > MAX_READS:
            raise ValueError(f"at most {MAX_READS} MMIO reads")
        if self.print_scheduled and not self.print_counter:
            raise ValueError("print_scheduled goes on the counter's line: set print_counter too")
        write_addr, write_value = self.write or (0, 0)
        if any(addr % 4 for addr in (*self.reads, self.poll or 0, write_addr)):
            raise ValueError("MMIO addresses must be 4-byte aligned (the MMU is off)")
        flags = (
            (FLAG_LOAD_ADDRESS if self.print_load_address else 0)
            | (FLAG_COUNTER if self.print_counter else 0)
            | (FLAG_XENSTORE if self.print_xenstore else 0)
            | (FLAG_SCHEDULED if self.print_scheduled else 0)
        )
        reads = list(self.reads) + [0] * (MAX_READS - len(self.reads))
        return _LAYOUT.pack(
            MAGIC,
            self.uart,
            flags,
            write_addr,
            write_value,
            self.poll or 0,
            self.send_event,
            self.watch_event,
            len(self.reads),
            *reads,
            marker,
        )


def param_line(index: int, value: int) -> str:
    """The line print_xenstore prints for an HVM parameter Xen gave (the hypercall succeeded)."""
    return f"hvm param 0x{index:016x} = 0x{value:016x} result 0x{0:016x}"


def write(program: Program, dest: Path) -> Path:
    """Write a guest image running ``program`` to ``dest``."""
    image = bytearray(flat_binary(SOURCE).read_bytes())
    at = image.find(MAGIC)
    if at < 0 or image.find(MAGIC, at + 1) >= 0:
        raise RuntimeError(f"{SOURCE} must contain the parameter magic exactly once")
    image[at : at + _LAYOUT.size] = program.pack()
    dest.write_bytes(bytes(image))
    return dest
