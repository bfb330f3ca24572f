// A bare-metal domU: prints one line on Xen's emulated PL011 (vpl011) and
// waits for interrupts forever. It stands in for an RTOS or a Zephyr guest.
// Position independent, so Xen may load it anywhere.

	.section .text
	.globl _head
_head:
	// arm64 Image header (Documentation/arch/arm64/booting.rst): Xen checks it.
	b	start			// code0
	.long	0			// code1
	.quad	0			// text_offset
	.quad	_end - _head		// image_size
	.quad	0xa			// flags: little endian, 4K pages, anywhere in RAM
	.quad	0, 0, 0			// res2, res3, res4
	.ascii	"ARM\x64"		// magic
	.long	0			// res5

start:
	ldr	x1, =0x22000000		// GUEST_PL011_BASE in Xen's public arch-arm.h
	adr	x2, message
next:
	ldrb	w3, [x2], #1
	cbz	w3, idle
busy:
	ldr	w4, [x1, #0x18]		// UARTFR
	tbnz	w4, #5, busy		// TXFF: transmit FIFO full
	strb	w3, [x1]		// UARTDR
	b	next
idle:
	wfi
	b	idle

	.ltorg
message:
	.asciz	"dom0less-hello-baremetal: hello from a domU Xen started at boot\r\n"
	.balign	8
_end:
