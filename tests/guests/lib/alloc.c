/*
 * alloc.c - a bump allocator for memory a device reads or writes (rings,
 * buffers).  It hands out zeroed physical memory (paging is off: the
 * pointer is the guest-physical address) from the first page after the
 * program's image and stacks; nothing is ever freed.  The boot
 * information was copied out of low memory before any program runs, and
 * the loader puts nothing after _end but modules (checked below).
 */
#include "guest.h"

extern char _end[];
static uintptr_t next;

void *palloc(size_t size, size_t align)
{
	uintptr_t p;

	if (next == 0) {
		next = ((uintptr_t)_end + 0xfff) & ~(uintptr_t)0xfff;
		/* Start above any module the loader placed after us. */
		for (int i = 0; i < boot.nmods; i++) {
			uint64_t end = boot.mods[i].start + boot.mods[i].size;

			if (end > next && end < 0xc0000000u)
				next = ((uintptr_t)end + 0xfff) & ~(uintptr_t)0xfff;
		}
	}
	if (align < 16)
		align = 16;
	p = (next + align - 1) & ~(uintptr_t)(align - 1);
	next = p + size;
	memset((void *)p, 0, size);
	return (void *)p;
}
