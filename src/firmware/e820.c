/*
 * e820.c - the guest's physical memory map.
 *
 * One table, built from the guest_mem layout, feeds every consumer (the
 * Linux zero page, the PVH memmap, the multiboot mmap), so all boot
 * protocols report the same machine:
 *
 *   0x0          - 0xA0000        RAM (conventional memory)
 *   0xA0000      - 0xF0000        reserved (VGA window, option ROMs)
 *   0xF0000      - 0x100000       reserved (BIOS area: the MP table,
 *                                 SMBIOS and ACPI tables, fwtables.h)
 *   0x100000     - lowmem         RAM
 *   0xE0000000   - 0xF0000000     reserved (PCIe ECAM, bhyve's
 *                                 PCI_EMUL_ECFG_BASE, 256 buses)
 *   0xFEC00000   - 0x100000000    reserved (I/O APIC, HPET, local APIC,
 *                                 boot ROM)
 *   4 GiB        - 4 GiB+highmem  RAM
 *
 * bhyve leaves the legacy hole out of the map; we report it reserved so
 * that guests do not hand it to PCI, and the BIOS area as its own entry
 * so the firmware tables' home is explicit.  The tables stay "reserved",
 * not "ACPI reclaimable": the MP table and SMBIOS share the area and the
 * FACS must never be reused.  The 32-bit PCI window (lowmem top to
 * the ECAM) is left out: it is neither RAM nor reserved, which is what
 * lets a guest allocate BARs there.  lowmem never exceeds 3 GiB, so RAM
 * and the reserved ranges never overlap and the table is sorted.
 */
#include "common.h"
#include "firmware/boot_layout.h"
#include "firmware/e820.h"

#define E820_LEGACY_BASE BOOT_LEGACY_START
#define E820_FWTAB_BASE BOOT_FWTAB_START
#define E820_HIGH_BASE BOOT_LEGACY_END
#define E820_ECAM_BASE 0xE0000000ULL
#define E820_ECAM_END 0xF0000000ULL
#define E820_APIC_BASE 0xFEC00000ULL
#define E820_4G 0x100000000ULL

struct e820_buf {
	struct e820_entry *out;
	int max, n;
};

static void add(struct e820_buf *b, uint64_t start, uint64_t end,
    uint32_t type)
{
	if (end <= start || b->n >= b->max)
		return;
	b->out[b->n].addr = start;
	b->out[b->n].size = end - start;
	b->out[b->n].type = type;
	b->n++;
}

int e820_build(const struct guest_mem *m, struct e820_entry *out, int max)
{
	struct e820_buf b = { .out = out, .max = max, .n = 0 };
	uint64_t low = MIN(m->lowmem, GMEM_LOWMEM_LIMIT);

	if (out == NULL || max <= 0)
		return 0;
	add(&b, 0, MIN(low, E820_LEGACY_BASE), E820_RAM);
	add(&b, E820_LEGACY_BASE, E820_FWTAB_BASE, E820_RESERVED);
	add(&b, E820_FWTAB_BASE, E820_HIGH_BASE, E820_RESERVED);
	add(&b, E820_HIGH_BASE, low, E820_RAM);
	add(&b, E820_ECAM_BASE, E820_ECAM_END, E820_RESERVED);
	add(&b, E820_APIC_BASE, E820_4G, E820_RESERVED);
	/* highmem is bounded by gmem_alloc() so 4 GiB + highmem cannot wrap;
	 * clamp anyway rather than trust a hand-built guest_mem. */
	add(&b, E820_4G, m->highmem > UINT64_MAX - E820_4G ? UINT64_MAX :
	    E820_4G + m->highmem, E820_RAM);
	return b.n;
}
