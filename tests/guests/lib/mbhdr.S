/* mbhdr.S - multiboot v1 header: page-aligned modules, memory info.
 * An ELF kernel needs no address fields (flag bit 16 clear). */
#define MB_HDR_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0: page-align modules; bit 1: mem info */

	.section .multiboot, "a"
	.align 4
	.long MB_HDR_MAGIC
	.long MB_FLAGS
	.long -(MB_HDR_MAGIC + MB_FLAGS)

	.section .note.GNU-stack, "", @progbits
