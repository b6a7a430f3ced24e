/*
 * boot.c - lib_start(): CPU and console setup, then copy what the boot
 * loader passed (multiboot v1 info or PVH hvm_start_info) into `boot`,
 * so the program may reuse low memory (e.g. for the AP trampoline).
 * Every count and string read from the loader's structures is bounded.
 */
#include "guest.h"

struct bootinfo boot;

/* multiboot v1 info (Multiboot Specification 0.6.96, 3.3) */
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER (1u << 9)

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
} __attribute__((packed));

struct mb_mod {
	uint32_t start, end, string, reserved;
} __attribute__((packed));

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

/* xen/include/public/arch-x86/hvm/start_info.h */
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries, reserved;
} __attribute__((packed));

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
} __attribute__((packed));

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
} __attribute__((packed));

/* Guest-physical pointer (paging is off: identity) if below 4 GiB. */
static const void *phys(uint64_t pa)
{
	if (pa == 0 || pa >= 0x100000000ull)
		return NULL;
	return (const void *)(uintptr_t)pa;
}

static void copy_str(char *dst, size_t len, uint64_t pa)
{
	const char *s = phys(pa);

	if (s == NULL) {
		dst[0] = 0;
		return;
	}
	size_t n = strnlen(s, len - 1);
	memcpy(dst, s, n);
	dst[n] = 0;
}

static void add_mmap(uint64_t addr, uint64_t len, uint32_t type)
{
	boot.nmmap_total++;
	if (boot.nmmap < BOOT_MAX_MMAP)
		boot.mmap[boot.nmmap++] = (struct mem_range){ addr, len, type };
}

static void add_mod(uint64_t start, uint64_t size, uint64_t cmd)
{
	boot.nmods_total++;
	if (boot.nmods < BOOT_MAX_MODS) {
		struct boot_module *m = &boot.mods[boot.nmods++];

		m->start = start;
		m->size = size;
		copy_str(m->cmdline, sizeof(m->cmdline), cmd);
	}
}

static void parse_multiboot(const struct mb_info *mi)
{
	boot.kind = BOOT_MULTIBOOT;
	boot.mb_flags = mi->flags;
	if (mi->flags & MBI_MEM) {
		boot.have_mem = true;
		boot.mem_lower = mi->mem_lower;
		boot.mem_upper = mi->mem_upper;
	}
	if (mi->flags & MBI_CMDLINE)
		copy_str(boot.cmdline, sizeof(boot.cmdline), mi->cmdline);
	if (mi->flags & MBI_LOADER)
		copy_str(boot.loader_name, sizeof(boot.loader_name),
		    mi->boot_loader_name);
	if ((mi->flags & MBI_MODS) && phys(mi->mods_addr)) {
		const struct mb_mod *m = phys(mi->mods_addr);

		for (uint32_t i = 0; i < mi->mods_count && i < 64; i++)
			add_mod(m[i].start, m[i].end - m[i].start,
			    m[i].string);
	}
	if ((mi->flags & MBI_MMAP) && phys(mi->mmap_addr)) {
		uint32_t off = 0;

		/* Each entry's size field excludes itself. */
		while (off + sizeof(struct mb_mmap) <= mi->mmap_length &&
		    boot.nmmap_total < 1024) {
			const struct mb_mmap *e =
			    phys((uint64_t)mi->mmap_addr + off);

			if (e == NULL || e->size < 20)
				break;
			add_mmap(e->addr, e->len, e->type);
			off += e->size + 4;
		}
	}
}

static void parse_pvh(const struct hvm_start_info *si)
{
	boot.kind = BOOT_PVH;
	boot.pvh_magic = si->magic;
	boot.pvh_version = si->version;
	boot.pvh_flags = si->flags;
	boot.pvh_rsdp = si->rsdp_paddr;
	copy_str(boot.cmdline, sizeof(boot.cmdline), si->cmdline_paddr);
	if (phys(si->modlist_paddr)) {
		const struct hvm_modlist_entry *m = phys(si->modlist_paddr);

		for (uint32_t i = 0; i < si->nr_modules && i < 64; i++)
			add_mod(m[i].paddr, m[i].size, m[i].cmdline_paddr);
	}
	if (si->version >= 1 && phys(si->memmap_paddr)) {
		const struct hvm_memmap_entry *e = phys(si->memmap_paddr);

		for (uint32_t i = 0; i < si->memmap_entries && i < 1024; i++)
			add_mmap(e[i].addr, e[i].size, e[i].type);
	}
}

uint64_t boot_ram_bytes(void)
{
	uint64_t total = 0;

	for (int i = 0; i < boot.nmmap; i++)
		if (boot.mmap[i].type == 1)
			total += boot.mmap[i].len;
	return total;
}

void boot_print(void)
{
	printf("memory map: %d entries\n", boot.nmmap_total);
	for (int i = 0; i < boot.nmmap; i++)
		printf("  mmap %d: 0x%09llx-0x%09llx type %u\n", i,
		    (unsigned long long)boot.mmap[i].addr,
		    (unsigned long long)(boot.mmap[i].addr + boot.mmap[i].len - 1),
		    boot.mmap[i].type);
	printf("modules: %d\n", boot.nmods_total);
	for (int i = 0; i < boot.nmods; i++) {
		const struct boot_module *m = &boot.mods[i];
		const void *data = phys(m->start);
		size_t n = m->size < 64 ? (size_t)m->size : 64;

		printf("  module %d: addr 0x%llx size %llu cmdline '%s' data '",
		    i, (unsigned long long)m->start,
		    (unsigned long long)m->size, m->cmdline);
		if (data != NULL) {
			/* up to the first newline */
			const char *c = data;
			size_t k = 0;

			while (k < n && c[k] != '\n' && c[k] != 0)
				k++;
			print_text(data, k);
		}
		printf("'\n");
	}
}

void lib_start(uint32_t magic, uint32_t info);
void lib_start(uint32_t magic, uint32_t info)
{
	trap_init();
	serial_init();
	boot.magic = magic;
	boot.info = info;
	if (magic == MB_MAGIC && phys(info))
		parse_multiboot(phys(info));
	else if (phys(info) && *(const uint32_t *)phys(info) == PVH_MAGIC)
		parse_pvh(phys(info));
	cmdline = boot.cmdline;
	guest_main();
	finish(GX_OK);
}
