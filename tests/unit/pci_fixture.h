/*
 * pci_fixture.h - shared by the PCI unit tests (test_pci.c, test_pci_irq.c,
 * test_irq.c): a VM without KVM (real buses, vm->fd = -1), guest-side
 * configuration accessors, and two test-only emulations (pci_fixture.c):
 *   pci-test       BAR0 I/O 32 B, BAR1 MEM32 4 KiB, BAR2-3 MEM64 8 KiB
 *                  (32-bit window), BAR4-5 MEM64 64 MiB (high window),
 *                  MSI (4 messages), PCIe capability, INTx;
 *   pci-test-msix  BAR0 MEM32 4 KiB, MSI-X with 8 vectors in BAR 2.
 * BAR reads return 0xa0000000 + (BAR << 16) + offset; writes and
 * pe_baraddr calls are recorded in struct tdev (pi->pi_arg).
 */
#ifndef KHYVE_TEST_PCI_FIXTURE_H
#define KHYVE_TEST_PCI_FIXTURE_H

#include "bus/pci_priv.h"
#include "vmm/vm.h"

struct tdev {
	struct pci_devinst *pi;
	int writes, last_idx, last_size;
	uint64_t last_off, last_val;
	int baraddr_calls, ba_idx;
	bool ba_on;
	uint64_t ba_addr;
};

void pci_fake_vm(struct vm *vm);
void free_vm(struct vm *vm);
void slot_dev(int bus, int slot, int func, const char *emu);
uint64_t pio_rd(struct vm *vm, uint64_t port, int size);
int pio_wr(struct vm *vm, uint64_t port, int size, uint64_t v);
uint64_t mm_rd(struct vm *vm, uint64_t addr, int size);
void mm_wr(struct vm *vm, uint64_t addr, int size, uint64_t v);
uint32_t cf8(int bus, int slot, int func, int off);
uint32_t cfg_rd(struct vm *vm, int slot, int off, int size);
void cfg_wr(struct vm *vm, int slot, int off, int size, uint32_t v);
uint64_t ecam(int bus, int slot, int func, int off);
struct pci_devinst *dev_at(struct vm *vm, int slot, int func);
struct tdev *tdev_at(struct vm *vm, int slot);
int setup(struct vm *vm);
int walk_caps(struct vm *vm, int slot, int *ids, int max);

#endif
