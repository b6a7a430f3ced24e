/*
 * pvh.c - PVH direct boot (xen/include/public/arch-x86/hvm/start_info.h):
 * an ELF kernel (ELF32 or ELF64) carrying a XEN_ELFNOTE_PHYS32_ENTRY note
 * is loaded at its segments' physical addresses and entered in flat
 * 32-bit protected mode, paging off, at the note's entry with
 * ebx = the guest-physical address of an hvm_start_info (version 1:
 * with the memory map).  The initrd, if any, is module 0 (no command
 * line); rsdp_paddr is the RSDP khyve built (0 without ACPI).
 */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "firmware/boot_layout.h"
#include "firmware/elf.h"
#include "firmware/loader_priv.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC 0x336ec578u
#define PVH_START_VERSION 1

/* struct hvm_start_info field offsets (all little-endian). */
#define SI_MAGIC 0
#define SI_VERSION 4
#define SI_FLAGS 8
#define SI_NR_MODULES 12
#define SI_MODLIST 16
#define SI_CMDLINE 24
#define SI_RSDP 32
#define SI_MEMMAP 40
#define SI_MEMMAP_ENTRIES 48
#define SI_SIZE 56

#define MOD_SIZE 32    /* hvm_modlist_entry: paddr, size, cmdline, reserved */
#define MEMMAP_SIZE 24 /* hvm_memmap_table_entry: addr, size, type, rsvd */

int pvh_probe(struct loader_ctx *c, uint32_t *entry)
{
	struct elf_image e;
	const uint8_t *desc;
	uint32_t descsz;
	uint64_t v;
	int rc;

	rc = elf_parse(c, &e);
	if (rc == -ENOEXEC)
		return -ENOENT;
	if (rc != 0)
		return rc;
	rc = elf_find_note(c, &e, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &desc,
	    &descsz);
	if (rc != 0)
		return rc;
	/* 32-bit kernels emit a 4-byte entry, Linux x86-64 an 8-byte one. */
	if (descsz == 4)
		v = loader_rd32(desc);
	else if (descsz == 8)
		v = loader_rd64(desc);
	else
		return loader_fail(c, -EINVAL, "PVH: entry note has %u bytes "
		    "(expected 4 or 8)", descsz);
	if (v >= LOADER_4G)
		return loader_fail(c, -EINVAL, "PVH: entry 0x%llx is above "
		    "4 GiB", (unsigned long long)v);
	*entry = (uint32_t)v;
	return 0;
}

static int put_memmap(struct loader_ctx *c, uint32_t *count)
{
	struct e820_entry tab[LOADER_E820_MAX];
	uint8_t raw[LOADER_E820_MAX * MEMMAP_SIZE];
	int n = loader_e820(c, tab, LOADER_E820_MAX);

	if (n < 0)
		return n;
	memset(raw, 0, sizeof(raw));
	for (int i = 0; i < n; i++) {
		uint8_t *p = raw + i * MEMMAP_SIZE;

		loader_wr64(p, tab[i].addr);
		loader_wr64(p + 8, tab[i].size);
		loader_wr32(p + 16, tab[i].type);
	}
	_Static_assert(sizeof(raw) <= BOOT_MMAP_SIZE, "memmap area too small");
	if (gmem_write(c->mem, BOOT_MMAP_ADDR, raw,
	    (size_t)n * MEMMAP_SIZE) != 0)
		return loader_fail(c, -ERANGE, "no guest RAM for the memmap");
	*count = (uint32_t)n;
	return 0;
}

int pvh_load(struct loader_ctx *c, uint32_t entry)
{
	struct elf_image e;
	uint8_t si[SI_SIZE], mod[MOD_SIZE];
	uint64_t end, rd;
	uint32_t nmemmap = 0;
	int rc;

	if ((rc = elf_parse(c, &e)) != 0)
		return rc;
	/* Paging is off at the entry: everything must be below 4 GiB. */
	if ((rc = elf_load(c, &e, LOADER_4G, &end)) != 0)
		return rc;
	if (gmem_ptr(c->mem, entry, 1) == NULL)
		return loader_fail(c, -ERANGE, "PVH: entry 0x%x is outside "
		    "guest RAM", entry);
	if ((rc = loader_put_cmdline(c, BOOT_CMDLINE_MAX - 1)) != 0)
		return rc;
	rc = loader_place_initrd(c, BOOT_LOW_RESERVED,
	    MIN(c->mem->lowmem, LOADER_4G), &rd);
	if (rc != 0)
		return rc;
	if ((rc = put_memmap(c, &nmemmap)) != 0)
		return rc;

	memset(mod, 0, sizeof(mod));
	if (rd != 0) {
		loader_wr64(mod, rd);
		loader_wr64(mod + 8, c->initrd_len);
		/* cmdline_paddr 0: the module has no command line. */
		if (gmem_write(c->mem, BOOT_MODS_ADDR, mod, sizeof(mod)) != 0)
			return loader_fail(c, -ERANGE, "no guest RAM for the "
			    "module list");
	}
	memset(si, 0, sizeof(si));
	loader_wr32(si + SI_MAGIC, PVH_START_MAGIC);
	loader_wr32(si + SI_VERSION, PVH_START_VERSION);
	loader_wr32(si + SI_FLAGS, 0);
	loader_wr32(si + SI_NR_MODULES, rd != 0 ? 1 : 0);
	loader_wr64(si + SI_MODLIST, rd != 0 ? BOOT_MODS_ADDR : 0);
	loader_wr64(si + SI_CMDLINE, BOOT_CMDLINE_ADDR);
	loader_wr64(si + SI_RSDP, loader_rsdp(c));
	loader_wr64(si + SI_MEMMAP, BOOT_MMAP_ADDR);
	loader_wr32(si + SI_MEMMAP_ENTRIES, nmemmap);
	if (gmem_write(c->mem, BOOT_INFO_ADDR, si, sizeof(si)) != 0)
		return loader_fail(c, -ERANGE, "no guest RAM for start_info");

	if ((rc = loader_set_entry(c, BOOT_MODE_PROT32, entry)) != 0)
		return rc;
	c->out->rbx = BOOT_INFO_ADDR;
	c->out->format = "pvh";
	return 0;
}
