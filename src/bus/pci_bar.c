/*
 * pci_bar.c - base address registers: allocation in the windows, the
 * sizing protocol, guest reprogramming, decode enable/disable, and the bus
 * handlers that forward accesses to the device (bhyve's
 * pci_emul_alloc_bar/assign_bar, update_bar_address, modify_bar_registration).
 *
 * A BAR is on a bus (pi_bar[i].mapped, claim at barh[i].mapped_addr) iff
 * its decode bit (I/O or memory space enable) is set in the command
 * register and its address is usable: non-zero and, for I/O, below 64 KiB,
 * for 32-bit memory, below 4 GiB.  The claim's length is the BAR size, so
 * the bus guarantees a handler sees offset + size <= BAR size.
 *
 * Guest writes land here with sys->cfg_lock held; handlers run on vCPU
 * threads without it, and may race with a move once (iobus.h): they only
 * use the (function, BAR) pair, never the address.
 */
#include <errno.h>

#include "bus/pci_priv.h"
#include "vmm/vm.h"

static bool bar_is_io(const struct pcibar *b)
{
	return b->type == PCIBAR_IO;
}

static bool bar_is_mem(const struct pcibar *b)
{
	return b->type == PCIBAR_MEM32 || b->type == PCIBAR_MEM64;
}

static uint32_t bar_lobits(const struct pcibar *b)
{
	switch (b->type) {
	case PCIBAR_IO:
		return PCIM_BAR_IO_SPACE;
	case PCIBAR_MEM32:
		return b->prefetch ? PCIM_BAR_MEM_PREFETCH : 0;
	case PCIBAR_MEM64:
		return PCIM_BAR_MEM_64 |
		    (b->prefetch ? PCIM_BAR_MEM_PREFETCH : 0);
	default:
		return 0;
	}
}

static int bar_handler(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct pci_barh *h = opaque;
	struct pci_func *f = h->f;
	struct pci_devinst *pi = &f->pi;
	const struct pci_devemu *pe = f->emu;

	(void)vcpu;
	if (offset + (uint64_t)size > pi->pi_bar[h->idx].size) {
		if (!write)
			*val = ~0ULL;
		return 0; /* cannot happen: the claim is the BAR's size */
	}
	if (pci_msix_bar_access(f, h->idx, offset, size, write, val))
		return 0;
	if (write) {
		if (pe->pe_barwrite != NULL)
			pe->pe_barwrite(pi, h->idx, offset, size, *val);
	} else {
		*val = pe->pe_barread != NULL ?
		    pe->pe_barread(pi, h->idx, offset, size) : ~0ULL;
	}
	return 0;
}

static bool decoding(struct pci_devinst *pi, const struct pcibar *b)
{
	uint16_t cmd = (uint16_t)pci_cfg_load(pi, PCIR_COMMAND, 2);

	if (bar_is_io(b))
		return (cmd & PCIM_CMD_PORTEN) != 0;
	if (bar_is_mem(b))
		return (cmd & PCIM_CMD_MEMEN) != 0;
	return false;
}

static bool addr_usable(const struct pcibar *b)
{
	uint64_t end = b->addr + b->size;

	if (b->addr == 0 || end < b->addr)
		return false;
	if (bar_is_io(b))
		return end <= 0x10000;
	if (b->type == PCIBAR_MEM32)
		return end <= 0x100000000ULL;
	return b->type == PCIBAR_MEM64;
}

static void unmap(struct pci_func *f, int idx, bool notify)
{
	struct pci_devinst *pi = &f->pi;
	struct pcibar *b = &pi->pi_bar[idx];
	struct vm *vm = pi->pi_vm;
	uint64_t at = f->barh[idx].mapped_addr;

	if (!b->mapped)
		return;
	iobus_unregister(bar_is_io(b) ? &vm->pio : &vm->mmio, at);
	b->mapped = false;
	if (notify && f->emu->pe_baraddr != NULL)
		f->emu->pe_baraddr(pi, idx, false, at);
}

static void map(struct pci_func *f, int idx)
{
	struct pci_devinst *pi = &f->pi;
	struct pcibar *b = &pi->pi_bar[idx];
	struct vm *vm = pi->pi_vm;
	int rc;

	if (b->mapped || !addr_usable(b))
		return;
	rc = iobus_register(bar_is_io(b) ? &vm->pio : &vm->mmio, b->addr,
	    b->size, bar_handler, &f->barh[idx], pi->pi_name);
	if (rc != 0) {
		/* A guest placing a BAR over another claim: the BAR just
		 * does not decode there (the bus printed the overlap). */
		khyve_dbg("%s: BAR %d at 0x%llx not mapped: %d", pi->pi_name,
		    idx, (unsigned long long)b->addr, rc);
		return;
	}
	b->mapped = true;
	f->barh[idx].mapped_addr = b->addr;
	if (f->emu->pe_baraddr != NULL)
		f->emu->pe_baraddr(pi, idx, true, b->addr);
}

/* Make the bus claim agree with the address and the decode bits. */
static void sync(struct pci_func *f, int idx)
{
	struct pci_devinst *pi = &f->pi;
	struct pcibar *b = &pi->pi_bar[idx];
	bool want = decoding(pi, b) && addr_usable(b);

	if (b->mapped && (!want || f->barh[idx].mapped_addr != b->addr))
		unmap(f, idx, true);
	if (want && !b->mapped)
		map(f, idx);
}

/* ---- allocation --------------------------------------------------------- */

static int take(uint64_t *next, uint64_t limit, uint64_t size, uint64_t *out)
{
	uint64_t base = ALIGN_UP(*next, size);

	if (base < *next || base + size < base || base + size > limit)
		return -ENOSPC;
	*out = base;
	*next = base + size;
	return 0;
}

int pci_emul_alloc_bar(struct pci_devinst *pi, int idx, enum pcibar_type type,
    uint64_t size)
{
	struct pci_func *f = pci_func_of(pi);
	struct pci_sys *sys = f->sys;
	struct pcibar *b;
	uint64_t addr = 0, max;
	uint32_t lo;
	uint16_t enbit;
	int rc;

	if (idx < 0 || idx > PCI_BARMAX || size == 0)
		return -EINVAL;
	switch (type) {
	case PCIBAR_IO:
		max = 256; /* PCI: at most 256 ports per I/O BAR */
		enbit = PCIM_CMD_PORTEN;
		break;
	case PCIBAR_MEM32:
		max = 1ULL << 30;
		enbit = PCIM_CMD_MEMEN;
		break;
	case PCIBAR_MEM64:
		if (idx == PCI_BARMAX ||
		    pi->pi_bar[idx + 1].type != PCIBAR_NONE)
			return -EINVAL;
		max = PCI_MEM64_WINDOW;
		enbit = PCIM_CMD_MEMEN;
		break;
	default:
		return -EINVAL; /* no ROM BARs (nothing to put in them) */
	}
	b = &pi->pi_bar[idx];
	if (b->type != PCIBAR_NONE || size > max)
		return -EINVAL;
	if (size & (size - 1))
		size = 1ULL << (64 - __builtin_clzll(size));
	size = MAX(size, type == PCIBAR_IO ? 4ULL : 16ULL);

	if (type == PCIBAR_IO) {
		rc = take(&sys->io_next, sys->win.io_limit, size, &addr);
	} else if (type == PCIBAR_MEM32 || size < PCI_MEM64_MIN_HIGH) {
		/* Small 64-bit BARs stay below 4 GiB (bhyve), so 32-bit
		 * guests and drivers reach them. */
		rc = take(&sys->mem32_next, sys->win.mem32_limit, size, &addr);
		if (rc != 0 && type == PCIBAR_MEM64)
			rc = take(&sys->mem64_next, sys->win.mem64_limit,
			    size, &addr);
	} else {
		rc = take(&sys->mem64_next, sys->win.mem64_limit, size, &addr);
	}
	if (rc != 0) {
		khyve_warnx("%s: no room for BAR %d (%llu bytes) in the PCI "
		    "window", pi->pi_name, idx, (unsigned long long)size);
		return rc;
	}
	b->type = type;
	b->size = size;
	b->addr = addr;
	b->mapped = false;
	lo = bar_lobits(b);
	pci_set_cfgdata32(pi, PCIR_BAR(idx), (uint32_t)addr | lo);
	if (type == PCIBAR_MEM64) {
		pi->pi_bar[idx + 1] = (struct pcibar){ .type = PCIBAR_MEMHI64 };
		pci_set_cfgdata32(pi, PCIR_BAR(idx + 1),
		    (uint32_t)(addr >> 32));
	}
	/* No firmware runs before a directly booted kernel: decode is on
	 * from the start (bhyve's pci.enable_bars without a boot ROM). */
	pci_set_cfgdata16(pi, PCIR_COMMAND,
	    pci_get_cfgdata16(pi, PCIR_COMMAND) | enbit);
	/* Mapped (and pe_baraddr told) once pe_init has succeeded. */
	if (f->inited)
		sync(f, idx);
	return 0;
}

/* ---- guest writes ------------------------------------------------------- */

void pci_bar_write(struct pci_func *f, int idx, uint32_t val)
{
	struct pci_devinst *pi = &f->pi;
	struct pcibar *b;
	uint64_t mask;
	uint32_t reg;

	if (idx == PCI_BAR_ROM || idx < 0 || idx > PCI_BARMAX) {
		/* No ROM: the register reads zero, whatever is written. */
		return;
	}
	b = &pi->pi_bar[idx];
	switch (b->type) {
	case PCIBAR_NONE:
		reg = 0; /* unimplemented BARs are hard-wired to zero */
		break;
	case PCIBAR_IO:
		mask = ~(b->size - 1) & 0xffff;
		b->addr = val & mask;
		reg = (uint32_t)b->addr | bar_lobits(b);
		sync(f, idx);
		break;
	case PCIBAR_MEM32:
		b->addr = val & (uint32_t)~(b->size - 1);
		reg = (uint32_t)b->addr | bar_lobits(b);
		sync(f, idx);
		break;
	case PCIBAR_MEM64:
		b->addr = (b->addr & ~0xffffffffULL) |
		    (val & (uint32_t)~(b->size - 1));
		reg = (uint32_t)b->addr | bar_lobits(b);
		sync(f, idx);
		break;
	case PCIBAR_MEMHI64: {
		struct pcibar *lo = &pi->pi_bar[idx - 1];

		mask = ~(lo->size - 1);
		lo->addr = (lo->addr & 0xffffffffULL) |
		    (((uint64_t)val << 32) & mask);
		reg = (uint32_t)(lo->addr >> 32);
		sync(f, idx - 1);
		break;
	}
	default:
		return;
	}
	pci_cfg_store(pi, PCIR_BAR(idx), 4, reg);
}

void pci_bar_decode_changed(struct pci_func *f, uint16_t oldcmd,
    uint16_t newcmd)
{
	uint16_t changed = oldcmd ^ newcmd;

	if (!(changed & (PCIM_CMD_PORTEN | PCIM_CMD_MEMEN)))
		return;
	for (int i = 0; i <= PCI_BARMAX; i++) {
		const struct pcibar *b = &f->pi.pi_bar[i];

		if ((bar_is_io(b) && (changed & PCIM_CMD_PORTEN)) ||
		    (bar_is_mem(b) && (changed & PCIM_CMD_MEMEN)))
			sync(f, i);
	}
}

void pci_bar_map_all(struct pci_func *f)
{
	for (int i = 0; i <= PCI_BARMAX; i++)
		sync(f, i);
}

void pci_bar_release_all(struct pci_func *f)
{
	/* Teardown: the device is gone (or never was), so no pe_baraddr. */
	for (int i = 0; i <= PCI_BARMAX; i++)
		unmap(f, i, false);
}
