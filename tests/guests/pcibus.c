/*
 * pcibus.elf - enumerate PCI bus 0 and check what the VMM presents.
 *
 * Prints one line per function (see pci_print(): BDF, IDs, class, header
 * type, interrupt pin, BARs as type:address/size, capabilities as
 * id@offset), then checks, each reported as "pci FAIL: ..." when wrong:
 *  - ECAM (0xE0000000) and mechanism #1 show the same header and
 *    capabilities of every function, 1-, 2- and 4-byte reads agree, a
 *    write through one is seen through the other, and an empty slot and
 *    bus 1 read as all ones;
 *  - BAR sizing (in pci_scan: power-of-two sizes, aligned addresses, flag
 *    bits kept, values restored), BARs inside khyve's windows (I/O
 *    [0x2000, 0x10000), 32-bit memory [0xC0000000, 0xE0000000), 64-bit
 *    memory there or above 4 GiB) and not overlapping;
 *  - a BAR move ("move=0" skips it): an I/O BAR and an MSI-X table BAR
 *    are reprogrammed to a free address; the device must answer there and
 *    no longer at the old address (nor anywhere with decode off), then
 *    again at the old one once moved back.
 * Options: "dump" prints each function's 256 configuration bytes;
 * "windows=0" skips the window checks and "ecam=ADDR" moves ECAM (both to
 * try the program on another VMM, e.g. QEMU q35 with SeaBIOS).
 * Ends with "pci ok" (GX_OK) or "pci FAIL" (GX_FAIL).
 */
#include "pci.h"

static struct pci_dev devs[PCI_MAX_DEVS];
static int ndevs;

/*
 * Every access is a VM exit (slow in the nested test VM), so compare
 * dwords of the header and of each capability through both mechanisms,
 * and 1- and 2-byte reads only in the first 16 bytes of the first
 * function.
 */
static void cmp_dword(struct pci_dev *d, int off, int *mism)
{
	uint32_t a = pci_cfg_read(d->bus, d->dev, d->fn, off, 4);
	uint32_t b = pci_ecam_read(d->bus, d->dev, d->fn, off, 4);

	if (cmd_has("trace"))
		printf("  %02x: %08x %08x\n", off, a, b);
	if (a != b && (*mism)++ < 4)
		pci_fail("%02x:%02x.%x config 0x%02x: cf8 0x%08x ecam 0x%08x",
		    d->bus, d->dev, d->fn, off, a, b);
}

static void check_ecam(struct pci_dev *d, bool sizes)
{
	int mism = 0;
	uint8_t line;

	for (int off = 0; off < 0x40; off += 4)
		cmp_dword(d, off, &mism);
	for (int i = 0; i < d->ncaps; i++)
		for (int off = d->cap_off[i]; off < d->cap_off[i] + 16 &&
		     off < 256; off += 4)
			cmp_dword(d, off, &mism);
	for (int off = 0; sizes && off < 16; off += 4) {
		uint32_t a = pci_cfg_read(d->bus, d->dev, d->fn, off, 4);
		uint32_t w = pci_cfg_read(d->bus, d->dev, d->fn, off, 2) |
		    pci_cfg_read(d->bus, d->dev, d->fn, off + 2, 2) << 16;
		uint32_t by = 0;

		for (int i = 0; i < 4; i++)
			by |= pci_cfg_read(d->bus, d->dev, d->fn, off + i, 1)
			    << (8 * i);
		if (a != w || a != by)
			pci_fail("%02x:%02x.%x config 0x%02x: dword 0x%08x "
			    "words 0x%08x bytes 0x%08x", d->bus, d->dev, d->fn,
			    off, a, w, by);
	}
	/* Interrupt Line is a read/write scratch byte. */
	line = (uint8_t)pci_cfg_read(d->bus, d->dev, d->fn, PCI_INT_LINE, 1);
	pci_ecam_write(d->bus, d->dev, d->fn, PCI_INT_LINE, 1, 0x5a);
	if (pci_cfg_read(d->bus, d->dev, d->fn, PCI_INT_LINE, 1) != 0x5a)
		pci_fail("%02x:%02x.%x ECAM write of Interrupt Line not seen "
		    "through 0xCFC", d->bus, d->dev, d->fn);
	pci_cfg_write(d->bus, d->dev, d->fn, PCI_INT_LINE, 1, 0xa5);
	if (pci_ecam_read(d->bus, d->dev, d->fn, PCI_INT_LINE, 1) != 0xa5)
		pci_fail("%02x:%02x.%x 0xCFC write of Interrupt Line not seen "
		    "through ECAM", d->bus, d->dev, d->fn);
	pci_cfg_write(d->bus, d->dev, d->fn, PCI_INT_LINE, 1, line);
}

static void check_absent(void)
{
	int dev;

	for (dev = 0; dev < 32; dev++)
		if ((uint16_t)pci_cfg_read(0, dev, 0, 0, 2) == 0xffff)
			break;
	if (dev < 32) {
		uint32_t a = pci_cfg_read(0, dev, 0, 0, 4);
		uint32_t b = pci_ecam_read(0, dev, 0, 0, 4);
		uint32_t c = pci_ecam_read(0, dev, 0, 0x100, 4);

		printf("pci: empty slot %d: cf8 0x%08x ecam 0x%08x\n", dev, a,
		    b);
		if (a != 0xffffffffu || b != 0xffffffffu || c != 0xffffffffu)
			pci_fail("empty slot %d reads 0x%x / 0x%x / 0x%x", dev,
			    a, b, c);
	}
	if (pci_cfg_read(1, 0, 0, 0, 4) != 0xffffffffu ||
	    pci_ecam_read(1, 0, 0, 0, 4) != 0xffffffffu)
		pci_fail("bus 1 is not empty");
}

static bool in_window(const struct pci_bar *b)
{
	uint64_t end = b->addr + b->size;

	switch (b->type) {
	case PCI_BAR_IO:
		return b->addr >= 0x2000 && end <= 0x10000;
	case PCI_BAR_MEM32:
		return b->addr >= 0xc0000000u && end <= PCI_ECAM_BASE;
	case PCI_BAR_MEM64:
		return (b->addr >= 0xc0000000u && end <= PCI_ECAM_BASE) ||
		    b->addr >= 0x100000000ull;
	default:
		return true;
	}
}

static void check_bars(void)
{
	for (int i = 0; i < ndevs; i++) {
		for (int j = 0; j < 6; j++) {
			const struct pci_bar *a = &devs[i].bar[j];

			if (a->type == PCI_BAR_NONE)
				continue;
			if (!in_window(a))
				pci_fail("%02x:%02x.%x bar%d 0x%llx/0x%llx "
				    "outside its window", devs[i].bus,
				    devs[i].dev, devs[i].fn, j,
				    (unsigned long long)a->addr,
				    (unsigned long long)a->size);
			for (int k = i; k < ndevs; k++) {
				for (int l = k == i ? j + 1 : 0; l < 6; l++) {
					const struct pci_bar *b = &devs[k].bar[l];

					if (b->type == PCI_BAR_NONE ||
					    (a->type == PCI_BAR_IO) !=
						(b->type == PCI_BAR_IO))
						continue;
					if (a->addr < b->addr + b->size &&
					    b->addr < a->addr + a->size)
						pci_fail("bar %02x.%x/%d and "
						    "%02x.%x/%d overlap",
						    devs[i].dev, devs[i].fn, j,
						    devs[k].dev, devs[k].fn, l);
				}
			}
		}
	}
}

/* A free, size-aligned address above every BAR of the kind of `b`. */
static uint64_t free_addr(const struct pci_bar *b)
{
	uint64_t top = b->type == PCI_BAR_IO ? 0x2000 : 0xc0000000u;
	uint64_t limit = b->type == PCI_BAR_IO ? 0x10000 : PCI_ECAM_BASE;

	for (int i = 0; i < ndevs; i++)
		for (int j = 0; j < 6; j++) {
			const struct pci_bar *o = &devs[i].bar[j];

			if (o->type == PCI_BAR_NONE || o->addr >= limit ||
			    (o->type == PCI_BAR_IO) != (b->type == PCI_BAR_IO))
				continue;
			if (o->addr + o->size > top)
				top = o->addr + o->size;
		}
	top = (top + b->size - 1) & ~(b->size - 1);
	return top + b->size <= limit ? top : 0;
}

static uint32_t io_read(uint64_t port)
{
	return inl((uint16_t)port);
}

/* Move an I/O BAR: dword 0 must follow the BAR. */
static void move_io(struct pci_dev *d, int bi)
{
	struct pci_bar *b = &d->bar[bi];
	uint64_t old = b->addr, new;
	uint32_t v, at_new, at_old;

	pci_command(d, PCI_CMD_IO, 0);
	v = io_read(old);
	new = free_addr(b);
	if (v == 0xffffffffu || new == 0) {
		printf("pci: move io %02x:%02x.%x bar%d: skipped (dword 0 "
		       "0x%x, free 0x%llx)\n", d->bus, d->dev, d->fn, bi, v,
		    (unsigned long long)new);
		return;
	}
	pci_set_bar(d, bi, new);
	pci_probe_bars(d);
	at_new = io_read(new);
	at_old = io_read(old);
	printf("pci: move io %02x:%02x.%x bar%d 0x%llx -> 0x%llx: dword0 "
	       "0x%x new 0x%x old 0x%x\n", d->bus, d->dev, d->fn, bi,
	    (unsigned long long)old, (unsigned long long)new, v, at_new,
	    at_old);
	if (b->addr != new)
		pci_fail("io bar%d reads back 0x%llx after the move", bi,
		    (unsigned long long)b->addr);
	if (at_new != v || at_old != 0xffffffffu)
		pci_fail("io bar%d move: device not (only) at the new address",
		    bi);
	pci_command(d, 0, PCI_CMD_IO);
	if (io_read(new) != 0xffffffffu)
		pci_fail("io bar%d answers with I/O decode off", bi);
	pci_command(d, PCI_CMD_IO, 0);
	pci_set_bar(d, bi, old);
	pci_probe_bars(d);
	if (io_read(old) != v || io_read(new) != 0xffffffffu)
		pci_fail("io bar%d: moving back failed", bi);
}

/* Move the MSI-X table BAR: a message data value written into entry 0
 * (masked) must follow the BAR. */
static void move_msix(struct pci_dev *d)
{
	struct pci_msix m;
	const uint32_t pat = 0x4b485956; /* "KHYV" */
	uint64_t old, new;
	uintptr_t toff;
	struct pci_bar *b;

	if (pci_msix_init(d, &m) != 0)
		return;
	b = &d->bar[m.table_bar];
	old = b->addr;
	toff = m.table - (uintptr_t)old;
	mmio_write32(m.table + 12, 1);
	mmio_write32(m.table + 8, pat);
	if (mmio_read32(m.table + 8) != pat) {
		pci_fail("MSI-X table entry 0 data does not keep a value "
		    "(0x%x)", mmio_read32(m.table + 8));
		return;
	}
	new = free_addr(b);
	if (new == 0) {
		pci_fail("no free room to move bar%d", m.table_bar);
		return;
	}
	pci_set_bar(d, m.table_bar, new);
	pci_probe_bars(d);
	uint32_t at_new = mmio_read32((uintptr_t)new + toff + 8);
	uint32_t at_old = mmio_read32((uintptr_t)old + toff + 8);

	printf("pci: move mem %02x:%02x.%x bar%d 0x%llx -> 0x%llx: msix "
	       "data new 0x%x old 0x%x\n", d->bus, d->dev, d->fn,
	    m.table_bar, (unsigned long long)old, (unsigned long long)new,
	    at_new, at_old);
	if (b->addr != new)
		pci_fail("bar%d reads back 0x%llx after the move", m.table_bar,
		    (unsigned long long)b->addr);
	if (at_new != pat || at_old == pat)
		pci_fail("mem bar%d move: device not (only) at the new address",
		    m.table_bar);
	pci_command(d, 0, PCI_CMD_MEM);
	if (mmio_read32((uintptr_t)new + toff + 8) == pat)
		pci_fail("mem bar%d answers with memory decode off",
		    m.table_bar);
	pci_command(d, PCI_CMD_MEM, 0);
	pci_set_bar(d, m.table_bar, old);
	pci_probe_bars(d);
	if (mmio_read32(m.table + 8) != pat ||
	    mmio_read32((uintptr_t)new + toff + 8) == pat)
		pci_fail("mem bar%d: moving back failed", m.table_bar);
	mmio_write32(m.table + 8, 0);
}

static void move_bars(void)
{
	bool did_io = false, did_mem = false;

	for (int i = 0; i < ndevs; i++) {
		struct pci_dev *d = &devs[i];

		for (int j = 0; j < 6 && !did_io; j++)
			if (d->bar[j].type == PCI_BAR_IO) {
				move_io(d, j);
				did_io = true;
			}
		if (!did_mem && pci_find_cap(d, PCI_CAP_MSIX, 0)) {
			move_msix(d);
			did_mem = true;
		}
	}
	if (!did_io)
		printf("pci: no I/O BAR to move\n");
	if (!did_mem)
		printf("pci: no MSI-X BAR to move\n");
}

static void dump(const struct pci_dev *d)
{
	for (int off = 0; off < 256; off += 16) {
		printf("  %02x:", off);
		for (int i = 0; i < 16; i += 4)
			printf(" %08x", pci_read32(d, off + i));
		printf("\n");
	}
}

void guest_main(void)
{
	ndevs = pci_scan(devs, PCI_MAX_DEVS);
	printf("pci: %d functions\n", ndevs);
	for (int i = 0; i < ndevs; i++) {
		pci_print(&devs[i]);
		if (cmd_has("dump"))
			dump(&devs[i]);
	}
	for (int i = 0; i < ndevs; i++) {
		if (cmd_has("trace"))
			printf("pci: comparing %02x:%02x.%x\n", devs[i].bus,
			    devs[i].dev, devs[i].fn);
		check_ecam(&devs[i], i == 0);
	}
	printf("pci: mechanism #1 and ECAM compared\n");
	check_absent();
	if (cmd_num("windows", 1))
		check_bars();
	if (cmd_num("move", 1))
		move_bars();
	if (pci_errors) {
		printf("pci FAIL: %d problems\n", pci_errors);
		finish(GX_FAIL);
	}
	printf("pci ok\n");
	finish(GX_OK);
}
