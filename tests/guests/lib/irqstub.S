/*
 * irqstub.S - entry stubs for the external interrupt vectors 32..255.
 *
 * Stub n starts at irq_stubs + 16 * (n - 32) (trap.c fills the IDT from
 * that), pushes its vector and joins irq_common, which saves the general
 * registers and calls irq_handler(vector) (irq.c).  No error code: the
 * CPU pushes none for external interrupts.
 */
	.text
	.code32
	.globl irq_stubs
	.align 16
irq_stubs:
	.set vec, 32
	.rept 224
	.align 16
	pushl $vec
	jmp irq_common
	.set vec, vec + 1
	.endr

irq_common:
	pushal
	cld
	pushl 32(%esp) /* the vector pushed by the stub */
	call irq_handler
	addl $4, %esp
	popal
	addl $4, %esp
	iret

	.section .note.GNU-stack, "", @progbits
