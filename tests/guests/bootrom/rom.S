/*
 * rom.S - a 64 KiB boot ROM for khyve's -l bootrom test (bootrom.bin).
 *
 * khyve maps it at 0xFFFF0000 and a 4 KiB variable file below it at
 * 0xFFFEF000.  The CPU starts at the reset vector (CS base 0xFFFF0000,
 * IP 0xFFF0) in real mode; the jump there lands at offset 0, which:
 *   - prints "bootrom: reset vector ok" on COM1 from real mode;
 *   - enters 32-bit flat protected mode (the variables lie above 1 MiB);
 *   - prints the variable store's first four bytes ("bootrom: vars XXXX"),
 *     writes 0x5a at its offset 16 and reads it back;
 *   - writes over a ROM byte (must exit as MMIO and be dropped) and
 *     reads it back: "bootrom: rom write dropped" or "... NOT dropped";
 *   - exits through pc-testdev with 0x10 (khyve status 33), or 0x11
 *     (35) if something was wrong.
 */
#define ROM_BASE 0xffff0000
#define VARS 0xfffef000
#define COM1 0x3f8
#define ABS(x) (ROM_BASE + ((x) - start))

	.code16
	.text
	.globl start
start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ss
	movw $0x7000, %sp
	movw $msg_reset - start, %si
1:	movb %cs:(%si), %al
	testb %al, %al
	jz 2f
	call putc16
	incw %si
	jmp 1b
2:	lgdtl %cs:(gdtr - start)
	movb $'L', %al			/* progress marks: GDT loaded, */
	call putc16
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	movb $'P', %al			/* protected mode, */
	call putc16
	ljmpl $0x08, $ABS(pm32)

putc16:
	movw %ax, %bx
	movw $COM1 + 5, %dx
3:	inb %dx, %al
	testb $0x20, %al
	jz 3b
	movw %bx, %ax
	movw $COM1, %dx
	outb %al, %dx
	ret

	.code32
pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $0x7000, %esp
	xorl %edi, %edi			/* failures */
	movb $'J', %al			/* 32-bit code reached */
	call putc32
	movb $'\n', %al
	call putc32

	movl $ABS(msg_vars), %esi
	call puts32
	movl $VARS, %esi
	movl $4, %ecx
4:	lodsb
	call putc32
	loop 4b
	movb $'\n', %al
	call putc32

	movb $0x5a, VARS + 16
	cmpb $0x5a, VARS + 16
	je 5f
	incl %edi
	movl $ABS(msg_varbad), %esi
	call puts32
5:
	movb $0x00, ABS(rom_byte)
	cmpb $0xa5, ABS(rom_byte)
	jne 6f
	movl $ABS(msg_dropped), %esi
	call puts32
	jmp 7f
6:	incl %edi
	movl $ABS(msg_kept), %esi
	call puts32
7:
	movb $0x10, %al
	testl %edi, %edi
	jz 8f
	movb $0x11, %al
8:	outb %al, $0xf4
9:	hlt
	jmp 9b

puts32:
	lodsb
	testb %al, %al
	jz 1f
	call putc32
	jmp puts32
1:	ret

putc32:
	movb %al, %bl
	movw $COM1 + 5, %dx
2:	inb %dx, %al
	testb $0x20, %al
	jz 2b
	movb %bl, %al
	movw $COM1, %dx
	outb %al, %dx
	ret

	/* The accessed bits are preset (0x9b, 0x93), as in OVMF: the GDT
	 * is in ROM, and the CPU's write of the bit on a segment load would
	 * hit read-only memory (under KVM an MMIO exit that repeats). */
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: 32-bit code, flat */
	.quad 0x00cf93000000ffff	/* 0x10: data, flat */
gdtr:
	.word gdtr - gdt - 1
	.long ABS(gdt)

rom_byte:
	.byte 0xa5
msg_reset:
	.asciz "bootrom: reset vector ok\n"
msg_vars:
	.asciz "bootrom: vars "
msg_varbad:
	.asciz "bootrom: variable write lost\n"
msg_dropped:
	.asciz "bootrom: rom write dropped\n"
msg_kept:
	.asciz "bootrom: rom write NOT dropped\n"

	.org 0xfff0
reset:
	.code16
	jmp start
	.org 0x10000
