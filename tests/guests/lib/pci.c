/*
 * pci.c - PCI configuration access, enumeration, BAR sizing, capability
 * walks, MSI-X and MSI for the test guests (see pci.h).
 *
 * Everything the VMM returns is checked rather than trusted: a BAR whose
 * size is not a power of two, an address not aligned to it, a flag bit
 * that changes under an all-ones write, a value not restored, or a
 * capability list that loops or points into the header is reported with
 * pci_fail() and counted in pci_errors.  Loops are bounded.
 */
#include "pci.h"

#define CF8 0xcf8
#define CFC 0xcfc

int pci_errors;
uint32_t pci_ecam = PCI_ECAM_BASE;

void pci_fail(const char *fmt, ...)
{
	va_list ap;

	pci_errors++;
	printf("pci FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static uint32_t cf8_addr(int bus, int dev, int fn, int off)
{
	return 0x80000000u | (uint32_t)(bus & 0xff) << 16 |
	    (uint32_t)(dev & 0x1f) << 11 | (uint32_t)(fn & 7) << 8 |
	    (uint32_t)(off & 0xfc);
}

uint32_t pci_cfg_read(int bus, int dev, int fn, int off, int size)
{
	outl(CF8, cf8_addr(bus, dev, fn, off));
	switch (size) {
	case 1:
		return inb((uint16_t)(CFC + (off & 3)));
	case 2:
		return inw((uint16_t)(CFC + (off & 2)));
	default:
		return inl(CFC);
	}
}

void pci_cfg_write(int bus, int dev, int fn, int off, int size, uint32_t v)
{
	outl(CF8, cf8_addr(bus, dev, fn, off));
	switch (size) {
	case 1:
		outb((uint16_t)(CFC + (off & 3)), (uint8_t)v);
		break;
	case 2:
		outw((uint16_t)(CFC + (off & 2)), (uint16_t)v);
		break;
	default:
		outl(CFC, v);
		break;
	}
}

static uintptr_t ecam_addr(int bus, int dev, int fn, int off)
{
	return pci_ecam + ((uint32_t)(bus & 0xff) << 20 |
	    (uint32_t)(dev & 0x1f) << 15 | (uint32_t)(fn & 7) << 12 |
	    (uint32_t)(off & 0xfff));
}

uint32_t pci_ecam_read(int bus, int dev, int fn, int off, int size)
{
	uintptr_t a = ecam_addr(bus, dev, fn, off);

	switch (size) {
	case 1:
		return *(volatile uint8_t *)a;
	case 2:
		return *(volatile uint16_t *)(a & ~(uintptr_t)1);
	default:
		return *(volatile uint32_t *)(a & ~(uintptr_t)3);
	}
}

void pci_ecam_write(int bus, int dev, int fn, int off, int size, uint32_t v)
{
	uintptr_t a = ecam_addr(bus, dev, fn, off);

	switch (size) {
	case 1:
		*(volatile uint8_t *)a = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)(a & ~(uintptr_t)1) = (uint16_t)v;
		break;
	default:
		*(volatile uint32_t *)(a & ~(uintptr_t)3) = v;
		break;
	}
}

static uint32_t rd(const struct pci_dev *d, int off, int size)
{
	if (off >= 256)
		return pci_ecam_read(d->bus, d->dev, d->fn, off, size);
	return pci_cfg_read(d->bus, d->dev, d->fn, off, size);
}

static void wr(const struct pci_dev *d, int off, int size, uint32_t v)
{
	if (off >= 256)
		pci_ecam_write(d->bus, d->dev, d->fn, off, size, v);
	else
		pci_cfg_write(d->bus, d->dev, d->fn, off, size, v);
}

uint32_t pci_read32(const struct pci_dev *d, int off) { return rd(d, off, 4); }
uint16_t pci_read16(const struct pci_dev *d, int off)
{
	return (uint16_t)rd(d, off, 2);
}
uint8_t pci_read8(const struct pci_dev *d, int off)
{
	return (uint8_t)rd(d, off, 1);
}
void pci_write32(const struct pci_dev *d, int off, uint32_t v)
{
	wr(d, off, 4, v);
}
void pci_write16(const struct pci_dev *d, int off, uint16_t v)
{
	wr(d, off, 2, v);
}
void pci_write8(const struct pci_dev *d, int off, uint8_t v)
{
	wr(d, off, 1, v);
}

void pci_command(const struct pci_dev *d, uint16_t set, uint16_t clear)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	pci_write16(d, PCI_COMMAND, (uint16_t)((cmd & ~clear) | set));
}

static bool pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* Size BAR i (decode already off); returns how many slots it used. */
static int size_bar(struct pci_dev *d, int i)
{
	int off = PCI_BAR0 + 4 * i;
	uint32_t lo = pci_read32(d, off), rb, hi = 0, rbh = 0;
	struct pci_bar *b = &d->bar[i];
	uint64_t mask;
	int used = 1;

	memset(b, 0, sizeof(*b));
	pci_write32(d, off, 0xffffffffu);
	rb = pci_read32(d, off);
	pci_write32(d, off, lo);
	if (rb == 0) {
		if (lo != 0)
			pci_fail("%02x:%02x.%x bar%d reads 0x%x but sizes as "
			    "unimplemented", d->bus, d->dev, d->fn, i, lo);
		return 1;
	}
	if (rb & 1) {
		b->type = PCI_BAR_IO;
		mask = rb & ~3u;
		if ((mask & 0xffff0000u) == 0) /* 16-bit decoder */
			mask |= 0xffff0000u;
		b->size = (uint32_t)~(uint32_t)mask + 1;
		b->addr = lo & ~3u;
		if ((rb & 3) != (lo & 3))
			pci_fail("%02x:%02x.%x bar%d flag bits changed: 0x%x "
			    "-> 0x%x", d->bus, d->dev, d->fn, i, lo, rb);
	} else {
		switch ((rb >> 1) & 3) {
		case 0:
			b->type = PCI_BAR_MEM32;
			b->size = (uint32_t)~(rb & ~0xfu) + 1;
			break;
		case 2:
			if (i == 5) {
				pci_fail("%02x:%02x.%x bar5 is 64-bit", d->bus,
				    d->dev, d->fn);
				return 1;
			}
			b->type = PCI_BAR_MEM64;
			hi = pci_read32(d, off + 4);
			pci_write32(d, off + 4, 0xffffffffu);
			rbh = pci_read32(d, off + 4);
			pci_write32(d, off + 4, hi);
			mask = (uint64_t)rbh << 32 | (rb & ~0xfu);
			b->size = ~mask + 1;
			used = 2;
			if (pci_read32(d, off + 4) != hi)
				pci_fail("%02x:%02x.%x bar%d upper half not "
				    "restored (0x%x)", d->bus, d->dev, d->fn,
				    i + 1, hi);
			break;
		default:
			pci_fail("%02x:%02x.%x bar%d reserved memory type "
			    "(0x%x)", d->bus, d->dev, d->fn, i, rb);
			return 1;
		}
		b->prefetch = (rb >> 3) & 1;
		b->addr = (uint64_t)hi << 32 | (lo & ~0xfu);
		if ((rb & 0xf) != (lo & 0xf))
			pci_fail("%02x:%02x.%x bar%d flag bits changed: 0x%x "
			    "-> 0x%x", d->bus, d->dev, d->fn, i, lo, rb);
	}
	if (pci_read32(d, off) != lo)
		pci_fail("%02x:%02x.%x bar%d not restored: 0x%x, was 0x%x",
		    d->bus, d->dev, d->fn, i, pci_read32(d, off), lo);
	if (!pow2(b->size) || (b->type == PCI_BAR_IO && b->size < 4) ||
	    (b->type != PCI_BAR_IO && b->size < 16))
		pci_fail("%02x:%02x.%x bar%d bad size 0x%llx", d->bus, d->dev,
		    d->fn, i, (unsigned long long)b->size);
	else if (b->addr & (b->size - 1))
		pci_fail("%02x:%02x.%x bar%d address 0x%llx not aligned to "
		    "its size 0x%llx", d->bus, d->dev, d->fn, i,
		    (unsigned long long)b->addr, (unsigned long long)b->size);
	return used;
}

void pci_probe_bars(struct pci_dev *d)
{
	int nbars = (d->hdr & 0x7f) == 0 ? 6 : (d->hdr & 0x7f) == 1 ? 2 : 0;
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	uint32_t rom, rb;

	memset(d->bar, 0, sizeof(d->bar));
	d->rom_size = 0;
	/* Decode off while a BAR holds all ones (it must not claim that). */
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	for (int i = 0; i < nbars;)
		i += size_bar(d, i);
	if ((d->hdr & 0x7f) == 0) {
		rom = pci_read32(d, PCI_ROM);
		pci_write32(d, PCI_ROM, 0xfffff800u);
		rb = pci_read32(d, PCI_ROM);
		pci_write32(d, PCI_ROM, rom);
		if (rb & 0xfffff800u)
			d->rom_size = (uint32_t)~(rb & 0xfffff800u) + 1;
	}
	pci_write16(d, PCI_COMMAND, cmd);
	if (pci_read16(d, PCI_COMMAND) != cmd)
		pci_fail("%02x:%02x.%x command register not restored", d->bus,
		    d->dev, d->fn);
}

static void walk_caps(struct pci_dev *d)
{
	int ptr, n = 0;
	uint32_t h;

	d->ncaps = d->necaps = 0;
	if (pci_read16(d, PCI_STATUS) & PCI_STATUS_CAPS) {
		ptr = pci_read8(d, PCI_CAP_PTR) & 0xfc;
		while (ptr != 0) {
			if (ptr < 0x40 || n >= 48) {
				pci_fail("%02x:%02x.%x capability list: pointer "
				    "0x%x after %d entries", d->bus, d->dev,
				    d->fn, ptr, n);
				break;
			}
			if (d->ncaps < PCI_MAX_CAPS) {
				d->cap_id[d->ncaps] = pci_read8(d, ptr);
				d->cap_off[d->ncaps++] = (uint8_t)ptr;
			}
			n++;
			ptr = pci_read8(d, ptr + 1) & 0xfc;
		}
	}
	/* Extended capabilities (ECAM only): a header of 0 or all ones at
	 * 0x100 means none. */
	ptr = 0x100;
	for (n = 0; ptr >= 0x100; n++) {
		h = pci_read32(d, ptr);
		if (h == 0 || h == 0xffffffffu)
			break;
		if (n >= 64) {
			pci_fail("%02x:%02x.%x extended capability list loops",
			    d->bus, d->dev, d->fn);
			break;
		}
		if (d->necaps < PCI_MAX_CAPS) {
			d->ecap_id[d->necaps] = (uint16_t)h;
			d->ecap_off[d->necaps++] = (uint16_t)ptr;
		}
		ptr = (h >> 20) & 0xffc;
	}
}

static void probe(struct pci_dev *d, int dev, int fn)
{
	uint32_t v;

	memset(d, 0, sizeof(*d));
	d->bus = 0;
	d->dev = (uint8_t)dev;
	d->fn = (uint8_t)fn;
	v = pci_read32(d, PCI_VENDOR);
	d->vendor = (uint16_t)v;
	d->device = (uint16_t)(v >> 16);
	v = pci_read32(d, PCI_REVISION);
	d->rev = (uint8_t)v;
	d->progif = (uint8_t)(v >> 8);
	d->subclass = (uint8_t)(v >> 16);
	d->class = (uint8_t)(v >> 24);
	d->hdr = pci_read8(d, PCI_HEADER_TYPE);
	if ((d->hdr & 0x7f) == 0) {
		d->subvendor = pci_read16(d, PCI_SUBVENDOR);
		d->subdevice = pci_read16(d, PCI_SUBDEVICE);
	}
	d->int_line = pci_read8(d, PCI_INT_LINE);
	d->int_pin = pci_read8(d, PCI_INT_PIN);
	pci_probe_bars(d);
	walk_caps(d);
}

int pci_scan(struct pci_dev *devs, int max)
{
	int n = 0;

	pci_ecam = (uint32_t)cmd_num("ecam", PCI_ECAM_BASE);
	for (int dev = 0; dev < 32; dev++) {
		uint16_t vid = (uint16_t)pci_cfg_read(0, dev, 0, PCI_VENDOR, 2);
		int nfn;

		if (vid == 0xffff)
			continue;
		nfn = (pci_cfg_read(0, dev, 0, PCI_HEADER_TYPE, 1) & 0x80) ?
		    8 : 1;
		for (int fn = 0; fn < nfn; fn++) {
			if (fn > 0 &&
			    (uint16_t)pci_cfg_read(0, dev, fn, PCI_VENDOR, 2) ==
				0xffff)
				continue;
			if (n >= max) {
				pci_fail("more than %d functions", max);
				return n;
			}
			probe(&devs[n++], dev, fn);
		}
	}
	return n;
}

static const char *const bar_names[] = { "none", "io", "mem32", "mem64" };

void pci_print(const struct pci_dev *d)
{
	printf("pci %02x:%02x.%x %04x:%04x sub %04x:%04x rev %02x class "
	       "%02x%02x%02x hdr %02x pin %u",
	    d->bus, d->dev, d->fn, d->vendor, d->device, d->subvendor,
	    d->subdevice, d->rev, d->class, d->subclass, d->progif, d->hdr,
	    d->int_pin);
	for (int i = 0; i < 6; i++) {
		const struct pci_bar *b = &d->bar[i];

		if (b->type == PCI_BAR_NONE)
			continue;
		printf(" bar%d=%s%s:0x%llx/0x%llx", i, bar_names[b->type],
		    b->prefetch ? "p" : "", (unsigned long long)b->addr,
		    (unsigned long long)b->size);
	}
	if (d->rom_size)
		printf(" rom/0x%llx", (unsigned long long)d->rom_size);
	printf(" caps");
	for (int i = 0; i < d->ncaps; i++)
		printf("%c%02x@%02x", i ? ',' : '=', d->cap_id[i],
		    d->cap_off[i]);
	if (d->ncaps == 0)
		printf("=-");
	if (d->necaps) {
		printf(" ecaps");
		for (int i = 0; i < d->necaps; i++)
			printf("%c%04x@%03x", i ? ',' : '=', d->ecap_id[i],
			    d->ecap_off[i]);
	}
	printf("\n");
}

struct pci_dev *pci_find(struct pci_dev *devs, int n, uint16_t vendor,
    uint16_t device, int nth)
{
	for (int i = 0; i < n; i++) {
		if ((vendor != 0xffff && devs[i].vendor != vendor) ||
		    (device != 0xffff && devs[i].device != device))
			continue;
		if (nth-- == 0)
			return &devs[i];
	}
	return NULL;
}

int pci_find_cap(const struct pci_dev *d, uint8_t id, int after)
{
	bool seen = after == 0;

	for (int i = 0; i < d->ncaps; i++) {
		if (seen && d->cap_id[i] == id)
			return d->cap_off[i];
		if (d->cap_off[i] == after)
			seen = true;
	}
	return 0;
}

void pci_set_bar(struct pci_dev *d, int i, uint64_t addr)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	struct pci_bar *b = &d->bar[i];
	uint32_t flags = pci_read32(d, PCI_BAR0 + 4 * i) &
	    (b->type == PCI_BAR_IO ? 3u : 0xfu);

	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	pci_write32(d, PCI_BAR0 + 4 * i, (uint32_t)addr | flags);
	if (b->type == PCI_BAR_MEM64)
		pci_write32(d, PCI_BAR0 + 4 * i + 4, (uint32_t)(addr >> 32));
	pci_write16(d, PCI_COMMAND, cmd);
	b->addr = addr;
}

/* ---- MSI-X (PCI Local Bus 3.0, 6.8.2) ---- */
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_FMASK 0x4000

int pci_msix_init(struct pci_dev *d, struct pci_msix *m)
{
	uint32_t t, p;

	memset(m, 0, sizeof(*m));
	m->cap = pci_find_cap(d, PCI_CAP_MSIX, 0);
	if (m->cap == 0) {
		pci_fail("%02x:%02x.%x has no MSI-X capability", d->bus,
		    d->dev, d->fn);
		return -1;
	}
	m->size = (pci_read16(d, m->cap + MSIX_CTRL) & 0x7ff) + 1;
	t = pci_read32(d, m->cap + MSIX_TABLE);
	p = pci_read32(d, m->cap + MSIX_PBA);
	m->table_bar = t & 7;
	m->pba_bar = p & 7;
	if (m->table_bar > 5 || m->pba_bar > 5 ||
	    (d->bar[m->table_bar].type != PCI_BAR_MEM32 &&
		d->bar[m->table_bar].type != PCI_BAR_MEM64) ||
	    (d->bar[m->pba_bar].type != PCI_BAR_MEM32 &&
		d->bar[m->pba_bar].type != PCI_BAR_MEM64)) {
		pci_fail("%02x:%02x.%x MSI-X table bar %d / pba bar %d not "
		    "memory BARs", d->bus, d->dev, d->fn, m->table_bar,
		    m->pba_bar);
		return -1;
	}
	if ((t & ~7u) + 16ull * (uint32_t)m->size >
		d->bar[m->table_bar].size ||
	    (p & ~7u) + 8ull * (((uint32_t)m->size + 63) / 64) >
		d->bar[m->pba_bar].size) {
		pci_fail("%02x:%02x.%x MSI-X table/PBA outside its BAR",
		    d->bus, d->dev, d->fn);
		return -1;
	}
	if (d->bar[m->table_bar].addr >> 32 || d->bar[m->pba_bar].addr >> 32) {
		pci_fail("%02x:%02x.%x MSI-X BAR above 4 GiB", d->bus, d->dev,
		    d->fn);
		return -1;
	}
	m->table = (uintptr_t)d->bar[m->table_bar].addr + (t & ~7u);
	m->pba = (uintptr_t)d->bar[m->pba_bar].addr + (p & ~7u);
	pci_command(d, PCI_CMD_MEM | PCI_CMD_MASTER, 0);
	return 0;
}

void pci_msix_set(struct pci_msix *m, int i, uint32_t apic, uint8_t vector,
    bool masked)
{
	uintptr_t e = m->table + 16u * (uint32_t)i;

	if (i < 0 || i >= m->size)
		return;
	mmio_write32(e + 12, 1); /* mask while changing it */
	mmio_write32(e + 0, pci_msi_addr(apic));
	mmio_write32(e + 4, 0);
	mmio_write32(e + 8, vector);
	mmio_write32(e + 12, masked ? 1 : 0);
}

void pci_msix_enable(struct pci_dev *d, struct pci_msix *m, bool on)
{
	uint16_t c = pci_read16(d, m->cap + MSIX_CTRL);

	c &= (uint16_t)~(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	if (on) {
		c |= MSIX_CTRL_ENABLE;
		/* MSI-X replaces INTx. */
		pci_command(d, PCI_CMD_INTX_DISABLE, 0);
	}
	pci_write16(d, m->cap + MSIX_CTRL, c);
}

/* ---- MSI (6.8.1) ---- */
int pci_msi_enable(struct pci_dev *d, uint32_t apic, uint8_t vector)
{
	int cap = pci_find_cap(d, PCI_CAP_MSI, 0);
	uint16_t ctrl;
	int data_off;

	if (cap == 0) {
		pci_fail("%02x:%02x.%x has no MSI capability", d->bus, d->dev,
		    d->fn);
		return -1;
	}
	ctrl = pci_read16(d, cap + 2);
	pci_write32(d, cap + 4, pci_msi_addr(apic));
	if (ctrl & 0x80) { /* 64-bit address */
		pci_write32(d, cap + 8, 0);
		data_off = 12;
	} else {
		data_off = 8;
	}
	pci_write16(d, cap + data_off, vector);
	/* One message (MME 0), enable. */
	ctrl = (uint16_t)((ctrl & ~0x70) | 1);
	pci_write16(d, cap + 2, ctrl);
	pci_command(d, PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE, 0);
	return 0;
}
