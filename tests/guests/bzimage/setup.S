/*
 * setup.S - the real-mode part of the test bzImage: boot sector, setup
 * header (Linux boot protocol 2.15, Documentation/arch/x86/boot.rst) and
 * a little 16-bit code.
 *
 * A VMM that boots bzImages directly (khyve) reads the header, builds
 * boot_params itself and enters the protected-mode part (head.S) at
 * code32_start (32-bit) or at load address + 0x200 (64-bit, XLF_KERNEL_64).
 * A BIOS boot loader (QEMU -kernel, used to test this image) instead runs
 * the code below at setup segment + 0x20: it builds a zero page at
 * setup segment:ZP (header copy, BIOS E820 map), enters protected mode and
 * jumps to code32_start with esi = the zero page, as the protocol says.
 */
#define SETUP_SECTS 2 /* + the boot sector: 1.5 KiB of real-mode code */
#define ZP 0x8000     /* zero page, offset in the setup segment */

	.section .setup, "ax"
	.code16
	.globl _setup
_setup:
	/* Not bootable from a disk: the "boot sector" only holds the header. */
	.org 0x1f1
	.byte SETUP_SECTS	/* 0x1f1 setup_sects */
	.word 0			/* 0x1f2 root_flags */
	.long __syssize		/* 0x1f4 syssize: 16-byte paragraphs */
	.word 0			/* 0x1f8 ram_size (obsolete) */
	.word 0xffff		/* 0x1fa vid_mode: normal */
	.word 0			/* 0x1fc root_dev */
	.word 0xaa55		/* 0x1fe boot_flag */
	.org 0x200
	.byte 0xeb, start_of_setup - 1f /* 0x200 jump */
1:	.ascii "HdrS"		/* 0x202 header */
	.word 0x020f		/* 0x206 version 2.15 */
	.long 0			/* 0x208 realmode_swtch */
	.word 0x1000		/* 0x20c start_sys_seg (obsolete) */
	.word kernel_version - 0x200 /* 0x20e kernel_version */
	.byte 0			/* 0x210 type_of_loader */
	.byte 0x01		/* 0x211 loadflags: LOADED_HIGH */
	.word 0			/* 0x212 setup_move_size */
	.org 0x214
	.long 0x100000		/* 0x214 code32_start */
	.long 0			/* 0x218 ramdisk_image */
	.long 0			/* 0x21c ramdisk_size */
	.long 0			/* 0x220 bootsect_kludge */
	.word 0			/* 0x224 heap_end_ptr */
	.byte 0			/* 0x226 ext_loader_ver */
	.byte 0			/* 0x227 ext_loader_type */
	.org 0x228
	.long 0			/* 0x228 cmd_line_ptr */
	.long 0x7fffffff	/* 0x22c initrd_addr_max */
	.long 0x200000		/* 0x230 kernel_alignment */
	.byte 1			/* 0x234 relocatable_kernel */
	.byte 21		/* 0x235 min_alignment (log2) */
	.word 0x0001		/* 0x236 xloadflags: XLF_KERNEL_64 */
	.org 0x238
	.long 2047		/* 0x238 cmdline_size */
	.long 0			/* 0x23c hardware_subarch */
	.quad 0			/* 0x240 hardware_subarch_data */
	.long 0			/* 0x248 payload_offset */
	.long 0			/* 0x24c payload_length */
	.quad 0			/* 0x250 setup_data */
	.org 0x258
	.quad 0x1000000		/* 0x258 pref_address */
	.long __init_size	/* 0x260 init_size */
	.long 0			/* 0x264 handover_offset */
	.long __kernel_info_offset /* 0x268 kernel_info_offset */
	.org 0x26c

start_of_setup:
	/* cs = setup segment + 0x20; ds = es = ss = setup segment */
	cli
	cld
	movw %ds, %ax
	movw %ax, %es
	movw %ax, %ss
	movw $0xf000, %sp

	/* zero page: clear, copy the setup header */
	movw $ZP, %di
	movw $2048, %cx
	xorw %ax, %ax
	rep stosw
	movw $0x1f1, %si
	movw $ZP + 0x1f1, %di
	movw $0x280 - 0x1f1, %cx
	rep movsb

	/* BIOS E820 map into zero page e820_table (0x2d0), count at 0x1e8 */
	xorl %ebx, %ebx
	xorw %bp, %bp
	movw $ZP + 0x2d0, %di
2:	movl $0xe820, %eax
	movl $0x534d4150, %edx	/* "SMAP" */
	movl $20, %ecx
	int $0x15
	jc 3f
	cmpl $0x534d4150, %eax
	jne 3f
	incw %bp
	addw $20, %di
	testl %ebx, %ebx
	jz 3f
	cmpw $128, %bp
	jb 2b
3:	movw %bp, %ax
	movb %al, ZP + 0x1e8

	/* linear address of the setup segment */
	xorl %ebx, %ebx
	movw %ds, %bx
	shll $4, %ebx
	leal gdt(%ebx), %eax
	movl %eax, gdtr + 2
	lgdtl gdtr
	leal in_pm32(%ebx), %eax
	movl %eax, farptr
	movl code32_start_copy, %ecx	/* as the loader left it */
	leal ZP(%ebx), %esi		/* esi = boot_params */
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl *farptr

code32_start_copy = 0x214

	/* Flat data segments, as the 32-bit boot protocol requires. */
	.code32
in_pm32:
	movl $0x18, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	movl %eax, %ss
	xorl %ebx, %ebx
	xorl %ebp, %ebp
	xorl %edi, %edi
	jmpl *%ecx
	.code16

	.align 8
gdt:
	.quad 0
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x10 __BOOT_CS: 32-bit code, flat */
	.quad 0x00cf92000000ffff	/* 0x18 __BOOT_DS: data, flat */
gdt_end:
	.align 4
	.word 0
gdtr:
	.word gdt_end - gdt - 1
	.long 0
farptr:
	.long 0
	.word 0x10
kernel_version:
	.asciz "khyve test bzImage"

	.org (SETUP_SECTS + 1) * 512

	.section .note.GNU-stack, "", @progbits
