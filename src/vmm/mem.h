/*
 * mem.h - guest physical memory as the VMM sees it.
 *
 * Layout (bhyve's): RAM from 0 up to min(memsize, lowmem limit = 3 GiB);
 * the rest of RAM, if any, starts at 4 GiB.  The hole between the lowmem
 * limit and 4 GiB holds the 32-bit PCI window, ECAM, the I/O APIC, HPET,
 * local APICs and the boot ROM.
 *
 * Trust boundary: every guest physical address comes from the guest or a
 * user-supplied file.  gmem_ptr() is the only way to turn one into a host
 * pointer, and it checks that the whole range lies in one RAM region
 * without wrapping.  Code that holds the returned pointer may touch exactly
 * `len` bytes.
 */
#ifndef KHYVE_VMM_MEM_H
#define KHYVE_VMM_MEM_H

#include <stdint.h>
#include <stddef.h>

#define GMEM_LOWMEM_LIMIT 0xC0000000ULL /* 3 GiB, bhyve's VM_LOWMEM_LIMIT */
#define GMEM_HIGHMEM_BASE 0x100000000ULL /* 4 GiB */
#define GMEM_MAX_REGIONS 2

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	struct gmem_region r[GMEM_MAX_REGIONS];
	int nregions;
	uint64_t lowmem;  /* bytes of RAM below 4 GiB, starting at 0 */
	uint64_t highmem; /* bytes of RAM at and above 4 GiB */
};

/*
 * Host pointer for guest range [gpa, gpa + len), or NULL unless the range
 * is non-wrapping and wholly inside one RAM region.  len 0 is treated as 1.
 */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copy to/from guest RAM with the same check; 0 or -EFAULT. */
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src,
    size_t len);
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len);

/* Split a memory size into lowmem/highmem as bhyve does (no allocation). */
void gmem_layout(struct guest_mem *m, uint64_t memsize);

/*
 * Allocate host memory for the layout (anonymous mmap, MAP_NORESERVE off so
 * the host commits to it).  wire: mlock it (-S).  dump: keep it in core
 * dumps (-C), else MADV_DONTDUMP.  Returns 0 or a negative errno; on
 * failure nothing stays allocated.
 */
int gmem_alloc(struct guest_mem *m, uint64_t memsize, int wire, int dump);
void gmem_free(struct guest_mem *m);

/* Total RAM in bytes. */
static inline uint64_t gmem_size(const struct guest_mem *m)
{
	return m->lowmem + m->highmem;
}

#endif
