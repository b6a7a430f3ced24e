/*
 * entry.S - 32-bit entry, GDT, exception stubs and the AP trampoline.
 *
 * _start is reached in flat 32-bit protected mode with paging off, from
 * a multiboot loader (eax = 0x2BADB002, ebx = multiboot info) or a PVH
 * loader (ebx = hvm_start_info).  It sets up a stack, saves eax/ebx,
 * loads our GDT, clears .bss and calls lib_start(magic, info).
 */
#define CODE_SEL 0x08
#define DATA_SEL 0x10
#define AP_STACK_SIZE 2048
#define MAX_CPUS 256

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, boot_magic
	movl %ebx, boot_info
	movl $bsp_stack_top, %esp
	lgdt gdt_desc
	ljmp $CODE_SEL, $1f
1:	movw $DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	/* clear .bss (4-byte aligned by the linker script) */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	pushl boot_info
	pushl boot_magic
	call lib_start
	/* not reached */
2:	cli
	hlt
	jmp 2b

/*
 * APs arrive here from the trampoline in 32-bit mode with our GDT loaded.
 * Each takes an index with lock xadd (the BSP is 0), then its own stack.
 */
	.globl ap_entry32
ap_entry32:
	movw $DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $1, %eax
	lock xaddl %eax, ap_next_index
	cmpl $MAX_CPUS, %eax
	jae 3f
	movl %eax, %ecx
	incl %ecx
	imull $AP_STACK_SIZE, %ecx
	addl $ap_stacks, %ecx
	movl %ecx, %esp
	pushl %eax
	call ap_main
3:	cli
	hlt
	jmp 3b

/* Exception stubs: push a dummy error code where the CPU pushes none. */
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
vec\n:
	.if (\n == 8) || (\n == 10) || (\n == 11) || (\n == 12) || (\n == 13) || (\n == 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushl $0
	.endif
	pushl $\n
	jmp trap_common
	.endr

trap_common:
	pushal
	movl %esp, %eax
	pushl %eax
	call trap_handler
	addl $4, %esp
	popal
	addl $8, %esp /* vector, error code */
	iret

	.section .rodata
	.globl trap_vectors
	.align 4
trap_vectors:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long vec\n
	.endr

/*
 * The AP trampoline, copied by smp_boot() to a page below 1 MiB (its
 * address >> 12 is the SIPI vector).  The AP starts in real mode with
 * CS = page >> 4, IP = 0; it loads our GDT (whose 32-bit base the GDTR
 * image below holds), enters protected mode and jumps to ap_entry32.
 */
	.globl tramp_start, tramp_end
	.code16
tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdtr - tramp_start
	movl %cr0, %eax
	andl $0x9fffffff, %eax /* caches on: clear CD and NW */
	orl $1, %eax           /* PE */
	movl %eax, %cr0
	ljmpl $CODE_SEL, $ap_entry32
	.align 4
tramp_gdtr:
	.word gdt_end - gdt - 1
	.long gdt
tramp_end:
	.code32

	.data
	.globl boot_magic, boot_info, ap_next_index
	.align 4
boot_magic:	.long 0
boot_info:	.long 0
ap_next_index:	.long 1

	.align 8
	.globl gdt
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08: code, 32-bit, flat */
	.quad 0x00cf92000000ffff /* 0x10: data, flat */
gdt_end:
	.align 4
	.word 0
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	/* Stacks are not cleared with .bss (see link.ld). */
	.section .stack, "aw", @nobits
	.align 16
	.globl ap_stacks
bsp_stack:
	.skip 16384
bsp_stack_top:
ap_stacks:
	.skip AP_STACK_SIZE * MAX_CPUS

	.section .note.GNU-stack, "", @progbits
