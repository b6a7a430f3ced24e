/* test_gdb_mem.c - the debugger's page-table walk (gdb/gdb_mem.c) over
 * fake page tables in guard-paged guest RAM, in every paging mode. */
#include <errno.h>

#include "gdb/gdb_mem.h"
#include "loader_fixture.h"
#include "test.h"

#define P 0x1ULL
#define RW 0x2ULL
#define PS 0x80ULL
#define NX (1ULL << 63)

#define CR0_PE 0x1ULL
#define CR0_PG 0x80000000ULL
#define CR4_PSE 0x10ULL
#define CR4_PAE 0x20ULL
#define CR4_LA57 0x1000ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

static void w32(struct fx_mem *t, uint64_t gpa, uint32_t v)
{
	fx_w32(gmem_ptr(&t->m, gpa, 4), v);
}

static void w64(struct fx_mem *t, uint64_t gpa, uint64_t v)
{
	fx_w64(gmem_ptr(&t->m, gpa, 8), v);
}

/* Translate; returns the gpa, or ~0 when unmapped. */
static uint64_t xl(struct fx_mem *t, const struct gdb_mmu *mmu, uint64_t va,
    uint64_t *page)
{
	uint64_t gpa = 0, pg = 0;

	if (gdb_gva2gpa(&t->m, mmu, va, &gpa, &pg) != 0)
		return ~0ULL;
	if (page)
		*page = pg;
	return gpa;
}

TEST(gdb_mem_mode)
{
	struct gdb_mmu m = { 0 };

	CHECK_EQ(gdb_paging_mode(&m), GDB_PAGING_NONE);
	m.cr0 = CR0_PE;
	CHECK_EQ(gdb_paging_mode(&m), GDB_PAGING_NONE);
	m.cr0 |= CR0_PG;
	CHECK_EQ(gdb_paging_mode(&m), GDB_PAGING_32);
	m.cr4 = CR4_PSE;
	CHECK_EQ(gdb_paging_mode(&m), GDB_PAGING_32);
	m.cr4 = CR4_PAE;
	CHECK_EQ(gdb_paging_mode(&m), GDB_PAGING_PAE);
	m.efer = EFER_LME; /* not active yet */
	CHECK_EQ(gdb_paging_mode(&m), GDB_PAGING_PAE);
	m.efer = EFER_LME | EFER_LMA;
	CHECK_EQ(gdb_paging_mode(&m), GDB_PAGING_4LEVEL);
	m.cr4 |= CR4_LA57;
	CHECK_EQ(gdb_paging_mode(&m), GDB_PAGING_5LEVEL);
}

TEST(gdb_mem_flat)
{
	struct gdb_mmu m = { .cr0 = CR0_PE };
	struct fx_mem t;
	uint64_t pg = 0;

	CHECK_EQ(fx_init(&t, 4 * MiB, 0), 0);
	CHECK_EQ(xl(&t, &m, 0x12345, &pg), 0x12345);
	CHECK_EQ(pg, 4096);
	/* Linear addresses have 32 bits outside long mode. */
	CHECK_EQ(xl(&t, &m, 0xffffffff00012345ULL, NULL), 0x12345);
	/* Flat translation does not need RAM behind it. */
	CHECK_EQ(xl(&t, &m, 0xfee00000, NULL), 0xfee00000);
	fx_fini(&t);
}

TEST(gdb_mem_32bit)
{
	struct gdb_mmu m = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x10000 };
	struct fx_mem t;
	uint64_t pg = 0;

	CHECK_EQ(fx_init(&t, 16 * MiB, 0), 0);
	w32(&t, 0x10000 + 0 * 4, 0x11000 | P | RW);     /* PDE 0 -> PT */
	w32(&t, 0x11000 + 5 * 4, 0x200000 | P);         /* va 0x5000 */
	w32(&t, 0x10000 + 1 * 4, 0x800000 | P | PS);    /* 4 MiB page */
	w32(&t, 0x10000 + 2 * 4, 0xc00000 | (1u << 13) | P | PS); /* PSE-36 */
	w32(&t, 0x10000 + 3 * 4, 0x0ff00000 | P);       /* PT outside RAM */
	w32(&t, 0x11000 + 6 * 4, 0x201000);             /* PTE not present */

	CHECK_EQ(xl(&t, &m, 0x5123, &pg), 0x200123);
	CHECK_EQ(pg, 4096);
	CHECK_EQ(xl(&t, &m, 0xffffffff00005123ULL, NULL), 0x200123);
	CHECK_EQ(xl(&t, &m, 0x6000, NULL), ~0ULL);
	CHECK_EQ(xl(&t, &m, 0x400000 + 0x1234, NULL), ~0ULL); /* no PSE */
	CHECK_EQ(xl(&t, &m, 0xc00000, NULL), ~0ULL);
	CHECK_EQ(xl(&t, &m, 0x1000000, NULL), ~0ULL); /* PDE 4: absent */
	m.cr4 = CR4_PSE;
	CHECK_EQ(xl(&t, &m, 0x400000 + 0x123456, &pg), 0x800000 + 0x123456);
	CHECK_EQ(pg, 4 * MiB);
	CHECK_EQ(xl(&t, &m, 0x800000 + 0x10, NULL), 0x100c00010ULL);
	/* Still 4 KiB pages where PS is clear. */
	CHECK_EQ(xl(&t, &m, 0x5123, NULL), 0x200123);
	/* A page table outside RAM is unmapped, not a crash. */
	CHECK_EQ(xl(&t, &m, 0xc00000 + 0x1000, NULL), ~0ULL);
	m.cr3 = 0xf0000000;
	CHECK_EQ(xl(&t, &m, 0x5123, NULL), ~0ULL);
	fx_fini(&t);
}

TEST(gdb_mem_pae)
{
	struct gdb_mmu m = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x20020,
			     .cr4 = CR4_PAE };
	struct fx_mem t;
	uint64_t pg = 0;

	CHECK_EQ(fx_init(&t, 16 * MiB, 2 * MiB), 0);
	/* PDPT at 0x20020 (32-byte aligned, not page aligned). */
	w64(&t, 0x20020 + 0 * 8, 0x21000 | P);
	w64(&t, 0x21000 + 0 * 8, 0x22000 | P | RW);          /* PD 0 -> PT */
	w64(&t, 0x22000 + 3 * 8, 0x300000 | P | NX);         /* va 0x3000 */
	w64(&t, 0x21000 + 1 * 8, 0x100200000ULL | P | PS);   /* 2 MiB, >4G */
	w64(&t, 0x20020 + 2 * 8, 0x23000 | P);               /* 2..3 GiB */
	w64(&t, 0x23000 + 4 * 8, 0x400000 | P | PS);

	CHECK_EQ(xl(&t, &m, 0x3abc, &pg), 0x300abc);
	CHECK_EQ(pg, 4096);
	CHECK_EQ(xl(&t, &m, 0x200000 + 0x1234, &pg), 0x100201234ULL);
	CHECK_EQ(pg, 2 * MiB);
	CHECK_EQ(xl(&t, &m, 0x80000000 + 4 * 2 * MiB + 7, NULL), 0x400007);
	CHECK_EQ(xl(&t, &m, 0xc0000000, NULL), ~0ULL); /* PDPTE 3 absent */
	CHECK_EQ(xl(&t, &m, 0x4000, NULL), ~0ULL);     /* PTE absent */
	CHECK_EQ(xl(&t, &m, 0x400000, NULL), ~0ULL);   /* PDE absent */
	/* The upper half of a gdb address is dropped (32-bit linear). */
	CHECK_EQ(xl(&t, &m, 0xffffffff00003abcULL, NULL), 0x300abc);
	fx_fini(&t);
}

static void long_tables(struct fx_mem *t)
{
	/* PML4 0x30000: [0] -> PDPT 0x31000, [511] -> PDPT 0x34000 */
	w64(t, 0x30000 + 0 * 8, 0x31000 | P | RW);
	w64(t, 0x31000 + 0 * 8, 0x32000 | P | RW);
	w64(t, 0x32000 + 0 * 8, 0x33000 | P | RW);
	w64(t, 0x33000 + 1 * 8, 0x400000 | P | NX);      /* va 0x1000 */
	w64(t, 0x31000 + 1 * 8, 0x40000000 | P | PS);    /* 1 GiB page */
	w64(t, 0x30000 + 511 * 8, 0x34000 | P);
	w64(t, 0x34000 + 510 * 8, 0x35000 | P);
	w64(t, 0x35000 + 0 * 8, 0x600000 | P | PS);      /* 2 MiB page */
}

TEST(gdb_mem_4level)
{
	struct gdb_mmu m = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x30000 | 0x5,
			     .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA };
	struct fx_mem t;
	uint64_t pg = 0;

	CHECK_EQ(fx_init(&t, 16 * MiB, 0), 0);
	long_tables(&t);
	CHECK_EQ(xl(&t, &m, 0x1fed, &pg), 0x400fed); /* PCID bits ignored */
	CHECK_EQ(pg, 4096);
	CHECK_EQ(xl(&t, &m, 0x40123456, &pg), 0x40123456);
	CHECK_EQ(pg, 1ULL << 30);
	CHECK_EQ(xl(&t, &m, 0x7f000000, NULL), 0x7f000000);
	CHECK_EQ(xl(&t, &m, 0xffffffff80001000ULL, &pg), 0x601000);
	CHECK_EQ(pg, 2 * MiB);
	CHECK_EQ(xl(&t, &m, 0x2000, NULL), ~0ULL);         /* PTE absent */
	CHECK_EQ(xl(&t, &m, 0x80000000, NULL), ~0ULL);     /* PDPTE absent */
	CHECK_EQ(xl(&t, &m, 0x8000000000ULL, NULL), ~0ULL); /* PML4E absent */
	/* Non-canonical addresses are never mapped. */
	CHECK_EQ(xl(&t, &m, 0x0000800000000000ULL, NULL), ~0ULL);
	CHECK_EQ(xl(&t, &m, 0xffff000000001000ULL, NULL), ~0ULL);
	fx_fini(&t);
}

TEST(gdb_mem_5level)
{
	struct gdb_mmu m = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x40000,
			     .cr4 = CR4_PAE | CR4_LA57,
			     .efer = EFER_LME | EFER_LMA };
	struct fx_mem t;

	CHECK_EQ(fx_init(&t, 16 * MiB, 0), 0);
	long_tables(&t);
	w64(&t, 0x40000 + 0 * 8, 0x30000 | P);     /* PML5[0] -> PML4 */
	w64(&t, 0x40000 + 511 * 8, 0x30000 | P);   /* PML5[511] too */
	w64(&t, 0x40000 + 1 * 8, 0x30000 | P);     /* and PML5[1] */
	CHECK_EQ(xl(&t, &m, 0x1fed, NULL), 0x400fed);
	/* Canonical with 57 bits, not with 48. */
	CHECK_EQ(xl(&t, &m, 0x0001000000001fedULL, NULL), 0x400fed);
	CHECK_EQ(xl(&t, &m, 0x0002000000000000ULL, NULL), ~0ULL); /* [2] */
	CHECK_EQ(xl(&t, &m, 0xff7fffff80001000ULL, NULL), ~0ULL);
	CHECK_EQ(xl(&t, &m, 0xffffffff80001000ULL, NULL), 0x601000);
	CHECK_EQ(xl(&t, &m, 0x0100000000000000ULL, NULL), ~0ULL);
	m.cr4 = CR4_PAE; /* the same tables read as 4-level */
	CHECK_EQ(xl(&t, &m, 0x0001000000001fedULL, NULL), ~0ULL);
	fx_fini(&t);
}

/* Page tables are guest data: self-references and junk must terminate. */
TEST(gdb_mem_hostile_tables)
{
	struct gdb_mmu m = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x30000,
			     .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA };
	struct fx_mem t;

	CHECK_EQ(fx_init(&t, 1 * MiB, 0), 0);
	for (int i = 0; i < 512; i++) /* every entry points at itself */
		w64(&t, 0x30000 + (uint64_t)i * 8, 0x30000 | P | RW);
	CHECK_EQ(xl(&t, &m, 0x1000, NULL), 0x30000);
	/* Entries pointing at the last bytes of RAM, and beyond. */
	w64(&t, 0x30000, 0xff000 | P);
	w64(&t, 0xff000, 0xfffffffffffff000ULL | P);
	CHECK_EQ(xl(&t, &m, 0x1000, NULL), ~0ULL);
	m.cr3 = 0x100000 - 8; /* low CR3 bits are flags, not an offset */
	CHECK_EQ(xl(&t, &m, 0x8000000000ULL, NULL), ~0ULL);
	fx_fini(&t);
}
