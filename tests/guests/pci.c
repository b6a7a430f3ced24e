/*
 * pci.elf - look at the PCI bus the way firmware and an OS do: walk bus 0
 * through configuration mechanism #1 (ports 0xcf8/0xcfc) and print each
 * function ("pci SS.F VVVV:DDDD class CCSSPP hdr HH caps ..."), check that
 * the ECAM window at 0xe0000000 (paging is off) shows the same IDs and
 * class, that absent functions read all ones, and that the LPC bridge's
 * PIRQ registers keep what is written.  Prints "pci ok" or "pci FAIL: ...".
 * "cf9" instead resets the machine through port 0xcf9 (status 0);
 * "noecam" skips the ECAM reads.  (ECAM reads are few on purpose: MMIO
 * exits are what most often stalls a guest in the nested test VM.)
 */
#include "guest.h"

#define ECAM 0xe0000000u

static int errors;

static void bad(const char *what, uint32_t got, uint32_t want)
{
	printf("pci FAIL: %s: 0x%x, expected 0x%x\n", what, got, want);
	errors++;
}

static uint32_t addr(int slot, int fn, int off)
{
	return 0x80000000u | (uint32_t)slot << 11 | (uint32_t)fn << 8 |
	    (uint32_t)(off & 0xfc);
}

static uint32_t cfg_rd32(int slot, int fn, int off)
{
	outl(0xcf8, addr(slot, fn, off));
	return inl(0xcfc);
}

static uint8_t cfg_rd8(int slot, int fn, int off)
{
	outl(0xcf8, addr(slot, fn, off));
	return inb((uint16_t)(0xcfc + (off & 3)));
}

static void cfg_wr8(int slot, int fn, int off, uint8_t v)
{
	outl(0xcf8, addr(slot, fn, off));
	outb((uint16_t)(0xcfc + (off & 3)), v);
}

static uint32_t ecam_rd32(int slot, int fn, int off)
{
	return mmio_read32(ECAM + ((uint32_t)slot << 15) +
	    ((uint32_t)fn << 12) + (uint32_t)off);
}

static void show(int slot, int fn)
{
	uint32_t id = cfg_rd32(slot, fn, 0), cls = cfg_rd32(slot, fn, 8);
	uint8_t hdr = cfg_rd8(slot, fn, 0x0e), p;
	int n = 0;

	printf("pci %02x.%d %04x:%04x class %06x hdr %02x caps", slot, fn,
	    id & 0xffff, id >> 16, cls >> 8, hdr);
	if (cfg_rd32(slot, fn, 4) & (0x10u << 16)) {
		for (p = cfg_rd8(slot, fn, 0x34); p != 0 && n < 16; n++) {
			printf(" %02x@%02x", cfg_rd8(slot, fn, p), p);
			p = cfg_rd8(slot, fn, p + 1);
		}
	}
	printf("\n");
	for (int off = 0; off <= 8 && !cmd_has("noecam"); off += 8) {
		uint32_t e = ecam_rd32(slot, fn, off);

		if (e != cfg_rd32(slot, fn, off))
			bad("ECAM and 0xcfc differ", e, cfg_rd32(slot, fn, off));
	}
}

static void pirq(int slot)
{
	uint8_t old = cfg_rd8(slot, 0, 0x61);

	cfg_wr8(slot, 0, 0x61, 0x0b);
	if (cfg_rd8(slot, 0, 0x61) != 0x0b)
		bad("PIRQB after writing 0x0b", cfg_rd8(slot, 0, 0x61), 0x0b);
	cfg_wr8(slot, 0, 0x61, 0x80);
	if (cfg_rd8(slot, 0, 0x61) != 0x80)
		bad("PIRQB after writing 0x80", cfg_rd8(slot, 0, 0x61), 0x80);
	cfg_wr8(slot, 0, 0x61, old);
	printf("pci lpc %02x.0 pirq %08x %08x\n", slot,
	    cfg_rd32(slot, 0, 0x60), cfg_rd32(slot, 0, 0x68));
}

void guest_main(void)
{
	int found = 0;

	if (cmd_has("cf9")) {
		printf("pci: resetting through 0xcf9\n");
		outb(0xcf9, 0x06);
		finish(GX_EXITFAIL);
	}
	outl(0xcf8, addr(3, 1, 0x10));
	if (inl(0xcf8) != addr(3, 1, 0x10))
		bad("CONFIG_ADDRESS read-back", inl(0xcf8), addr(3, 1, 0x10));
	for (int slot = 0; slot < 32; slot++) {
		for (int fn = 0; fn < 8; fn++) {
			uint32_t id = cfg_rd32(slot, fn, 0);

			if (id == 0xffffffffu) {
				if (fn == 0)
					break;
				continue;
			}
			found++;
			show(slot, fn);
			if ((cfg_rd32(slot, fn, 8) >> 16) == 0x0601 &&
			    !cmd_has("nopirq"))
				pirq(slot);
			if (fn == 0 && !(cfg_rd8(slot, 0, 0x0e) & 0x80))
				break;
		}
	}
	if (!cmd_has("noecam") && ecam_rd32(5, 0, 0) != 0xffffffffu)
		bad("ECAM of an absent function", ecam_rd32(5, 0, 0), ~0u);
	printf("pci: %d functions\n", found);
	if (errors == 0)
		printf("pci ok\n");
	finish(errors ? GX_FAIL : GX_OK);
}
