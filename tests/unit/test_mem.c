/* test_mem.c - guest memory layout, checked translation and allocation
 * (vmm/mem.c). */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "test.h"
#include "vmm/mem.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

TEST(mem_layout)
{
	struct guest_mem m;

	gmem_layout(&m, 128 * MiB);
	CHECK_EQ(m.nregions, 1);
	CHECK_EQ(m.lowmem, 128 * MiB);
	CHECK_EQ(m.highmem, 0);
	CHECK_EQ(m.r[0].gpa, 0);
	CHECK_EQ(m.r[0].size, 128 * MiB);
	CHECK(m.r[0].host == NULL);

	gmem_layout(&m, 3 * GiB);
	CHECK_EQ(m.nregions, 1);
	CHECK_EQ(m.lowmem, 3 * GiB);
	CHECK_EQ(m.highmem, 0);

	gmem_layout(&m, 3 * GiB + 4096);
	CHECK_EQ(m.nregions, 2);
	CHECK_EQ(m.lowmem, GMEM_LOWMEM_LIMIT);
	CHECK_EQ(m.highmem, 4096);
	CHECK_EQ(m.r[1].gpa, GMEM_HIGHMEM_BASE);
	CHECK_EQ(m.r[1].size, 4096);

	gmem_layout(&m, 8 * GiB);
	CHECK_EQ(m.lowmem, 3 * GiB);
	CHECK_EQ(m.highmem, 5 * GiB);
	CHECK_EQ(gmem_size(&m), 8 * GiB);

	gmem_layout(&m, 0);
	CHECK_EQ(m.nregions, 0);
	CHECK(gmem_ptr(&m, 0, 1) == NULL);
}

/* gmem_ptr() only computes addresses, so fake host bases suffice. */
TEST(mem_ptr_bounds)
{
	struct guest_mem m;
	uint8_t *lo = (uint8_t *)0x10000000, *hi = (uint8_t *)0x700000000000;

	gmem_layout(&m, 4 * GiB);
	m.r[0].host = lo;
	m.r[1].host = hi;

	CHECK(gmem_ptr(&m, 0, 1) == lo);
	CHECK(gmem_ptr(&m, 0, 0) == lo); /* len 0 counts as 1 */
	CHECK(gmem_ptr(&m, 3 * GiB - 1, 1) == lo + 3 * GiB - 1);
	CHECK(gmem_ptr(&m, 3 * GiB - 1, 0) == lo + 3 * GiB - 1);
	CHECK(gmem_ptr(&m, 0, 3 * GiB) == lo);
	CHECK(gmem_ptr(&m, 0, 3 * GiB + 1) == NULL);
	CHECK(gmem_ptr(&m, 3 * GiB - 1, 2) == NULL); /* crosses the end */
	CHECK(gmem_ptr(&m, 3 * GiB, 1) == NULL);     /* the PCI hole */
	CHECK(gmem_ptr(&m, 4 * GiB - 1, 1) == NULL);
	CHECK(gmem_ptr(&m, 4 * GiB - 1, 2) == NULL); /* hole into high RAM */
	CHECK(gmem_ptr(&m, 3 * GiB - 8, 2 * GiB) == NULL); /* spans both */
	CHECK(gmem_ptr(&m, 4 * GiB, 1) == hi);
	CHECK(gmem_ptr(&m, 5 * GiB - 1, 1) == hi + GiB - 1);
	CHECK(gmem_ptr(&m, 5 * GiB - 1, 2) == NULL);
	CHECK(gmem_ptr(&m, 5 * GiB, 1) == NULL);
	/* wrap-around and absurd lengths */
	CHECK(gmem_ptr(&m, UINT64_MAX, 1) == NULL);
	CHECK(gmem_ptr(&m, UINT64_MAX, 2) == NULL);
	CHECK(gmem_ptr(&m, 16, UINT64_MAX) == NULL);
	CHECK(gmem_ptr(&m, 16, UINT64_MAX - 15) == NULL);
	CHECK(gmem_ptr(&m, 4 * GiB + 16, UINT64_MAX - 4 * GiB) == NULL);
	CHECK(gmem_ptr(NULL, 0, 1) == NULL);
	/* a corrupt region count is not trusted */
	m.nregions = 7;
	CHECK(gmem_ptr(&m, 0, 1) == NULL);
	m.nregions = -1;
	CHECK(gmem_ptr(&m, 0, 1) == NULL);
}

TEST(mem_alloc_rw_free)
{
	struct guest_mem m;
	uint8_t buf[16], out[16];
	uint8_t *p;

	CHECK_EQ(gmem_alloc(&m, 8 * MiB, 0, 0), 0);
	CHECK_EQ(m.nregions, 1);
	CHECK(m.r[0].host != NULL);
	CHECK_EQ((uintptr_t)m.r[0].host % (2 * MiB), 0); /* THP aligned */
	p = gmem_ptr(&m, 8 * MiB - 1, 1);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_EQ(*p, 0); /* fresh memory is zero */
		*p = 0x5a;       /* and writable to the very last byte */
	}
	for (int i = 0; i < 16; i++)
		buf[i] = (uint8_t)(i * 3);
	CHECK_EQ(gmem_write(&m, 0x1000, buf, sizeof(buf)), 0);
	CHECK_EQ(gmem_read(&m, 0x1000, out, sizeof(out)), 0);
	CHECK(memcmp(buf, out, sizeof(buf)) == 0);
	CHECK_EQ(gmem_write(&m, 8 * MiB - 8, buf, sizeof(buf)), -EFAULT);
	CHECK_EQ(gmem_read(&m, 8 * MiB - 8, out, sizeof(out)), -EFAULT);
	CHECK_EQ(gmem_write(&m, UINT64_MAX - 4, buf, sizeof(buf)), -EFAULT);
	CHECK_EQ(gmem_write(&m, 8 * MiB, buf, 0), 0); /* nothing to copy */
	gmem_free(&m);
	CHECK_EQ(m.nregions, 0);
	CHECK(m.r[0].host == NULL);
	CHECK(gmem_ptr(&m, 0, 1) == NULL);
	gmem_free(&m); /* idempotent */

	CHECK_EQ(gmem_alloc(&m, 4 * MiB, 0, 1), 0); /* -C: keep in dumps */
	gmem_free(&m);
}

TEST(mem_alloc_rejects)
{
	struct guest_mem m;

	CHECK_EQ(gmem_alloc(&m, 0, 0, 0), -EINVAL);
	CHECK_EQ(gmem_alloc(&m, 4096 + 1, 0, 0), -EINVAL);
	CHECK_EQ(gmem_alloc(&m, UINT64_MAX & ~4095ULL, 0, 0), -EINVAL);
	/* Far more than any host commits to: fails, leaves nothing. */
	CHECK(gmem_alloc(&m, 1ULL << 52, 0, 0) < 0);
	CHECK_EQ(m.nregions, 0);
	CHECK(m.r[0].host == NULL && m.r[1].host == NULL);
}

TEST(mem_alloc_wired)
{
	struct guest_mem m;
	int rc = gmem_alloc(&m, 2 * MiB, 1, 0);

	/* -S may be refused by RLIMIT_MEMLOCK; then nothing stays mapped. */
	if (rc == 0) {
		CHECK(gmem_ptr(&m, 0, 2 * MiB) != NULL);
		gmem_free(&m);
	} else {
		CHECK(rc == -ENOMEM || rc == -EPERM || rc == -EAGAIN);
		CHECK_EQ(m.nregions, 0);
		CHECK(m.r[0].host == NULL);
	}
}
