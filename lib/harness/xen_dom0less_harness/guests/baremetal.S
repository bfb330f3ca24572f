/*
 * A tiny bare-metal arm64 domU: prints a marker through a PL011 UART, then
 * optionally the physical counter read on entry (time since reset, for boot
 * benchmarks) and when Xen first ran it (its runstate), its own load address, its xenstore HVM parameters (the page's
 * frame and event channel, as Xen set them at boot), a write, a few MMIO words, a polled
 * word, an event sent on a static event channel and an event awaited on
 * one, then idles in wfi. An exception (the data abort Xen injects for an
 * access to an address the domain was not given) prints "fault esr ... far
 * ..." and idles.
 *
 * Everything it does is driven by the parameter block at `params`, which
 * guests/baremetal.py finds by its magic and patches, so one assembled
 * binary serves every test. The MMU stays off, so all data accesses are
 * Device accesses: keep them naturally aligned. Every line is finished
 * before an access that may fault, because Xen's vpl011 prints only
 * complete lines.
 */

        .equ    UART_DR, 0x00
        .equ    UART_FR, 0x18
        .equ    FR_TXFF, 5

        /* Parameter block layout; must match guests/baremetal.py. */
        .equ    P_UART, 8
        .equ    P_FLAGS, 16
        .equ    P_WRITE_ADDR, 24
        .equ    P_WRITE_VALUE, 32
        .equ    P_POLL_ADDR, 40
        .equ    P_SEND_PORT, 48
        .equ    P_WATCH_PORT, 56
        .equ    P_READ_COUNT, 64
        .equ    P_READ_ADDRS, 72
        .equ    MAX_READS, 16
        .equ    P_MARKER, P_READ_ADDRS + 8 * MAX_READS
        .equ    MARKER_SIZE, 128
        .equ    FLAG_LOAD_ADDRESS, 0
        .equ    FLAG_COUNTER, 1
        .equ    FLAG_XENSTORE, 2
        .equ    FLAG_SCHEDULED, 3

        /* Xen's hypercall ABI on arm64: hvc #0xEA1, number in x16, arguments in x0-x4. */
        .equ    XEN_HVC, 0xea1
        .equ    HYPERVISOR_memory_op, 12
        .equ    HYPERVISOR_vcpu_op, 24
        .equ    HYPERVISOR_event_channel_op, 32
        .equ    HYPERVISOR_hvm_op, 34
        .equ    HVMOP_get_param, 1
        .equ    HVM_PARAM_STORE_PFN, 1
        .equ    HVM_PARAM_STORE_EVTCHN, 2
        .equ    XENMEM_add_to_physmap, 7
        .equ    VCPUOP_register_runstate_memory_area, 5
        /* struct vcpu_runstate_info: state (int, padded), state_entry_time, time[4]. */
        .equ    RUNSTATE_ENTRY_TIME, 8
        .equ    RUNSTATE_TIME_RUNNING, 16
        .equ    EVTCHNOP_send, 4
        .equ    DOMID_SELF, 0x7ff0
        /* struct shared_info: one vcpu_info (48 bytes on arm64, 64 on x86), then the
         * evtchn_pending words. */
        .equ    SHARED_EVTCHN_PENDING, 48

        .text
        .global _head
_head:
        /* The 64-byte arm64 Image header Xen checks before loading us. */
        b       start
        .long   0
        .quad   0                       /* text_offset */
        .quad   _end - _head            /* image_size, including the stack */
        .quad   0                       /* flags: little-endian, 2 MiB aligned base */
        .quad   0, 0, 0
        .ascii  "ARM\x64"
        .long   0

start:
        mrs     x25, cntpct_el0         /* first, so it dates our arrival */
        msr     daifset, #0xf
        adr     x0, stack_top
        mov     sp, x0
        adr     x0, vectors
        msr     vbar_el1, x0
        isb
        adr     x20, params
        ldr     x19, [x20, #P_UART]

        add     x0, x20, #P_MARKER
        bl      puts
        bl      newline

        ldr     x0, [x20, #P_FLAGS]
        tbz     x0, #FLAG_COUNTER, 0f
        adr     x0, msg_counter
        mov     x1, x25
        bl      put_labelled
        adr     x0, msg_frequency
        mrs     x1, cntfrq_el0
        bl      put_labelled
        ldr     x0, [x20, #P_FLAGS]
        tbz     x0, #FLAG_SCHEDULED, 13f
        bl      put_scheduled
13:
        bl      newline
0:
        ldr     x0, [x20, #P_FLAGS]
        tbz     x0, #FLAG_LOAD_ADDRESS, 1f
        adr     x0, msg_loaded
        bl      puts
        adr     x0, _head
        bl      puthex
        bl      newline
1:
        ldr     x0, [x20, #P_FLAGS]
        tbz     x0, #FLAG_XENSTORE, 11f
        mov     x0, #HVM_PARAM_STORE_PFN
        bl      put_param
        mov     x0, #HVM_PARAM_STORE_EVTCHN
        bl      put_param
11:
        ldr     x21, [x20, #P_WRITE_ADDR]
        cbz     x21, 2f
        adr     x0, msg_write
        mov     x1, x21
        bl      put_labelled
        bl      newline
        ldr     x0, [x20, #P_WRITE_VALUE]
        str     w0, [x21]
        adr     x0, msg_written
        bl      puts
        bl      newline
2:
        ldr     x22, [x20, #P_READ_COUNT]
        add     x23, x20, #P_READ_ADDRS
3:
        cbz     x22, 4f
        ldr     x1, [x23], #8
        ldr     w2, [x1]
        bl      put_read
        sub     x22, x22, #1
        b       3b
4:
        ldr     x21, [x20, #P_POLL_ADDR]
        cbz     x21, events
        adr     x0, msg_poll
        mov     x1, x21
        bl      put_labelled
        bl      newline
5:
        ldr     w2, [x21]
        cbz     w2, 5b
        mov     x1, x21
        bl      put_read

events:
        /* EVTCHNOP_send takes struct evtchn_send { u32 port }: the low half of the quad. */
        ldr     x21, [x20, #P_SEND_PORT]
        cbz     x21, 9f
        adr     x0, msg_send
        mov     x1, x21
        bl      put_labelled
        bl      newline
        mov     x16, #HYPERVISOR_event_channel_op
        mov     x0, #EVTCHNOP_send
        add     x1, x20, #P_SEND_PORT
        hvc     #XEN_HVC
        mov     x1, x0
        adr     x0, msg_result
        bl      put_labelled
        bl      newline
9:
        /* Map shared_info over our own page, then wait for the port's pending bit. */
        ldr     x21, [x20, #P_WATCH_PORT]
        cbz     x21, idle
        adr     x0, msg_watch
        mov     x1, x21
        bl      put_labelled
        bl      newline
        adr     x1, physmap
        adr     x2, shared_page
        lsr     x2, x2, #12
        str     x2, [x1, #16]
        mov     x16, #HYPERVISOR_memory_op
        mov     x0, #XENMEM_add_to_physmap
        hvc     #XEN_HVC
        mov     x1, x0
        adr     x0, msg_result
        bl      put_labelled
        bl      newline
        adr     x22, shared_page + SHARED_EVTCHN_PENDING
        lsr     x0, x21, #6
        add     x22, x22, x0, lsl #3
        and     x23, x21, #63
10:
        ldr     x0, [x22]
        lsr     x0, x0, x23
        tbz     x0, #0, 10b
        adr     x0, msg_pending
        mov     x1, x21
        bl      put_labelled
        bl      newline

idle:
        wfi
        b       idle

/* Any exception: its syndrome and fault address on one line, then idle. */
fault:
        adr     x0, msg_fault
        mrs     x1, esr_el1
        bl      put_labelled
        adr     x0, msg_far
        mrs     x1, far_el1
        bl      put_labelled
        bl      newline
        b       idle

/* puts(x0 = NUL-terminated string); clobbers x0-x2. */
puts:
        mov     x2, x30
        mov     x1, x0
6:
        ldrb    w0, [x1], #1
        cbz     w0, 7f
        bl      putc
        b       6b
7:
        ret     x2

/* put_labelled(x0 = label, x1 = value): "label0x...."; clobbers x0-x4. */
put_labelled:
        mov     x4, x30
        mov     x3, x1
        bl      puts
        mov     x0, x3
        bl      puthex
        ret     x4

/* put_read(x1 = address, x2 = value read there): "read 0x... = 0x...", a newline;
 * clobbers x0-x7. */
put_read:
        mov     x6, x30
        mov     x7, x2
        adr     x0, msg_read
        bl      put_labelled
        adr     x0, msg_equals
        bl      puts
        mov     x0, x7
        bl      puthex
        mov     x30, x6
        b       newline

/* put_param(x0 = index): HVMOP_get_param for ourselves, then "hvm param 0x... =
 * 0x... result 0x..." and a newline (the value stays 0 where the call fails);
 * clobbers x0-x7, x16. */
put_param:
        mov     x6, x30
        adr     x1, hvm_param
        str     w0, [x1, #4]
        str     xzr, [x1, #8]
        mov     x16, #HYPERVISOR_hvm_op
        mov     x0, #HVMOP_get_param
        hvc     #XEN_HVC
        mov     x7, x0
        adr     x0, msg_param
        adr     x1, hvm_param
        ldr     w1, [x1, #4]
        bl      put_labelled
        adr     x0, msg_equals
        adr     x1, hvm_param
        ldr     x1, [x1, #8]
        bl      put_labelled
        adr     x0, msg_result_of
        mov     x1, x7
        bl      put_labelled
        mov     x30, x6
        b       newline

/* put_scheduled: " scheduled 0x... ran 0x...": Xen's time (ns since its start) when it last
 * switched to this vCPU, and how long the vCPU ran before that (0: it has run without a
 * break since, so the first is when Xen first ran it), read from the runstate area Xen
 * fills in as it is registered. Where the call fails, " runstate result 0x..." instead.
 * Clobbers x0-x7, x16. */
put_scheduled:
        mov     x6, x30
        adr     x2, runstate_area
        adr     x1, runstate
        str     x1, [x2]
        mov     x16, #HYPERVISOR_vcpu_op
        mov     x0, #VCPUOP_register_runstate_memory_area
        mov     x1, #0                  /* vCPU 0: this one */
        hvc     #XEN_HVC
        mov     x1, x0
        adr     x0, msg_runstate_result
        cbnz    x1, 14f
        adr     x0, msg_scheduled
        adr     x1, runstate
        ldr     x1, [x1, #RUNSTATE_ENTRY_TIME]
        bl      put_labelled
        adr     x0, msg_ran
        adr     x1, runstate
        ldr     x1, [x1, #RUNSTATE_TIME_RUNNING]
14:
        bl      put_labelled
        ret     x6

/* puthex(x0): "0x" and 16 hex digits; clobbers x0-x3, x5. */
puthex:
        mov     x5, x30
        mov     x3, x0
        mov     w0, #'0'
        bl      putc
        mov     w0, #'x'
        bl      putc
        mov     x2, #60
8:
        lsr     x1, x3, x2
        and     x1, x1, #0xf
        cmp     x1, #10
        add     x0, x1, #'0'
        add     x1, x1, #('a' - 10)
        csel    x0, x1, x0, hs
        bl      putc
        subs    x2, x2, #4
        b.ge    8b
        ret     x5

newline:
        mov     w0, #'\n'
        /* fall through */

/* putc(w0): waits for room in the UART's FIFO; clobbers w16. */
putc:
        ldr     w16, [x19, #UART_FR]
        tbnz    w16, #FR_TXFF, putc
        str     w0, [x19, #UART_DR]
        ret

msg_counter:    .asciz  "counter "
msg_frequency:  .asciz  " frequency "
msg_loaded:     .asciz  "load address "
msg_write:      .asciz  "write "
msg_written:    .asciz  "written"
msg_read:       .asciz  "read "
msg_poll:       .asciz  "poll "
msg_equals:     .asciz  " = "
msg_send:       .asciz  "event send on port "
msg_watch:      .asciz  "event watch on port "
msg_result:     .asciz  "hypercall result "
msg_param:      .asciz  "hvm param "
msg_result_of:  .asciz  " result "
msg_pending:    .asciz  "event pending on port "
msg_fault:      .asciz  "fault esr "
msg_far:        .asciz  " far "
msg_scheduled:  .asciz  " scheduled "
msg_ran:        .asciz  " ran "
msg_runstate_result: .asciz " runstate result "

        /* VBAR_EL1: 16 entries of 128 bytes, 2 KiB aligned; every one reports the fault. */
        .balign 2048
vectors:
        .rept   16
        b       fault
        .balign 128
        .endr

        /* struct xen_add_to_physmap: domid, size, space (shared_info = 0), idx, gpfn. */
        .balign 8
physmap:
        .short  DOMID_SELF, 0
        .long   0
        .quad   0
        .quad   0                       /* gpfn, filled in at run time */

        /* struct xen_hvm_param: domid, pad, index (filled in), value (Xen's answer). */
        .balign 8
hvm_param:
        .short  DOMID_SELF, 0
        .long   0
        .quad   0

        /* struct vcpu_register_runstate_memory_area: the address of ours (filled in). */
        .balign 8
runstate_area:
        .quad   0
runstate:
        .fill   48, 1, 0

        .balign 8
params:
        .ascii  "D0LSPRM1"
        .quad   0x22000000              /* UART base: Xen's vpl011 */
        .quad   0                       /* flags */
        .quad   0, 0                    /* write address, value */
        .quad   0                       /* poll address */
        .quad   0, 0                    /* event channel ports: send, watch */
        .quad   0                       /* number of MMIO reads */
        .fill   MAX_READS, 8, 0         /* MMIO read addresses */
        .asciz  "baremetal guest up"
        .fill   MARKER_SIZE - 19, 1, 0

        .balign 16
        .fill   1024, 1, 0
stack_top:

        /* Xen maps shared_info here when asked to watch a port. */
        .balign 4096
shared_page:
        .fill   4096, 1, 0
_end:
