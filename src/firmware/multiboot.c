/*
 * multiboot.c - Multiboot v1 (Multiboot Specification 0.6.96).
 *
 * The header (magic 0x1BADB002, flags, checksum; 4-byte aligned, wholly
 * in the first 8 KiB) says how to load the image: with flag 16 from its
 * address fields (the "a.out kludge"), else as ELF: ELF32, or ELF64 whose
 * segments and entry lie below 4 GiB (as kvm-unit-tests builds them),
 * segments at p_paddr, entry e_entry translated to physical.
 *
 * Required flags (bits 0-15) we honour: 0 (modules page aligned: always),
 * 1 (memory information: always given).  Bit 2 (video mode table) is
 * accepted and ignored, as QEMU does: the info flags then tell the kernel
 * no video information is present.  Any other bit 0-15 makes loading fail,
 * as the specification demands.
 *
 * Entry: flat 32-bit protected mode, paging off, eax = 0x2BADB002,
 * ebx = the multiboot information (flags MEM, CMDLINE, MODS, MMAP,
 * LOADER_NAME); the initrd is module 0, page aligned, string "initrd".
 */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "firmware/boot_layout.h"
#include "firmware/elf.h"
#include "firmware/loader_priv.h"

#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_SEARCH 8192
#define MB_HDR_MIN 12  /* magic, flags, checksum */
#define MB_HDR_ADDR 32 /* + header/load/load_end/bss_end/entry addr */

#define MB_F_PAGE_ALIGN (1u << 0)
#define MB_F_MEMINFO (1u << 1)
#define MB_F_VIDEO (1u << 2)
#define MB_F_ADDR (1u << 16)
#define MB_F_REQUIRED 0xffffu
#define MB_F_HONOURED (MB_F_PAGE_ALIGN | MB_F_MEMINFO | MB_F_VIDEO)

/* multiboot_info flags and field offsets */
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER (1u << 9)
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE_PTR 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_LOADER_NAME 64
#define MBI_SIZE 88

#define MB_MOD_SIZE 16  /* mod_start, mod_end, string, reserved */
#define MB_MMAP_SIZE 24 /* size (20, excluding itself), addr, len, type */

#define MB_LOADER_NAME "khyve"
#define MB_MOD_STRING "initrd"
#define MB_MOD_STRING_ADDR (BOOT_STR_ADDR + 0x40)

int multiboot_probe(const uint8_t *img, size_t len, size_t *hdr_off)
{
	size_t lim = MIN(len, (size_t)MB_SEARCH);

	if (img == NULL)
		return -ENOENT;
	for (size_t off = 0; off + MB_HDR_MIN <= lim; off += 4) {
		uint32_t magic = loader_rd32(img + off);
		uint32_t flags = loader_rd32(img + off + 4);
		uint32_t sum = loader_rd32(img + off + 8);

		/* unsigned arithmetic: the three words sum to 0 mod 2^32 */
		if (magic == MB_HEADER_MAGIC && magic + flags + sum == 0) {
			*hdr_off = off;
			return 0;
		}
	}
	return -ENOENT;
}

/* Load from the header's address fields (flag 16). */
static int load_addr_fields(struct loader_ctx *c, size_t off, uint64_t *entry)
{
	const uint8_t *h = c->img + off;
	uint32_t header_addr, load_addr, load_end, bss_end;
	uint64_t load_off, load_size, memsz;

	if (off + MB_HDR_ADDR > MIN(c->len, (size_t)MB_SEARCH))
		return loader_fail(c, -EINVAL, "multiboot: address fields of "
		    "the header at 0x%zx lie outside the first 8 KiB or the "
		    "file", off);
	header_addr = loader_rd32(h + 12);
	load_addr = loader_rd32(h + 16);
	load_end = loader_rd32(h + 20);
	bss_end = loader_rd32(h + 24);
	*entry = loader_rd32(h + 28);

	/* header_addr maps the header's file offset to memory, so the text
	 * starts (header_addr - load_addr) bytes before the header. */
	if (load_addr > header_addr || header_addr - load_addr > off)
		return loader_fail(c, -EINVAL, "multiboot: load_addr 0x%x and "
		    "header_addr 0x%x do not fit the header's file offset 0x%zx",
		    load_addr, header_addr, off);
	load_off = off - (header_addr - load_addr);
	if (load_end == 0) {
		load_size = c->len - load_off;
	} else {
		if (load_end < load_addr)
			return loader_fail(c, -EINVAL, "multiboot: "
			    "load_end_addr 0x%x is below load_addr 0x%x",
			    load_end, load_addr);
		load_size = (uint64_t)load_end - load_addr;
		if (load_size > c->len - load_off)
			return loader_fail(c, -EINVAL, "multiboot: load_addr-"
			    "load_end_addr (0x%llx bytes) extends past the end "
			    "of the file", (unsigned long long)load_size);
	}
	memsz = load_size;
	if (bss_end != 0) {
		if ((uint64_t)bss_end < (uint64_t)load_addr + load_size)
			return loader_fail(c, -EINVAL, "multiboot: bss_end_addr "
			    "0x%x is below the end of the loaded image", bss_end);
		memsz = (uint64_t)bss_end - load_addr;
	}
	return loader_copy(c, load_addr, c->img + load_off, load_size, memsz,
	    LOADER_4G, "multiboot image");
}

static int load_elf(struct loader_ctx *c, uint64_t *entry)
{
	struct elf_image e;
	uint64_t end;
	int rc;

	rc = elf_parse(c, &e);
	if (rc == -ENOEXEC)
		return loader_fail(c, -EINVAL, "multiboot: the header has no "
		    "address fields (flag 16) and the file is not ELF");
	if (rc != 0)
		return rc;
	if ((rc = elf_load(c, &e, LOADER_4G, &end)) != 0)
		return rc;
	*entry = elf_entry_paddr(&e);
	return 0;
}

static int put_mmap(struct loader_ctx *c, uint32_t *length)
{
	struct e820_entry tab[LOADER_E820_MAX];
	uint8_t raw[LOADER_E820_MAX * MB_MMAP_SIZE];
	int n = loader_e820(c, tab, LOADER_E820_MAX);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		uint8_t *p = raw + i * MB_MMAP_SIZE;

		loader_wr32(p, MB_MMAP_SIZE - 4);
		loader_wr64(p + 4, tab[i].addr);
		loader_wr64(p + 12, tab[i].size);
		loader_wr32(p + 20, tab[i].type);
	}
	_Static_assert(sizeof(raw) <= BOOT_MMAP_SIZE, "mmap area too small");
	if (gmem_write(c->mem, BOOT_MMAP_ADDR, raw,
	    (size_t)n * MB_MMAP_SIZE) != 0)
		return loader_fail(c, -ERANGE, "no guest RAM for the mmap");
	*length = (uint32_t)n * MB_MMAP_SIZE;
	return 0;
}

static int put_info(struct loader_ctx *c, uint64_t rd, uint32_t mmap_len)
{
	uint64_t low = MIN(c->mem->lowmem, LOADER_4G);
	uint8_t mbi[MBI_SIZE], mod[MB_MOD_SIZE];

	if (gmem_write(c->mem, BOOT_STR_ADDR, MB_LOADER_NAME,
	    sizeof(MB_LOADER_NAME)) != 0 ||
	    gmem_write(c->mem, MB_MOD_STRING_ADDR, MB_MOD_STRING,
	    sizeof(MB_MOD_STRING)) != 0)
		return loader_fail(c, -ERANGE, "no guest RAM for strings");
	if (rd != 0) {
		/* loader_place_initrd() put it below 4 GiB: fits 32 bits. */
		loader_wr32(mod, (uint32_t)rd);
		loader_wr32(mod + 4, (uint32_t)(rd + c->initrd_len));
		loader_wr32(mod + 8, (uint32_t)MB_MOD_STRING_ADDR);
		loader_wr32(mod + 12, 0);
		if (gmem_write(c->mem, BOOT_MODS_ADDR, mod, sizeof(mod)) != 0)
			return loader_fail(c, -ERANGE, "no guest RAM for the "
			    "module list");
	}
	memset(mbi, 0, sizeof(mbi));
	loader_wr32(mbi + MBI_FLAGS, MBI_MEM | MBI_CMDLINE | MBI_MODS |
	    MBI_MMAP | MBI_LOADER);
	/* KiB of conventional memory, and of RAM from 1 MiB to the first
	 * hole (lowmem <= 3 GiB, so both fit 32 bits). */
	loader_wr32(mbi + MBI_MEM_LOWER, (uint32_t)(MIN(low, 0xA0000) >> 10));
	loader_wr32(mbi + MBI_MEM_UPPER,
	    low > 0x100000 ? (uint32_t)((low - 0x100000) >> 10) : 0);
	loader_wr32(mbi + MBI_CMDLINE_PTR, (uint32_t)BOOT_CMDLINE_ADDR);
	loader_wr32(mbi + MBI_MODS_COUNT, rd != 0 ? 1 : 0);
	loader_wr32(mbi + MBI_MODS_ADDR, (uint32_t)BOOT_MODS_ADDR);
	loader_wr32(mbi + MBI_MMAP_LENGTH, mmap_len);
	loader_wr32(mbi + MBI_MMAP_ADDR, (uint32_t)BOOT_MMAP_ADDR);
	loader_wr32(mbi + MBI_LOADER_NAME, (uint32_t)BOOT_STR_ADDR);
	if (gmem_write(c->mem, BOOT_INFO_ADDR, mbi, sizeof(mbi)) != 0)
		return loader_fail(c, -ERANGE, "no guest RAM for the multiboot "
		    "information");
	return 0;
}

int multiboot_load(struct loader_ctx *c, size_t off)
{
	uint32_t flags = loader_rd32(c->img + off + 4), mmap_len = 0;
	uint64_t entry = 0, rd;
	int rc;

	if (flags & MB_F_REQUIRED & ~MB_F_HONOURED)
		return loader_fail(c, -EINVAL, "multiboot: the header requires "
		    "features khyve does not provide (flags 0x%x)",
		    flags & MB_F_REQUIRED & ~MB_F_HONOURED);
	rc = (flags & MB_F_ADDR) ? load_addr_fields(c, off, &entry)
				 : load_elf(c, &entry);
	if (rc != 0)
		return rc;
	if (entry >= LOADER_4G)
		return loader_fail(c, -EINVAL, "multiboot: entry 0x%llx is above "
		    "4 GiB", (unsigned long long)entry);
	if (gmem_ptr(c->mem, entry, 1) == NULL)
		return loader_fail(c, -ERANGE, "multiboot: entry 0x%llx is "
		    "outside guest RAM", (unsigned long long)entry);
	if ((rc = loader_put_cmdline(c, BOOT_CMDLINE_MAX - 1)) != 0)
		return rc;
	rc = loader_place_initrd(c, BOOT_LOW_RESERVED,
	    MIN(c->mem->lowmem, LOADER_4G), &rd);
	if (rc != 0)
		return rc;
	if ((rc = put_mmap(c, &mmap_len)) != 0 ||
	    (rc = put_info(c, rd, mmap_len)) != 0)
		return rc;
	if ((rc = loader_set_entry(c, BOOT_MODE_PROT32, entry)) != 0)
		return rc;
	c->out->rax = MB_BOOT_MAGIC;
	c->out->rbx = BOOT_INFO_ADDR;
	c->out->format = "multiboot";
	return 0;
}
