/*
 * first.S - the start-up guest: its first action is a port write (a line
 * on COM1, no UART set-up), then it ends through pc-testdev /
 * isa-debug-exit at 0xf4 (value 0x10: status 33 on khyve and QEMU).
 * A 32-bit multiboot ELF loaded at 1 MiB; no stack, no runtime.
 */
	.section .multiboot, "a"
	.align 4
	.long 0x1BADB002
	.long 0
	.long -0x1BADB002
	.text
	.code32
	.globl _start
_start:
	movw $0x3f8, %dx
	movl $msg, %esi
1:	lodsb
	outb %al, %dx
	cmpb $'\n', %al
	jne 1b
	movw $0xf4, %dx
	movb $0x10, %al
	outb %al, %dx
2:	cli
	hlt
	jmp 2b

msg:	.ascii "khyve-bench first\n"

	.section .note.GNU-stack, "", @progbits
