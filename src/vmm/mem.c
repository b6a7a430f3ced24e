/*
 * mem.c - guest physical memory: layout, host allocation and the checked
 * guest-physical to host-pointer translation every other module uses.
 *
 * Invariants (hold after gmem_layout()/gmem_alloc()):
 *   - r[0] is low RAM at gpa 0, size lowmem (<= GMEM_LOWMEM_LIMIT);
 *   - r[1], if present, is high RAM at GMEM_HIGHMEM_BASE, size highmem;
 *   - nregions <= GMEM_MAX_REGIONS and regions never overlap.
 * gmem_ptr() nevertheless re-checks every region it looks at without
 * trusting that the caller's address or length are sane: addresses come
 * from the guest or from user-supplied kernel files.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"
#include "vmm/mem.h"

/* THP-friendly alignment of the host mappings (x86-64 PMD size). */
#define GMEM_HOST_ALIGN (2ULL << 20)
#define GMEM_PAGE 4096ULL

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	int n;

	if (m == NULL)
		return NULL;
	if (len == 0)
		len = 1;
	n = m->nregions;
	if (n < 0 || n > GMEM_MAX_REGIONS)
		return NULL;
	for (int i = 0; i < n; i++) {
		const struct gmem_region *r = &m->r[i];
		uint64_t off;

		if (r->host == NULL || gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		/* off < size and len <= size - off: no sum that could wrap. */
		if (off >= r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src,
    size_t len)
{
	void *p;

	if (len == 0)
		return 0;
	p = gmem_ptr(m, gpa, len);
	if (p == NULL)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len)
{
	const void *p;

	if (len == 0)
		return 0;
	p = gmem_ptr(m, gpa, len);
	if (p == NULL)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

void gmem_layout(struct guest_mem *m, uint64_t memsize)
{
	memset(m, 0, sizeof(*m));
	m->lowmem = MIN(memsize, GMEM_LOWMEM_LIMIT);
	m->highmem = memsize - m->lowmem;
	if (m->lowmem != 0) {
		m->r[m->nregions].gpa = 0;
		m->r[m->nregions].size = m->lowmem;
		m->nregions++;
	}
	if (m->highmem != 0) {
		m->r[m->nregions].gpa = GMEM_HIGHMEM_BASE;
		m->r[m->nregions].size = m->highmem;
		m->nregions++;
	}
}

/*
 * Map `size` bytes of committed anonymous memory, aligned to 2 MiB so the
 * kernel can back it with transparent huge pages: over-allocate by the
 * alignment and trim both ends.
 */
static void *map_aligned(uint64_t size)
{
	uint64_t total, head, tail;
	uint8_t *raw, *p;

	if (size > SIZE_MAX - GMEM_HOST_ALIGN)
		return MAP_FAILED;
	total = size + GMEM_HOST_ALIGN;
	raw = mmap(NULL, total, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return MAP_FAILED;
	p = (uint8_t *)ALIGN_UP((uintptr_t)raw, (uintptr_t)GMEM_HOST_ALIGN);
	head = (uint64_t)(p - raw);
	tail = total - head - size;
	if (head != 0)
		munmap(raw, head);
	if (tail != 0)
		munmap(p + size, tail);
	return p;
}

static int region_alloc(struct gmem_region *r, int wire, int dump)
{
	void *p;
	int rc;

	p = map_aligned(r->size);
	if (p == MAP_FAILED)
		return -errno;
	/* Huge pages are an optimisation only: failure (no THP) is fine. */
	(void)madvise(p, r->size, MADV_HUGEPAGE);
	if (!dump && madvise(p, r->size, MADV_DONTDUMP) != 0) {
		rc = -errno;
		goto fail;
	}
	if (wire && mlock(p, r->size) != 0) {
		rc = -errno;
		goto fail;
	}
	r->host = p;
	return 0;

fail:
	munmap(p, r->size);
	return rc;
}

int gmem_alloc(struct guest_mem *m, uint64_t memsize, int wire, int dump)
{
	int rc;

	/* KVM memory slots are page granular; a zero-sized VM is useless.
	 * The high region must not wrap the 64-bit guest physical space. */
	if (memsize == 0 || memsize % GMEM_PAGE != 0 ||
	    memsize > UINT64_MAX - GMEM_HIGHMEM_BASE)
		return -EINVAL;
	gmem_layout(m, memsize);
	for (int i = 0; i < m->nregions; i++) {
		rc = region_alloc(&m->r[i], wire, dump);
		if (rc != 0) {
			gmem_free(m);
			return rc;
		}
	}
	return 0;
}

void gmem_free(struct guest_mem *m)
{
	for (int i = 0; i < GMEM_MAX_REGIONS; i++) {
		struct gmem_region *r = &m->r[i];

		if (r->host != NULL)
			munmap(r->host, r->size);
		r->host = NULL;
	}
	memset(m, 0, sizeof(*m));
}
