/* test_e820.c - the guest memory map (firmware/e820.c). */
#include <stdint.h>

#include "firmware/e820.h"
#include "test.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Sorted, non-overlapping, non-empty; returns the RAM total. */
static uint64_t check_sane(int *failed, const struct e820_entry *e, int n)
{
	uint64_t ram = 0;

	for (int i = 0; i < n; i++) {
		CHECK(e[i].size != 0);
		CHECK(e[i].type == E820_RAM || e[i].type == E820_RESERVED);
		if (i > 0)
			CHECK(e[i].addr >= e[i - 1].addr + e[i - 1].size);
		if (e[i].type == E820_RAM)
			ram += e[i].size;
	}
	return ram;
}

TEST(e820_small_vm)
{
	struct guest_mem m;
	struct e820_entry e[16];
	int n;

	gmem_layout(&m, 128 * MiB);
	n = e820_build(&m, e, 16);
	CHECK_EQ(n, 6);
	CHECK_EQ(e[0].addr, 0);
	CHECK_EQ(e[0].size, 0xA0000);
	CHECK_EQ(e[0].type, E820_RAM);
	CHECK_EQ(e[1].addr, 0xA0000);
	CHECK_EQ(e[1].size, 0x50000);
	CHECK_EQ(e[1].type, E820_RESERVED);
	/* The BIOS area with the firmware tables, on its own. */
	CHECK_EQ(e[2].addr, 0xF0000);
	CHECK_EQ(e[2].size, 0x10000);
	CHECK_EQ(e[2].type, E820_RESERVED);
	CHECK_EQ(e[3].addr, 0x100000);
	CHECK_EQ(e[3].size, 127 * MiB);
	CHECK_EQ(e[3].type, E820_RAM);
	CHECK_EQ(e[4].addr, 0xE0000000);
	CHECK_EQ(e[4].size, 0x10000000);
	CHECK_EQ(e[4].type, E820_RESERVED);
	CHECK_EQ(e[5].addr, 0xFEC00000);
	CHECK_EQ(e[5].addr + e[5].size, 0x100000000);
	CHECK_EQ(e[5].type, E820_RESERVED);
	CHECK_EQ(check_sane(failed, e, n), 128 * MiB - 0x60000);
	CHECK_EQ(sizeof(struct e820_entry), 20); /* the zero page format */
}

TEST(e820_high_vm)
{
	struct guest_mem m;
	struct e820_entry e[16];
	int n;

	gmem_layout(&m, 6 * GiB);
	n = e820_build(&m, e, 16);
	CHECK_EQ(n, 7);
	CHECK_EQ(e[3].addr + e[3].size, 3 * GiB);
	CHECK_EQ(e[6].addr, 4 * GiB);
	CHECK_EQ(e[6].size, 3 * GiB);
	CHECK_EQ(e[6].type, E820_RAM);
	CHECK_EQ(check_sane(failed, e, n), 6 * GiB - 0x60000);
}

TEST(e820_tiny_and_limits)
{
	struct guest_mem m;
	struct e820_entry e[16];
	int n;

	gmem_layout(&m, 512 * 1024); /* below the legacy hole */
	n = e820_build(&m, e, 16);
	CHECK_EQ(n, 5);
	CHECK_EQ(e[0].size, 512 * 1024);
	CHECK_EQ(e[1].type, E820_RESERVED);
	check_sane(failed, e, n);

	gmem_layout(&m, 128 * MiB);
	CHECK_EQ(e820_build(&m, e, 2), 2); /* truncated to the capacity */
	CHECK_EQ(e820_build(&m, e, 0), 0);
	CHECK_EQ(e820_build(&m, NULL, 16), 0);

	/* A hand-made layout whose high RAM would wrap is clamped. */
	gmem_layout(&m, 128 * MiB);
	m.highmem = UINT64_MAX - 100;
	n = e820_build(&m, e, 16);
	CHECK_EQ(n, 7);
	CHECK_EQ(e[6].addr + e[6].size, UINT64_MAX);
}
