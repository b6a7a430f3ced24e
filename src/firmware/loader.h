/*
 * loader.h - direct kernel boot: load a kernel file into guest memory and
 * describe the CPU state the BSP must start in.
 *
 * Supported formats, detected from the file's contents (in this order):
 *   - Linux bzImage (x86 boot protocol 2.x: setup header "HdrS");
 *   - ELF64/ELF32 with a PVH note (XEN_ELFNOTE_PHYS32_ENTRY);
 *   - Multiboot v1 (header magic 0x1BADB002 in the first 8 KiB), ELF or
 *     with the a.out kludge (address fields).
 *
 * Trust boundary: the kernel and initrd files are user input; every offset,
 * size and address read from them is checked against the file size and
 * against guest RAM (gmem_ptr()) before use.  A bad file yields -ENOEXEC
 * (unknown format), -EINVAL (malformed/truncated/oversized) or -ERANGE
 * (does not fit in guest RAM), with one line in `err`.
 */
#ifndef KHYVE_FIRMWARE_LOADER_H
#define KHYVE_FIRMWARE_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/mem.h"

struct loader_args {
	const char *kernel;  /* path */
	const char *initrd;  /* path or NULL */
	const char *cmdline; /* may be NULL = "" */
	int ncpus;
};

enum boot_mode {
	BOOT_MODE_PROT32, /* flat 32-bit protected mode, paging off */
	BOOT_MODE_LONG64, /* 64-bit long mode, identity-mapped page tables */
};

/*
 * The BSP's initial state.  The VMM loads flat segments (base 0, limit
 * 4 GiB) with the given selectors, GDTR/CR3 as given, and the registers.
 * Everything not listed is zero, except rflags = 0x2.
 */
struct boot_state {
	enum boot_mode mode;
	uint64_t rip, rsp;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi;
	uint64_t gdt_base; /* a GDT the loader wrote into guest RAM */
	uint16_t gdt_limit;
	uint16_t cs_sel, ds_sel; /* ds_sel is used for DS, ES, FS, GS, SS */
	uint64_t cr3;            /* BOOT_MODE_LONG64 only */
	const char *format;      /* "bzImage", "pvh", "multiboot": for messages */
};

int loader_load(const struct guest_mem *mem, const struct loader_args *args,
    struct boot_state *out, char *err, size_t errlen);

/*
 * The same, from buffers already in memory (used by loader_load() and by
 * the unit tests and fuzz targets).  `initrd` may be NULL.
 */
int loader_load_buf(const struct guest_mem *mem, const uint8_t *kernel,
    size_t kernel_len, const uint8_t *initrd, size_t initrd_len,
    const char *cmdline, int ncpus, struct boot_state *out, char *err,
    size_t errlen);

/* Largest kernel or initrd file accepted (a guard against absurd files). */
#define LOADER_MAX_FILE (1ULL << 30)

#endif
