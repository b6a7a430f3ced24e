/* pci_fixture.c - see pci_fixture.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pci_fixture.h"
#include "vm_fixture.h"

/* ---- the test emulations ------------------------------------------------ */

static int tdev_common(struct pci_devinst *pi, uint16_t devid)
{
	struct tdev *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	t->pi = pi;
	pi->pi_arg = t;
	pci_set_cfgdata16(pi, PCIR_VENDOR, 0x1234);
	pci_set_cfgdata16(pi, PCIR_DEVICE, devid);
	pci_set_cfgdata8(pi, PCIR_CLASS, 0xff);
	return 0;
}

static int tdev_init(struct pci_devinst *pi, struct config_node *cfg)
{
	int rc;

	(void)cfg;
	if ((rc = tdev_common(pi, 0x5678)) != 0)
		return rc;
	if ((rc = pci_emul_alloc_bar(pi, 0, PCIBAR_IO, 32)) != 0 ||
	    (rc = pci_emul_alloc_bar(pi, 1, PCIBAR_MEM32, 4096)) != 0 ||
	    (rc = pci_emul_alloc_bar(pi, 2, PCIBAR_MEM64, 8192)) != 0 ||
	    (rc = pci_emul_alloc_bar(pi, 4, PCIBAR_MEM64, 64 << 20)) != 0)
		goto fail;
	if ((rc = pci_emul_add_msicap(pi, 4)) < 0 ||
	    (rc = pci_emul_add_pciecap(pi)) < 0)
		goto fail;
	pci_lintr_request(pi);
	return 0;
fail:
	free(pi->pi_arg);
	return rc;
}

static int tdev_msix_init(struct pci_devinst *pi, struct config_node *cfg)
{
	int rc;

	(void)cfg;
	if ((rc = tdev_common(pi, 0x5679)) != 0)
		return rc;
	if ((rc = pci_emul_alloc_bar(pi, 0, PCIBAR_MEM32, 4096)) != 0 ||
	    (rc = pci_emul_add_msixcap(pi, 8, 2)) < 0) {
		free(pi->pi_arg);
		return rc;
	}
	return 0;
}

static void tdev_fini(struct pci_devinst *pi)
{
	free(pi->pi_arg);
}

static void tdev_barwrite(struct pci_devinst *pi, int idx, uint64_t off,
    int size, uint64_t val)
{
	struct tdev *t = pi->pi_arg;

	t->writes++;
	t->last_idx = idx;
	t->last_off = off;
	t->last_size = size;
	t->last_val = val;
}

/* Reads return a tag naming the BAR and the offset. */
static uint64_t tdev_barread(struct pci_devinst *pi, int idx, uint64_t off,
    int size)
{
	(void)pi;
	(void)size;
	return 0xa0000000u + ((uint64_t)idx << 16) + off;
}

static void tdev_baraddr(struct pci_devinst *pi, int idx, bool on,
    uint64_t addr)
{
	struct tdev *t = pi->pi_arg;

	t->baraddr_calls++;
	t->ba_idx = idx;
	t->ba_on = on;
	t->ba_addr = addr;
}

static const struct pci_devemu tdev_emu = {
	.pe_emu = "pci-test",
	.pe_help = "(unit tests only)",
	.pe_init = tdev_init,
	.pe_fini = tdev_fini,
	.pe_barwrite = tdev_barwrite,
	.pe_barread = tdev_barread,
	.pe_baraddr = tdev_baraddr,
};
PCI_EMUL_SET(tdev_emu);

static const struct pci_devemu tdev_msix_emu = {
	.pe_emu = "pci-test-msix",
	.pe_help = "(unit tests only)",
	.pe_init = tdev_msix_init,
	.pe_fini = tdev_fini,
	.pe_barwrite = tdev_barwrite,
	.pe_barread = tdev_barread,
	.pe_baraddr = tdev_baraddr,
};
PCI_EMUL_SET(tdev_msix_emu);

/* ---- fixture ------------------------------------------------------------ */

void pci_fake_vm(struct vm *vm)
{
	fake_vm(vm, NULL);
}

void free_vm(struct vm *vm)
{
	pci_emul_fini(vm);
	fake_vm_fini(vm);
}

void slot_dev(int bus, int slot, int func, const char *emu)
{
	char key[64];

	snprintf(key, sizeof(key), "pci.%d.%d.%d.device", bus, slot, func);
	config_set(NULL, key, emu);
}

uint64_t pio_rd(struct vm *vm, uint64_t port, int size)
{
	uint64_t v = ~0ULL;

	if (iobus_access(&vm->pio, NULL, port, size, false, &v) != 0)
		return 0xdeadULL << 32;
	return v & (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
}

int pio_wr(struct vm *vm, uint64_t port, int size, uint64_t v)
{
	return iobus_access(&vm->pio, NULL, port, size, true, &v);
}

/* -1 (all ones, 64 bits) when nothing claims the address. */
uint64_t mm_rd(struct vm *vm, uint64_t addr, int size)
{
	uint64_t v = ~0ULL;

	if (iobus_access(&vm->mmio, NULL, addr, size, false, &v) != 0)
		return ~0ULL;
	return v & (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
}

void mm_wr(struct vm *vm, uint64_t addr, int size, uint64_t v)
{
	iobus_access(&vm->mmio, NULL, addr, size, true, &v);
}

uint32_t cf8(int bus, int slot, int func, int off)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)slot << 11 |
	    (uint32_t)func << 8 | (uint32_t)(off & 0xfc);
}

uint32_t cfg_rd(struct vm *vm, int slot, int off, int size)
{
	pio_wr(vm, 0xcf8, 4, cf8(0, slot, 0, off));
	return (uint32_t)pio_rd(vm, 0xcfc + (off & 3), size);
}

void cfg_wr(struct vm *vm, int slot, int off, int size, uint32_t v)
{
	pio_wr(vm, 0xcf8, 4, cf8(0, slot, 0, off));
	pio_wr(vm, 0xcfc + (off & 3), size, v);
}

uint64_t ecam(int bus, int slot, int func, int off)
{
	return PCI_ECAM_BASE + ((uint64_t)bus << 20) + ((uint64_t)slot << 15) +
	    ((uint64_t)func << 12) + (uint64_t)off;
}

struct pci_devinst *dev_at(struct vm *vm, int slot, int func)
{
	struct pci_func *f = pci_sys_func(vm->pci, 0, slot, func);

	return f ? &f->pi : NULL;
}

struct tdev *tdev_at(struct vm *vm, int slot)
{
	struct pci_devinst *pi = dev_at(vm, slot, 0);

	return pi ? pi->pi_arg : NULL;
}

/* Build a VM with the configured slots; fails the test on error. */
int setup(struct vm *vm)
{
	pci_fake_vm(vm);
	return pci_emul_init(vm);
}

int walk_caps(struct vm *vm, int slot, int *ids, int max)
{
	int n = 0, p = (int)cfg_rd(vm, slot, PCIR_CAP_PTR, 1);

	while (p != 0 && n < max) {
		ids[n++] = (int)cfg_rd(vm, slot, p, 1);
		p = (int)cfg_rd(vm, slot, p + 1, 1);
	}
	return p == 0 ? n : -1;
}
