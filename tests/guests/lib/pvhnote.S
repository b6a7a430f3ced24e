/* pvhnote.S - the Xen ELF note that makes an ELF a PVH kernel:
 * XEN_ELFNOTE_PHYS32_ENTRY (18), name "Xen", desc = the 32-bit entry
 * point (physical address).  See xen/include/public/elfnote.h. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.Xen, "a", @note
	.align 4
	.long 2f - 1f /* namesz */
	.long 4f - 3f /* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
1:	.asciz "Xen"
2:	.align 4
3:	.long _start
4:	.align 4

	.section .note.GNU-stack, "", @progbits
