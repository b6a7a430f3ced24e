/*
 * head.S - start of the protected-mode part of the test bzImage.
 *
 *   offset 0      startup_32: 32-bit entry (code32_start), esi = boot_params
 *   offset 0x200  startup_64: 64-bit entry (XLF_KERNEL_64), rsi = boot_params
 *
 * The image is position independent (the Makefile links it at two
 * addresses and compares), so a loader may put it anywhere; the 32-bit
 * path finds itself with call/pop, using boot_params' scratch field as a
 * one-word stack as Linux does.  Both paths end in bz_main() on our own
 * identity map of the low 4 GiB.
 */
	.section .head, "ax"
	.code32
	.globl startup_32
startup_32:
	cli
	cld
	leal 0x1e8(%esi), %esp		/* scratch field (0x1e4) + 4 */
	call 1f
1:	popl %ebp
	subl $(1b - startup_32), %ebp	/* ebp = load address */

	/* our GDT (with a 64-bit code segment) and flat data segments */
	leal (gdt64 - startup_32)(%ebp), %eax
	movl %eax, (gdt64_desc - startup_32 + 2)(%ebp)
	lgdt (gdt64_desc - startup_32)(%ebp)
	movl $0x18, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	movl %eax, %ss
	leal __stack_top_off(%ebp), %esp

	/* page tables: PML4, PDPT, 4 PDs of 2 MiB pages = 4 GiB identity */
	leal __pgt_off(%ebp), %ebx
	addl $4095, %ebx
	andl $~4095, %ebx
	movl %ebx, %edi
	movl $6 * 1024, %ecx
	xorl %eax, %eax
	rep stosl
	leal 0x1003(%ebx), %eax
	movl %eax, (%ebx)
	leal 0x2003(%ebx), %eax
	movl %eax, 0x1000(%ebx)
	addl $0x1000, %eax
	movl %eax, 0x1008(%ebx)
	addl $0x1000, %eax
	movl %eax, 0x1010(%ebx)
	addl $0x1000, %eax
	movl %eax, 0x1018(%ebx)
	leal 0x2000(%ebx), %edi
	movl $0x83, %eax		/* present, writable, 2 MiB page */
	movl $2048, %ecx
2:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	decl %ecx
	jnz 2b

	/* long mode: PAE, CR3, EFER.LME, paging */
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl %ebx, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	leal (from32 - startup_32)(%ebp), %eax
	pushl $0x10
	pushl %eax
	lret

	.align 8
gdt64:
	.quad 0
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x10: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x18: data */
gdt64_end:
	.align 4
	.word 0
gdt64_desc:
	.word gdt64_end - gdt64 - 1
	.long 0

	.code64
	.org 0x200
	.globl startup_64
startup_64:
	cli
	cld
	leaq boot_stack_top(%rip), %rsp
	movq %rsi, %rbx			/* boot_params (callee-saved) */
	call clear_bss
	call bz_paging_setup
	movq %rbx, %rdi
	movl $64, %esi
	call bz_main
3:	hlt
	jmp 3b

from32:
	leaq boot_stack_top(%rip), %rsp
	movl %esi, %ebx			/* boot_params (zero-extended) */
	call clear_bss
	movq %rbx, %rdi
	movl $32, %esi
	call bz_main
4:	hlt
	jmp 4b

/* The boot protocol does not promise a zeroed .bss (stack and page
 * tables live in .noclear). */
clear_bss:
	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	rep stosb
	ret

	/* kernel_info (boot protocol 2.15) */
	.align 4
	.globl kernel_info
kernel_info:
	.ascii "LToP"
	.long kernel_info_var - kernel_info	/* size */
	.long kernel_info_end - kernel_info	/* size_total */
	.long 0					/* setup_type_max */
kernel_info_var:
kernel_info_end:

	.section .noclear, "aw", @nobits
	.align 16
boot_stack:
	.skip 16384
	.globl boot_stack_top
boot_stack_top:
	.align 4096
	.globl bz_pgt
bz_pgt:
	/* 6 pages for head.S's tables, 6 for bz_paging_setup()'s (separate,
	 * so a test may enter startup_64 from the 32-bit path), + alignment */
	.skip 13 * 4096

	.section .note.GNU-stack, "", @progbits
