/*
 * pci.h - guest accesses to the PCI world for the pci and msix fuzz
 * targets: a VM without KVM (tests/unit/pci_fixture: real port and MMIO
 * buses) with the unit tests' devices in a few slots, then configuration
 * cycles through 0xcf8/0xcfc and ECAM, and accesses to wherever the
 * functions' BARs currently are, all from the input.  Offsets, sizes and
 * values are mostly sensible and sometimes anything.
 *
 * Slots: 0 hostbridge, 3 pci-test (I/O, MEM32, two MEM64 BARs, MSI, PCIe
 * capability, INTx), 4 pci-test-msix (MSI-X table and PBA in BAR 2),
 * 5 a multi-function device (pci-test-msix at 5.0, pci-test at 5.1).
 */
#ifndef KHYVE_FUZZ_PCI_H
#define KHYVE_FUZZ_PCI_H

#include <stdlib.h>

#include "config.h"
#include "fuzz.h"
#include "pci_fixture.h"

static const struct {
	int slot, func;
} pcifz_fn[6] = { { 0, 0 }, { 3, 0 }, { 4, 0 }, { 5, 0 }, { 5, 1 },
		  { 7, 0 } /* empty */ };

/* `slot3`: the emulation in slot 3 (pci-test, or a virtio device). */
static inline int pcifz_setup(struct vm *vm, const char *slot3,
    const struct guest_mem *ram)
{
	config_init();
	slot_dev(0, 0, 0, "hostbridge");
	slot_dev(0, 3, 0, slot3);
	slot_dev(0, 4, 0, "pci-test-msix");
	slot_dev(0, 5, 0, "pci-test-msix");
	slot_dev(0, 5, 1, "pci-test");
	pci_fake_vm(vm);
	if (ram != NULL)
		vm->mem = *ram;
	return pci_emul_init(vm);
}

static inline void pcifz_teardown(struct vm *vm)
{
	free_vm(vm);
	config_fini();
}

/* A configuration register offset: mostly a known one, else anything. */
static inline int pcifz_cfgoff(struct fz *f, struct pci_devinst *pi,
    int limit)
{
	uint8_t c = fz_u8(f);
	int off;

	switch (c & 7) {
	case 0:
		off = 0x04; /* command/status */
		break;
	case 1:
		off = 0x10 + 4 * ((c >> 3) % 7); /* BARs, ROM... */
		break;
	case 2:
		off = pi != NULL && pi->pi_msix.capoff ? pi->pi_msix.capoff :
		    0x34;
		break;
	case 3:
		off = pi != NULL && pi->pi_msi.capoff ? pi->pi_msi.capoff :
		    0x3c;
		break;
	default:
		off = fz_u16(f);
		break;
	}
	off += (c >> 6); /* sometimes unaligned */
	return off % limit;
}

/* One access from the input.  `msix_bias`: aim BAR accesses at tables. */
static inline void pcifz_op(struct vm *vm, struct fz *f, bool msix_bias)
{
	uint8_t op = fz_u8(f);
	int fi = (op >> 3) % 6, sz = fz_size(f);
	int slot = pcifz_fn[fi].slot, func = pcifz_fn[fi].func;
	struct pci_devinst *pi = dev_at(vm, slot, func);
	bool write = (op & 0x80) != 0;
	uint64_t v = fz_u32(f), addr;
	int off, bar;

	switch (op & 7) {
	case 0:
	case 1:
		/* Configuration mechanism #1. */
		off = pcifz_cfgoff(f, pi, 256);
		if ((op & 7) == 1 && fz_u8(f) == 0xff)
			(void)pio_wr(vm, 0xcf8, 4, fz_u32(f)); /* raw */
		else
			(void)pio_wr(vm, 0xcf8, 4, cf8(fi == 5 ? fz_u8(f) : 0,
			    slot, func, off));
		if (write)
			(void)pio_wr(vm, 0xcfc + (off & 3), sz, v);
		else
			(void)pio_rd(vm, 0xcfc + (off & 3), sz);
		break;
	case 2:
		/* ECAM, the whole 4 KiB of a function. */
		off = pcifz_cfgoff(f, pi, 4096);
		addr = ecam(fi == 5 ? fz_u8(f) : 0, slot, func, off);
		if (write)
			mm_wr(vm, addr, sz, v);
		else
			(void)mm_rd(vm, addr, sz);
		break;
	case 3:
	case 4:
	case 5:
		/* Wherever a BAR is now (mapped or not). */
		if (pi == NULL)
			break;
		bar = fz_u8(f) % (PCI_BAR_ROM + 1);
		if (msix_bias && pi->pi_msix.capoff != 0 && (op & 7) != 5)
			bar = (op & 1) ? pi->pi_msix.pba_bar :
			    pi->pi_msix.table_bar;
		off = fz_u16(f);
		if (pi->pi_bar[bar].size != 0)
			off %= (int)(pi->pi_bar[bar].size + 8);
		addr = pi->pi_bar[bar].addr + (uint64_t)off;
		if (pi->pi_bar[bar].type == PCIBAR_IO) {
			if (write)
				(void)pio_wr(vm, addr & 0xffff, sz, v);
			else
				(void)pio_rd(vm, addr & 0xffff, sz);
		} else if (write) {
			mm_wr(vm, addr, sz, v | (uint64_t)fz_u32(f) << 32);
		} else {
			(void)mm_rd(vm, addr, sz);
		}
		break;
	case 6:
		if (pi == NULL)
			break;
		if (op & 0x40)
			pci_generate_msix(pi, (int)(int8_t)fz_u8(f));
		else
			pci_generate_msi(pi, (int)(int8_t)fz_u8(f));
		break;
	default:
		/* Raw port accesses around 0xcf8..0xcff. */
		addr = 0xcf8 + (fz_u8(f) & 7);
		if (write)
			(void)pio_wr(vm, addr, sz, v);
		else
			(void)pio_rd(vm, addr, sz);
		break;
	}
}

/* The whole of the pci and msix targets: the slots above (pci-test in
 * slot 3), then guest accesses from the input until it runs out. */
static inline int pcifz_run(const uint8_t *data, size_t size, bool msix_bias)
{
	struct vm vm;
	struct fz f;

	if (pcifz_setup(&vm, "pci-test", NULL) != 0)
		abort();
	fz_init(&f, data, size);
	while (fz_more(&f))
		pcifz_op(&vm, &f, msix_bias);
	pcifz_teardown(&vm);
	return 0;
}

#endif
