/*
 * loader_priv.h - what the direct-boot format modules (bzimage.c, pvh.c,
 * multiboot.c, elf.c) share with loader.c.  Not part of the loader's
 * public interface (loader.h).
 *
 * Trust boundary: `img` and `initrd` are untrusted file contents; every
 * helper below checks guest addresses against RAM (gmem_ptr()) and against
 * the loader's own area (boot_layout.h) before writing.
 */
#ifndef KHYVE_FIRMWARE_LOADER_PRIV_H
#define KHYVE_FIRMWARE_LOADER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/e820.h"
#include "firmware/loader.h"

#define LOADER_4G 0x100000000ULL
#define LOADER_PAGE 4096ULL
#define LOADER_MAX_RANGES 64 /* kernel pieces we track (ELF PT_LOADs) */
#define LOADER_E820_MAX 32   /* e820_build() yields far fewer */

/* A guest-physical range [start, end) the kernel occupies. */
struct loader_range {
	uint64_t start, end;
};

struct loader_ctx {
	const struct guest_mem *mem;
	const uint8_t *img; /* the kernel file, untrusted */
	size_t len;
	const uint8_t *initrd; /* NULL or untrusted contents, initrd_len > 0 */
	size_t initrd_len;
	const char *cmdline; /* never NULL */
	int ncpus;
	struct boot_state *out;
	char *err;
	size_t errlen;
	/* What the kernel occupies, so the initrd can be placed around it. */
	struct loader_range used[LOADER_MAX_RANGES];
	int nused;
};

/* Format a one-line error into c->err and return rc (a negative errno). */
int loader_fail(struct loader_ctx *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Reserve [gpa, gpa + size) for the kernel: it must not wrap (-EINVAL), lie
 * in one RAM region below `limit` (-ERANGE) and stay clear of the loader's
 * area (-ERANGE).  `what` names the piece in the error message.
 */
int loader_claim(struct loader_ctx *c, uint64_t gpa, uint64_t size,
    uint64_t limit, const char *what);

/* Claim [gpa, gpa + memsz), copy filesz bytes from src, zero the rest. */
int loader_copy(struct loader_ctx *c, uint64_t gpa, const uint8_t *src,
    uint64_t filesz, uint64_t memsz, uint64_t limit, const char *what);

/*
 * Put the initrd (if any) page aligned as high as possible in [lo, top),
 * clear of the kernel's ranges.  *gpa = 0 when there is no initrd.
 */
int loader_place_initrd(struct loader_ctx *c, uint64_t lo, uint64_t top,
    uint64_t *gpa);

/* Write the command line at BOOT_CMDLINE_ADDR; longer than max_len -> -EINVAL. */
int loader_put_cmdline(struct loader_ctx *c, uint64_t max_len);

/*
 * Enter the kernel at `rip` in `mode`: write the GDT (0x10 code, 64-bit in
 * BOOT_MODE_LONG64; 0x18 data), for BOOT_MODE_LONG64 also page tables
 * identity-mapping 0-4 GiB with 2 MiB pages, and fill c->out's mode, rip,
 * rsp, GDTR, selectors and cr3.  Registers are the caller's business.
 */
int loader_set_entry(struct loader_ctx *c, enum boot_mode mode, uint64_t rip);

/*
 * The ACPI RSDP's guest address, found as a guest would (the "RSD PTR "
 * signature on a 16-byte boundary in 0xE0000-0xFFFFF with a valid
 * ACPI 1.0 checksum; fwtables_build() put it there), or 0 without ACPI.
 */
uint64_t loader_rsdp(struct loader_ctx *c);

/* e820_build() for the guest, with a sanity check on the count. */
int loader_e820(struct loader_ctx *c, struct e820_entry *tab, int max);

/* Little-endian reads from an untrusted buffer; caller checks bounds. */
static inline uint16_t loader_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t loader_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t loader_rd64(const uint8_t *p)
{
	return (uint64_t)loader_rd32(p) | (uint64_t)loader_rd32(p + 4) << 32;
}

static inline void loader_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void loader_wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void loader_wr64(uint8_t *p, uint64_t v)
{
	loader_wr32(p, (uint32_t)v);
	loader_wr32(p + 4, (uint32_t)(v >> 32));
}

/* The formats (detection order: bzImage, PVH ELF, multiboot). */
bool bzimage_probe(const uint8_t *img, size_t len);
int bzimage_load(struct loader_ctx *c);
/* 0 and *entry if img is an ELF with a PVH note, -ENOENT if not, else error. */
int pvh_probe(struct loader_ctx *c, uint32_t *entry);
int pvh_load(struct loader_ctx *c, uint32_t entry);
/* 0 and *hdr_off if a valid multiboot header is in the first 8 KiB. */
int multiboot_probe(const uint8_t *img, size_t len, size_t *hdr_off);
int multiboot_load(struct loader_ctx *c, size_t hdr_off);

#endif
