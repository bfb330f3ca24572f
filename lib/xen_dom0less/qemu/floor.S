/*
 * Entry stub for the "floor" boot, where QEMU preloads Xen and its modules
 * and no firmware runs: enter Xen as the arm64 boot protocol requires, with
 * x0 = device tree address and x1-x3 = 0. qemu/command.py patches the two
 * addresses at the end.
 */
        .text
        .global _head
_head:
        ldr     x0, dtb_address
        mov     x1, xzr
        mov     x2, xzr
        mov     x3, xzr
        ldr     x4, xen_entry
        br      x4

        .balign 8
dtb_address:
        .quad   0
xen_entry:
        .quad   0
