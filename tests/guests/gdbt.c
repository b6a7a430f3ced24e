/*
 * gdbt.elf - a guest for the gdb stub tests (tests/integration/t-gdb.sh).
 *
 * It has symbols (and line information: built with -g) for gdb to use:
 * gdbt_value, a variable the debugger reads and rewrites; gdbt_break(), a
 * function to break on; gdbt_hw(), for a hardware breakpoint; and
 * gdbt_counter, written three times in gdbt_count(), for a watchpoint.
 *
 * Command line: "cpus=N" starts the APs first (they halt), so the
 * debugger sees N threads; "spin" waits in gdbt_spin() until the debugger
 * sets gdbt_go; "paging=32" or "paging=pae" turns paging on,
 * with low memory identity mapped, an alias of the first 128 MiB at
 * GDBT_ALIAS and nothing mapped at GDBT_HOLE, so the debugger's reads go
 * through the page tables.
 *
 * Prints "gdbt: start value=V", then "gdbt: value=V" after gdbt_break()
 * returns (V as the debugger left it) and exits through pc-testdev
 * (status 33).
 */
#include "guest.h"

#define GDBT_ALIAS 0x80000000u /* + physical address, first 128 MiB */
#define GDBT_HOLE 0xc0000000u  /* not mapped */
#define CR0_PG 0x80000000u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u
#define PTE_P 0x1u
#define PTE_W 0x2u
#define PTE_PS 0x80u

volatile uint32_t gdbt_value = 42;
volatile uint32_t gdbt_counter;
volatile uint32_t gdbt_seen;
volatile uint32_t gdbt_go; /* "spin": the debugger sets it to go on */

/* Page tables: 32-bit (one directory of 4 MiB pages) or PAE (a PDPT and
 * four directories of 2 MiB pages). */
static uint32_t pd32[1024] __attribute__((aligned(4096)));
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pdpae[4][512] __attribute__((aligned(4096)));

/* Which physical 4 MiB (2 MiB) frame maps virtual page i, or -1. */
static int64_t frame(uint64_t va)
{
	if (va < GDBT_ALIAS)
		return (int64_t)va; /* identity: RAM */
	if (va < GDBT_ALIAS + (128u << 20))
		return (int64_t)(va - GDBT_ALIAS);
	if (va >= 0xfc000000u)
		return (int64_t)va; /* identity: local APIC, I/O APIC */
	return -1;                  /* includes GDBT_HOLE */
}

static void paging_on(const char *mode)
{
	uint32_t cr0, cr4;

	if (strcmp(mode, "32") == 0) {
		for (uint32_t i = 0; i < 1024; i++) {
			int64_t f = frame((uint64_t)i << 22);

			pd32[i] = f < 0 ? 0 : (uint32_t)f | PTE_P | PTE_W | PTE_PS;
		}
		__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PSE));
		__asm__ volatile("mov %0, %%cr3" : : "r"(pd32) : "memory");
	} else if (strcmp(mode, "pae") == 0) {
		for (uint32_t d = 0; d < 4; d++) {
			for (uint32_t i = 0; i < 512; i++) {
				int64_t f = frame(((uint64_t)d << 30) |
				    ((uint64_t)i << 21));

				pdpae[d][i] = f < 0 ? 0 :
				    (uint64_t)f | PTE_P | PTE_W | PTE_PS;
			}
			pdpt[d] = (uint32_t)pdpae[d] | PTE_P;
		}
		__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PAE));
		__asm__ volatile("mov %0, %%cr3" : : "r"(pdpt) : "memory");
	} else {
		printf("gdbt: unknown paging=%s\n", mode);
		finish(GX_FAIL);
	}
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_PG) : "memory");
	printf("gdbt: paging %s on, alias of value at 0x%x reads %u\n", mode,
	    GDBT_ALIAS + (uint32_t)&gdbt_value,
	    *(volatile uint32_t *)(GDBT_ALIAS + (uint32_t)&gdbt_value));
}

__attribute__((noinline)) void gdbt_spin(void)
{
	while (!gdbt_go)
		cpu_relax();
}

__attribute__((noinline)) void gdbt_break(uint32_t v)
{
	gdbt_seen = v;
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void gdbt_hw(void)
{
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void gdbt_count(void)
{
	for (int i = 0; i < 3; i++)
		gdbt_counter = gdbt_counter + 1;
}

void guest_main(void)
{
	int cpus = (int)cmd_num("cpus", 1);
	char mode[8];

	if (cpus > 1)
		printf("gdbt: %d cpus up\n", smp_boot(cpus, 20000, 1000));
	if (cmd_get("paging", mode, sizeof(mode)))
		paging_on(mode);
	if (cmd_has("spin")) {
		printf("gdbt: spinning\n");
		gdbt_spin();
	}
	printf("gdbt: start value=%u\n", gdbt_value);
	gdbt_break(gdbt_value);
	gdbt_hw();
	gdbt_count();
	printf("gdbt: value=%u counter=%u\n", gdbt_value, gdbt_counter);
	finish(GX_OK);
}
