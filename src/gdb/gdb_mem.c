/*
 * gdb_mem.c - page-table walk for the debugger (see gdb_mem.h).
 * Formats: Intel SDM vol. 3A chapter 4 (paging), AMD APM vol. 2 ch. 5.
 */
#include <errno.h>
#include <stdbool.h>

#include "gdb/gdb_mem.h"

#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LMA (1ULL << 10)

#define PTE_P (1ULL << 0)
#define PTE_PS (1ULL << 7)
/* Physical address bits 51:12 of an entry (the architectural maximum). */
#define PTE_ADDR 0x000ffffffffff000ULL

#define KiB4 0x1000ULL
#define MiB2 0x200000ULL
#define MiB4 0x400000ULL
#define GiB1 0x40000000ULL

enum gdb_paging gdb_paging_mode(const struct gdb_mmu *mmu)
{
	if (!(mmu->cr0 & CR0_PG))
		return GDB_PAGING_NONE;
	if (!(mmu->cr4 & CR4_PAE))
		return GDB_PAGING_32;
	if (mmu->efer & EFER_LMA)
		return (mmu->cr4 & CR4_LA57) ? GDB_PAGING_5LEVEL :
		    GDB_PAGING_4LEVEL;
	return GDB_PAGING_PAE;
}

static int read32(const struct guest_mem *m, uint64_t gpa, uint64_t *v)
{
	uint32_t e;

	if (gmem_read(m, gpa, &e, sizeof(e)) != 0)
		return -EFAULT;
	*v = e;
	return 0;
}

static int read64(const struct guest_mem *m, uint64_t gpa, uint64_t *v)
{
	return gmem_read(m, gpa, v, sizeof(*v)) != 0 ? -EFAULT : 0;
}

static int walk32(const struct guest_mem *m, const struct gdb_mmu *mmu,
    uint32_t va, uint64_t *gpa, uint64_t *page)
{
	uint64_t pde, pte;

	if (read32(m, (mmu->cr3 & 0xfffff000u) + ((va >> 22) << 2), &pde) ||
	    !(pde & PTE_P))
		return -EFAULT;
	if ((pde & PTE_PS) && (mmu->cr4 & CR4_PSE)) {
		/* 4 MiB page; PSE-36 puts address bits 39:32 in 20:13. */
		*gpa = (pde & 0xffc00000u) | (((pde >> 13) & 0xff) << 32) |
		    (va & (MiB4 - 1));
		*page = MiB4;
		return 0;
	}
	if (read32(m, (pde & 0xfffff000u) + (((va >> 12) & 0x3ff) << 2),
		&pte) || !(pte & PTE_P))
		return -EFAULT;
	*gpa = (pte & 0xfffff000u) | (va & (KiB4 - 1));
	*page = KiB4;
	return 0;
}

/*
 * The page directory and page table levels, the same in PAE and long
 * mode: `pd` is the entry (a PDPTE) that points to the page directory.
 */
static int walk_pd(const struct guest_mem *m, uint64_t pd, uint64_t va,
    uint64_t *gpa, uint64_t *page)
{
	uint64_t pde, pte;

	if (read64(m, (pd & PTE_ADDR) + (((va >> 21) & 0x1ff) << 3), &pde) ||
	    !(pde & PTE_P))
		return -EFAULT;
	if (pde & PTE_PS) {
		*gpa = (pde & PTE_ADDR & ~(MiB2 - 1)) | (va & (MiB2 - 1));
		*page = MiB2;
		return 0;
	}
	if (read64(m, (pde & PTE_ADDR) + (((va >> 12) & 0x1ff) << 3), &pte) ||
	    !(pte & PTE_P))
		return -EFAULT;
	*gpa = (pte & PTE_ADDR) | (va & (KiB4 - 1));
	*page = KiB4;
	return 0;
}

static int walk_pae(const struct guest_mem *m, const struct gdb_mmu *mmu,
    uint32_t va, uint64_t *gpa, uint64_t *page)
{
	uint64_t pdpte;

	/* CR3 bits 31:5 locate the four-entry PDPT. */
	if (read64(m, (mmu->cr3 & 0xffffffe0u) + ((uint64_t)(va >> 30) << 3),
		&pdpte) || !(pdpte & PTE_P))
		return -EFAULT;
	return walk_pd(m, pdpte, va, gpa, page);
}

static int walk_long(const struct guest_mem *m, const struct gdb_mmu *mmu,
    uint64_t va, bool la57, uint64_t *gpa, uint64_t *page)
{
	int bits = la57 ? 57 : 48;
	uint64_t table = mmu->cr3, e;
	int64_t sx = (int64_t)(va << (64 - bits)) >> (64 - bits);

	if ((uint64_t)sx != va)
		return -EFAULT; /* not canonical */
	/* PML5 (if LA57), PML4, then the PDPT, which may map 1 GiB. */
	for (int shift = la57 ? 48 : 39; shift >= 30; shift -= 9) {
		if (read64(m, (table & PTE_ADDR) + (((va >> shift) & 0x1ff)
			<< 3), &e) || !(e & PTE_P))
			return -EFAULT;
		if (shift == 30 && (e & PTE_PS)) {
			*gpa = (e & PTE_ADDR & ~(GiB1 - 1)) | (va & (GiB1 - 1));
			*page = GiB1;
			return 0;
		}
		table = e;
	}
	return walk_pd(m, table, va, gpa, page);
}

int gdb_gva2gpa(const struct guest_mem *m, const struct gdb_mmu *mmu,
    uint64_t gva, uint64_t *gpa, uint64_t *page)
{
	switch (gdb_paging_mode(mmu)) {
	case GDB_PAGING_NONE:
		/* Outside long mode linear addresses have 32 bits; with
		 * paging off long mode cannot be active. */
		*gpa = gva & 0xffffffffu;
		*page = KiB4;
		return 0;
	case GDB_PAGING_32:
		return walk32(m, mmu, (uint32_t)gva, gpa, page);
	case GDB_PAGING_PAE:
		return walk_pae(m, mmu, (uint32_t)gva, gpa, page);
	case GDB_PAGING_4LEVEL:
		return walk_long(m, mmu, gva, false, gpa, page);
	case GDB_PAGING_5LEVEL:
		return walk_long(m, mmu, gva, true, gpa, page);
	}
	return -EFAULT;
}
