/*
 * gdb_mem.h - guest virtual to guest physical translation for the
 * debugger: a software walk of the guest's page tables, in every x86
 * paging mode, over guest RAM (vmm/mem.h).
 *
 * As bhyve's gdb stub does, the walk pretends to be the kernel: it checks
 * only the present bits (not U/S, R/W, NX), since a debugger wants to see
 * what is mapped, not what the current code may touch.  Outside long mode
 * linear addresses are 32 bits wide, so the upper half of a 64-bit gdb
 * address is dropped there (a sign-extended 0xffffffffc0000000 is
 * 0xc0000000); in long mode a non-canonical address is unmapped.
 *
 * Trust boundary: the page tables are guest memory, so every entry is
 * hostile.  Tables are read with gmem_read() (a table outside RAM is
 * "unmapped"), and the walk has a fixed depth, so no loop is possible.
 */
#ifndef KHYVE_GDB_MEM_H
#define KHYVE_GDB_MEM_H

#include <stdint.h>

#include "vmm/mem.h"

enum gdb_paging {
	GDB_PAGING_NONE,   /* CR0.PG = 0: linear = physical */
	GDB_PAGING_32,     /* two levels, 4 KiB or 4 MiB (CR4.PSE) pages */
	GDB_PAGING_PAE,    /* PDPT, PD, PT: 4 KiB or 2 MiB pages */
	GDB_PAGING_4LEVEL, /* long mode: PML4 .. PT, 1 GiB pages too */
	GDB_PAGING_5LEVEL, /* long mode with CR4.LA57 */
};

/* The control registers that decide translation. */
struct gdb_mmu {
	uint64_t cr0, cr3, cr4, efer;
};

enum gdb_paging gdb_paging_mode(const struct gdb_mmu *mmu);

/*
 * Translate gva.  Returns 0 with *gpa set and *page (the size of the page
 * that maps it: 4 KiB .. 1 GiB) so callers can split accesses at page
 * ends; -EFAULT if the address is not mapped.
 */
int gdb_gva2gpa(const struct guest_mem *m, const struct gdb_mmu *mmu,
    uint64_t gva, uint64_t *gpa, uint64_t *page);

#endif
