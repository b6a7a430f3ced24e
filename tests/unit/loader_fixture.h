/*
 * loader_fixture.h - shared by the loader unit tests (test_loader.c,
 * test_loader_elf.c): a fake guest RAM whose regions are fenced by
 * PROT_NONE guard pages, so any write outside them faults the test run,
 * and little-endian accessors for images and guest memory.
 */
#ifndef KHYVE_TEST_LOADER_FIXTURE_H
#define KHYVE_TEST_LOADER_FIXTURE_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "firmware/loader.h"
#include "vmm/mem.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define FX_PAGE 4096ULL

struct fx_mem {
	struct guest_mem m;
	void *map[GMEM_MAX_REGIONS];
	size_t maplen[GMEM_MAX_REGIONS];
};

static inline uint8_t *fx_guarded(size_t size, void **map, size_t *maplen)
{
	size_t len = size + 2 * FX_PAGE;
	uint8_t *p = mmap(NULL, len, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + FX_PAGE, size, PROT_READ | PROT_WRITE) != 0) {
		munmap(p, len);
		return NULL;
	}
	*map = p;
	*maplen = len;
	return p + FX_PAGE;
}

static inline void fx_fini(struct fx_mem *t)
{
	for (int i = 0; i < GMEM_MAX_REGIONS; i++)
		if (t->map[i] != NULL)
			munmap(t->map[i], t->maplen[i]);
	memset(t, 0, sizeof(*t));
}

/* `low` bytes of RAM at 0 and, if `high`, that many at 4 GiB. */
static inline int fx_init(struct fx_mem *t, uint64_t low, uint64_t high)
{
	memset(t, 0, sizeof(*t));
	t->m.lowmem = low;
	t->m.highmem = high;
	t->m.r[0].gpa = 0;
	t->m.r[0].size = low;
	t->m.r[0].host = fx_guarded(low, &t->map[0], &t->maplen[0]);
	t->m.nregions = 1;
	if (t->m.r[0].host == NULL)
		return -1;
	if (high != 0) {
		t->m.r[1].gpa = GMEM_HIGHMEM_BASE;
		t->m.r[1].size = high;
		t->m.r[1].host = fx_guarded(high, &t->map[1], &t->maplen[1]);
		t->m.nregions = 2;
		if (t->m.r[1].host == NULL) {
			fx_fini(t);
			return -1;
		}
	}
	return 0;
}

static inline void fx_w16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void fx_w32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void fx_w64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Guest reads; unmapped addresses read as all ones. */
static inline uint64_t fx_g(const struct fx_mem *t, uint64_t gpa, size_t n)
{
	uint64_t v = 0;

	if (gmem_read(&t->m, gpa, &v, n) != 0)
		return ~0ULL;
	return v;
}
#define FX_G8(t, a) ((uint8_t)fx_g((t), (a), 1))
#define FX_G16(t, a) ((uint16_t)fx_g((t), (a), 2))
#define FX_G32(t, a) ((uint32_t)fx_g((t), (a), 4))
#define FX_G64(t, a) (fx_g((t), (a), 8))

/* Guest string at gpa (bounded), or "" when unmapped. */
static inline const char *fx_str(const struct fx_mem *t, uint64_t gpa)
{
	const char *s = gmem_ptr(&t->m, gpa, 1);

	return s != NULL ? s : "";
}

/* Does guest [gpa, gpa + n) hold exactly `data`? */
static inline int fx_holds(const struct fx_mem *t, uint64_t gpa,
    const void *data, size_t n)
{
	const void *p = gmem_ptr(&t->m, gpa, n);

	return p != NULL && memcmp(p, data, n) == 0;
}

static inline uint8_t fx_pat(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static inline int fx_load(struct fx_mem *t, const uint8_t *k, size_t klen,
    const uint8_t *rd, size_t rdlen, const char *cmd, struct boot_state *bs,
    char *err, size_t errlen)
{
	return loader_load_buf(&t->m, k, klen, rd, rdlen, cmd, 1, bs, err,
	    errlen);
}

#endif
