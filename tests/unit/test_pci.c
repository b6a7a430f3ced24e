/*
 * test_pci.c - the PCI core (bus/pci_*.c) on a VM without KVM: buses are
 * real (vm->pio, vm->mmio), vm->fd is -1.  Configuration cycles go through
 * the guest's paths (ports 0xCF8/0xCFC, the ECAM window); deliveries are
 * observed through pi->pi_msgs and the INTx bookkeeping.
 *
 * Two test-only emulations live here:
 *   pci-test       BAR0 I/O 32 B, BAR1 MEM32 4 KiB, BAR2-3 MEM64 8 KiB
 *                  (32-bit window), BAR4-5 MEM64 64 MiB (high window),
 *                  MSI (4 messages), PCIe capability, INTx;
 *   pci-test-msix  BAR0 MEM32 4 KiB, MSI-X with 8 vectors in BAR 2.
 */
#include <errno.h>
#include <stdlib.h>

#include "bus/pci_priv.h"
#include "config.h"
#include "test.h"
#include "vmm/irq.h"
#include "vmm/vm.h"

/* ---- the test emulations ------------------------------------------------ */

struct tdev {
	struct pci_devinst *pi;
	int writes, last_idx, last_size;
	uint64_t last_off, last_val;
	int baraddr_calls, ba_idx;
	bool ba_on;
	uint64_t ba_addr;
};

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

static void fake_vm(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->fd = vm->kvm_fd = vm->exit_fd = -1;
	vm->mem.lowmem = 64ULL << 20;
	iobus_init(&vm->pio, "port");
	iobus_init(&vm->mmio, "mmio");
}

static void free_vm(struct vm *vm)
{
	pci_emul_fini(vm);
	iobus_fini(&vm->pio);
	iobus_fini(&vm->mmio);
}

static void slot_dev(int bus, int slot, int func, const char *emu)
{
	char key[64];

	snprintf(key, sizeof(key), "pci.%d.%d.%d.device", bus, slot, func);
	config_set(NULL, key, emu);
}

static uint64_t pio_rd(struct vm *vm, uint64_t port, int size)
{
	uint64_t v = ~0ULL;

	if (iobus_access(&vm->pio, NULL, port, size, false, &v) != 0)
		return 0xdeadULL << 32;
	return v & (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
}

static int pio_wr(struct vm *vm, uint64_t port, int size, uint64_t v)
{
	return iobus_access(&vm->pio, NULL, port, size, true, &v);
}

/* -1 (all ones, 64 bits) when nothing claims the address. */
static uint64_t mm_rd(struct vm *vm, uint64_t addr, int size)
{
	uint64_t v = ~0ULL;

	if (iobus_access(&vm->mmio, NULL, addr, size, false, &v) != 0)
		return ~0ULL;
	return v & (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
}

static void mm_wr(struct vm *vm, uint64_t addr, int size, uint64_t v)
{
	iobus_access(&vm->mmio, NULL, addr, size, true, &v);
}

static uint32_t cf8(int bus, int slot, int func, int off)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)slot << 11 |
	    (uint32_t)func << 8 | (uint32_t)(off & 0xfc);
}

static uint32_t cfg_rd(struct vm *vm, int slot, int off, int size)
{
	pio_wr(vm, 0xcf8, 4, cf8(0, slot, 0, off));
	return (uint32_t)pio_rd(vm, 0xcfc + (off & 3), size);
}

static void cfg_wr(struct vm *vm, int slot, int off, int size, uint32_t v)
{
	pio_wr(vm, 0xcf8, 4, cf8(0, slot, 0, off));
	pio_wr(vm, 0xcfc + (off & 3), size, v);
}

static uint64_t ecam(int bus, int slot, int func, int off)
{
	return PCI_ECAM_BASE + ((uint64_t)bus << 20) + ((uint64_t)slot << 15) +
	    ((uint64_t)func << 12) + (uint64_t)off;
}

static struct pci_devinst *dev_at(struct vm *vm, int slot, int func)
{
	struct pci_func *f = pci_sys_func(vm->pci, 0, slot, func);

	return f ? &f->pi : NULL;
}

static struct tdev *tdev_at(struct vm *vm, int slot)
{
	struct pci_devinst *pi = dev_at(vm, slot, 0);

	return pi ? pi->pi_arg : NULL;
}

/* Build a VM with the configured slots; fails the test on error. */
static int setup(struct vm *vm)
{
	fake_vm(vm);
	return pci_emul_init(vm);
}

/* ---- configuration mechanisms ------------------------------------------- */

TEST(pci_conf1_sizes_and_offsets)
{
	struct vm vm;

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	CHECK_EQ(setup(&vm), 0);

	CHECK_EQ(cfg_rd(&vm, 3, 0, 4), 0x56781234);
	CHECK_EQ(cfg_rd(&vm, 3, 0, 2), 0x1234);
	CHECK_EQ(cfg_rd(&vm, 3, 2, 2), 0x5678);
	CHECK_EQ(cfg_rd(&vm, 3, 0, 1), 0x34);
	CHECK_EQ(cfg_rd(&vm, 3, 1, 1), 0x12);
	CHECK_EQ(cfg_rd(&vm, 3, 2, 1), 0x78);
	CHECK_EQ(cfg_rd(&vm, 3, 3, 1), 0x56);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_CLASS, 1), 0xff);
	/* CONFIG_ADDRESS reads back without the reserved bits. */
	pio_wr(&vm, 0xcf8, 4, cf8(0, 3, 0, 0x10) | 0x7f000003u);
	CHECK_EQ(pio_rd(&vm, 0xcf8, 4), cf8(0, 3, 0, 0x10));
	/* A misaligned word in the data window is no cycle. */
	CHECK_EQ(pio_rd(&vm, 0xcfd, 2), 0xffff);
	/* Byte and word accesses to 0xCF8 leave CONFIG_ADDRESS alone. */
	pio_wr(&vm, 0xcf8, 4, cf8(0, 3, 0, 0));
	pio_wr(&vm, 0xcf8, 1, 0);
	pio_wr(&vm, 0xcfa, 2, 0);
	CHECK_EQ(pio_rd(&vm, 0xcf8, 1), 0xff);
	CHECK_EQ(pio_rd(&vm, 0xcf8, 4), cf8(0, 3, 0, 0));
	CHECK_EQ(pio_rd(&vm, 0xcfc, 4), 0x56781234);
	/* Enable bit clear: the data port reads all ones. */
	pio_wr(&vm, 0xcf8, 4, cf8(0, 3, 0, 0) & ~0x80000000u);
	CHECK_EQ(pio_rd(&vm, 0xcfc, 4), 0xffffffff);
	/* Writes of every width land where they should (device space). */
	cfg_wr(&vm, 3, 0xf0, 4, 0x11223344);
	cfg_wr(&vm, 3, 0xf5, 1, 0xaa);
	cfg_wr(&vm, 3, 0xf6, 2, 0xbbcc);
	CHECK_EQ(cfg_rd(&vm, 3, 0xf0, 4), 0x11223344);
	CHECK_EQ(cfg_rd(&vm, 3, 0xf4, 4), 0xbbccaa00);
	CHECK_EQ(cfg_rd(&vm, 3, 0xf6, 1), 0xcc);
	/* Read-only header: IDs and class do not change. */
	cfg_wr(&vm, 3, 0, 4, 0);
	cfg_wr(&vm, 3, PCIR_CLASS, 1, 0);
	CHECK_EQ(cfg_rd(&vm, 3, 0, 4), 0x56781234);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_CLASS, 1), 0xff);
	cfg_wr(&vm, 3, PCIR_INTLINE, 1, 0x0b);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_INTLINE, 1), 0x0b);
	/* The extended-register bits of CONFIG_ADDRESS are ignored (bhyve):
	 * the cycle goes to register 0xf0, not 0x1f0. */
	pio_wr(&vm, 0xcf8, 4, cf8(0, 3, 0, 0xf0) | 0x01000000u);
	CHECK_EQ(pio_rd(&vm, 0xcfc, 4), 0x11223344);
	free_vm(&vm);
	config_fini();
}

TEST(pci_ecam_and_absent_functions)
{
	struct vm vm;

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	CHECK_EQ(setup(&vm), 0);
	CHECK_EQ(mm_rd(&vm, ecam(0, 3, 0, 0), 4), 0x56781234);
	CHECK_EQ(mm_rd(&vm, ecam(0, 3, 0, 2), 2), 0x5678);
	CHECK_EQ(mm_rd(&vm, ecam(0, 3, 0, 3), 1), 0x56);
	mm_wr(&vm, ecam(0, 3, 0, 0xe0), 4, 0xcafef00d);
	CHECK_EQ(cfg_rd(&vm, 3, 0xe0, 4), 0xcafef00d);
	/* Misaligned or 8-byte cycles are not cycles. */
	CHECK_EQ(mm_rd(&vm, ecam(0, 3, 0, 1), 2), 0xffff);
	CHECK_EQ(mm_rd(&vm, ecam(0, 3, 0, 0), 8), ~0ULL);
	/* Extended space: no extended capabilities, read-only. */
	CHECK_EQ(mm_rd(&vm, ecam(0, 3, 0, 0x100), 4), 0);
	mm_wr(&vm, ecam(0, 3, 0, 0x100), 4, 0x12345678);
	CHECK_EQ(mm_rd(&vm, ecam(0, 3, 0, 0x100), 4), 0);
	CHECK_EQ(mm_rd(&vm, ecam(0, 3, 0, 0xffc), 4), 0);
	/* Absent: other functions, other slots, other buses. */
	for (int fn = 1; fn < 8; fn++)
		CHECK_EQ(mm_rd(&vm, ecam(0, 3, fn, 0), 4), 0xffffffff);
	CHECK_EQ(mm_rd(&vm, ecam(0, 4, 0, 0), 4), 0xffffffff);
	CHECK_EQ(mm_rd(&vm, ecam(1, 3, 0, 0), 4), 0xffffffff);
	CHECK_EQ(mm_rd(&vm, ecam(255, 31, 7, 0xffc), 4), 0xffffffff);
	CHECK_EQ(cfg_rd(&vm, 5, 0, 4), 0xffffffff);
	CHECK_EQ(cfg_rd(&vm, 5, 2, 1), 0xff);
	pio_wr(&vm, 0xcf8, 4, cf8(2, 3, 0, 0));
	CHECK_EQ(pio_rd(&vm, 0xcfc, 4), 0xffffffff);
	/* Writes to absent functions go nowhere. */
	mm_wr(&vm, ecam(0, 4, 0, 0x40), 4, 0);
	CHECK_EQ(mm_rd(&vm, ecam(0, 4, 0, 0x40), 4), 0xffffffff);
	free_vm(&vm);
	config_fini();
}

TEST(pci_empty_bus_answers_all_ones)
{
	struct vm vm;

	config_init();
	CHECK_EQ(setup(&vm), 0);
	CHECK_EQ(cfg_rd(&vm, 0, 0, 4), 0xffffffff);
	CHECK_EQ(mm_rd(&vm, ecam(0, 0, 0, 0), 4), 0xffffffff);
	free_vm(&vm);
	/* Teardown released every claim. */
	fake_vm(&vm);
	CHECK_EQ(vm.pio.n, 0);
	iobus_fini(&vm.pio);
	iobus_fini(&vm.mmio);
	config_fini();
}

TEST(pci_multifunction_bit)
{
	struct vm vm;

	config_init();
	slot_dev(0, 3, 0, "pci-test-msix");
	slot_dev(0, 6, 0, "pci-test-msix");
	slot_dev(0, 6, 2, "pci-test-msix");
	CHECK_EQ(setup(&vm), 0);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_HDRTYPE, 1), 0x00);
	CHECK_EQ(cfg_rd(&vm, 6, PCIR_HDRTYPE, 1), 0x80);
	CHECK_EQ((cfg_rd(&vm, 6, 0x0c, 4) >> 16) & 0xff, 0x80);
	CHECK_EQ((cfg_rd(&vm, 6, 0x0e, 2)) & 0xff, 0x80);
	CHECK_EQ(mm_rd(&vm, ecam(0, 6, 2, PCIR_HDRTYPE), 1), 0x80);
	CHECK_EQ(mm_rd(&vm, ecam(0, 6, 1, 0), 4), 0xffffffff);
	free_vm(&vm);
	config_fini();
}

/* ---- BARs ---------------------------------------------------------------- */

TEST(pci_bar_allocation_and_sizing)
{
	struct vm vm;
	struct pci_devinst *pi;
	struct pci_windows w;
	uint32_t saved[6];

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	slot_dev(0, 4, 0, "pci-test-msix");
	CHECK_EQ(setup(&vm), 0);
	pi = dev_at(&vm, 3, 0);
	pci_emul_windows(&vm, &w);
	CHECK_EQ(w.io_base, 0x2000);
	CHECK_EQ(w.mem32_base, 0xc0000000ULL);
	CHECK_EQ(w.mem32_limit, PCI_ECAM_BASE);
	CHECK_EQ(w.mem64_base, 32ULL << 30);
	CHECK_EQ(w.ecam_base, PCI_ECAM_BASE);
	/* Natural alignment, in the right windows. */
	CHECK_EQ(pi->pi_bar[0].addr % 32, 0);
	CHECK(pi->pi_bar[0].addr >= 0x2000 && pi->pi_bar[0].addr < 0x10000);
	CHECK(pi->pi_bar[1].addr >= w.mem32_base &&
	    pi->pi_bar[1].addr < w.mem32_limit);
	CHECK(pi->pi_bar[2].addr >= w.mem32_base &&
	    pi->pi_bar[2].addr + 8192 <= w.mem32_limit);
	CHECK_EQ(pi->pi_bar[2].addr % 8192, 0);
	CHECK_EQ(pi->pi_bar[3].type, PCIBAR_MEMHI64);
	CHECK(pi->pi_bar[4].addr >= w.mem64_base &&
	    pi->pi_bar[4].addr + (64 << 20) <= w.mem64_limit);
	CHECK_EQ(pi->pi_bar[4].addr % (64 << 20), 0);
	/* Registers show address and type bits; decode is on. */
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(0), 4), pi->pi_bar[0].addr | 1);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(2), 4), pi->pi_bar[2].addr | 4);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(5), 4), pi->pi_bar[4].addr >> 32);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_COMMAND, 2) & 7, 7);

	/* The sizing protocol, decode off as a guest does it. */
	cfg_wr(&vm, 3, PCIR_COMMAND, 2, 0);
	for (int i = 0; i < 6; i++) {
		saved[i] = cfg_rd(&vm, 3, PCIR_BAR(i), 4);
		cfg_wr(&vm, 3, PCIR_BAR(i), 4, 0xffffffff);
	}
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(0), 4), 0x0000ffe1);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(1), 4), 0xfffff000);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(2), 4), 0xffffe004);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(3), 4), 0xffffffff);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(4), 4), 0xfc000004);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(5), 4), 0xffffffff);
	/* Unimplemented BARs and the ROM BAR are hard-wired to zero. */
	cfg_wr(&vm, 4, PCIR_BAR(1), 4, 0xffffffff);
	cfg_wr(&vm, 4, PCIR_BIOS, 4, 0xffffffff);
	CHECK_EQ(cfg_rd(&vm, 4, PCIR_BAR(1), 4), 0);
	CHECK_EQ(cfg_rd(&vm, 4, PCIR_BIOS, 4), 0);
	/* Sub-dword BAR writes are ignored. */
	cfg_wr(&vm, 3, PCIR_BAR(1), 2, 0);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(1), 4), 0xfffff000);
	for (int i = 0; i < 6; i++)
		cfg_wr(&vm, 3, PCIR_BAR(i), 4, saved[i]);
	cfg_wr(&vm, 3, PCIR_COMMAND, 2, 7);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(4), 4), (uint32_t)pi->pi_bar[4].addr | 4);
	CHECK_EQ(mm_rd(&vm, pi->pi_bar[4].addr + 8, 4), 0xa0040008);
	CHECK_EQ(mm_rd(&vm, pi->pi_bar[2].addr + 0x10, 4), 0xa0020010);
	CHECK_EQ(pio_rd(&vm, pi->pi_bar[0].addr + 2, 2), 0x0002);
	free_vm(&vm);
	config_fini();
}

TEST(pci_bar_alloc_rejects)
{
	struct vm vm;
	struct pci_devinst *pi;

	config_init();
	slot_dev(0, 4, 0, "pci-test-msix");
	CHECK_EQ(setup(&vm), 0);
	pi = dev_at(&vm, 4, 0);
	CHECK_EQ(pci_emul_alloc_bar(pi, 0, PCIBAR_MEM32, 16), -EINVAL); /* used */
	CHECK_EQ(pci_emul_alloc_bar(pi, 6, PCIBAR_MEM32, 16), -EINVAL);
	CHECK_EQ(pci_emul_alloc_bar(pi, -1, PCIBAR_MEM32, 16), -EINVAL);
	CHECK_EQ(pci_emul_alloc_bar(pi, 5, PCIBAR_MEM64, 16), -EINVAL);
	CHECK_EQ(pci_emul_alloc_bar(pi, 1, PCIBAR_MEM32, 0), -EINVAL);
	CHECK_EQ(pci_emul_alloc_bar(pi, 1, PCIBAR_IO, 512), -EINVAL);
	CHECK_EQ(pci_emul_alloc_bar(pi, 1, PCIBAR_MEMHI64, 16), -EINVAL);
	CHECK_EQ(pci_emul_alloc_bar(pi, 1, PCIBAR_ROM, 4096), -EINVAL);
	/* Odd sizes round up; memory BARs are at least 16 bytes. */
	CHECK_EQ(pci_emul_alloc_bar(pi, 1, PCIBAR_MEM32, 5), 0);
	CHECK_EQ(pi->pi_bar[1].size, 16);
	CHECK_EQ(pci_emul_alloc_bar(pi, 3, PCIBAR_IO, 5), 0);
	CHECK_EQ(pi->pi_bar[3].size, 8);
	free_vm(&vm);
	config_fini();
}

TEST(pci_bar_move_and_decode)
{
	struct vm vm;
	struct pci_devinst *pi;
	struct tdev *t;
	uint64_t a, b, io, io2;

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	CHECK_EQ(setup(&vm), 0);
	pi = dev_at(&vm, 3, 0);
	t = tdev_at(&vm, 3);
	a = pi->pi_bar[1].addr;
	b = 0xd0000000ULL;
	/* pe_baraddr reported the initial mapping after pe_init. */
	CHECK(t->baraddr_calls >= 4);
	CHECK_EQ(mm_rd(&vm, a + 0x20, 4), 0xa0010020);
	mm_wr(&vm, a + 0x24, 2, 0xbeef);
	CHECK_EQ(t->last_idx, 1);
	CHECK_EQ(t->last_off, 0x24);
	CHECK_EQ(t->last_size, 2);
	CHECK_EQ(t->last_val, 0xbeef);

	/* Move while decoding: old range gone, new one live. */
	t->baraddr_calls = 0;
	cfg_wr(&vm, 3, PCIR_BAR(1), 4, (uint32_t)b);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_BAR(1), 4), b);
	CHECK_EQ(mm_rd(&vm, a + 0x20, 4), ~0ULL);
	CHECK_EQ(mm_rd(&vm, b + 0x20, 4), 0xa0010020);
	CHECK_EQ(t->baraddr_calls, 2);
	CHECK(t->ba_on);
	CHECK_EQ(t->ba_addr, b);
	CHECK(pi->pi_bar[1].mapped);

	/* Through ECAM too (the handler may re-register claims). */
	mm_wr(&vm, ecam(0, 3, 0, PCIR_BAR(1)), 4, (uint32_t)a);
	CHECK_EQ(mm_rd(&vm, b + 0x20, 4), ~0ULL);
	CHECK_EQ(mm_rd(&vm, a + 0x20, 4), 0xa0010020);

	/* Memory decode off: every memory BAR leaves the bus. */
	t->baraddr_calls = 0;
	cfg_wr(&vm, 3, PCIR_COMMAND, 2, PCIM_CMD_PORTEN);
	CHECK_EQ(mm_rd(&vm, a, 4), ~0ULL);
	CHECK_EQ(mm_rd(&vm, pi->pi_bar[4].addr, 4), ~0ULL);
	CHECK(!pi->pi_bar[1].mapped);
	CHECK_EQ(t->baraddr_calls, 3); /* BARs 1, 2 and 4 */
	CHECK(!t->ba_on);
	io = pi->pi_bar[0].addr;
	CHECK_EQ(pio_rd(&vm, io + 4, 4), 0xa0000004);
	/* Moving an undecoded BAR maps nothing. */
	cfg_wr(&vm, 3, PCIR_BAR(1), 4, (uint32_t)b);
	CHECK_EQ(mm_rd(&vm, b, 4), ~0ULL);
	cfg_wr(&vm, 3, PCIR_COMMAND, 2, PCIM_CMD_PORTEN | PCIM_CMD_MEMEN);
	CHECK_EQ(mm_rd(&vm, b + 4, 4), 0xa0010004);
	CHECK_EQ(t->ba_addr, pi->pi_bar[4].addr);

	/* I/O BARs move on the port bus. */
	io2 = 0x8000;
	cfg_wr(&vm, 3, PCIR_BAR(0), 4, (uint32_t)io2);
	CHECK_EQ(pio_rd(&vm, io + 4, 4), 0xdeadULL << 32);
	CHECK_EQ(pio_rd(&vm, io2 + 4, 4), 0xa0000004);
	cfg_wr(&vm, 3, PCIR_COMMAND, 2, PCIM_CMD_MEMEN);
	CHECK_EQ(pio_rd(&vm, io2 + 4, 4), 0xdeadULL << 32);
	/* A BAR at address 0 does not decode. */
	cfg_wr(&vm, 3, PCIR_BAR(1), 4, 0);
	CHECK(!pi->pi_bar[1].mapped);
	/* 64-bit BAR: both halves move it. */
	cfg_wr(&vm, 3, PCIR_BAR(4), 4, 0);
	cfg_wr(&vm, 3, PCIR_BAR(5), 4, 0x10);
	CHECK_EQ(pi->pi_bar[4].addr, 0x1000000000ULL);
	CHECK_EQ(mm_rd(&vm, 0x1000000000ULL + 8, 4), 0xa0040008);
	free_vm(&vm);
	config_fini();
}

TEST(pci_command_and_status_bits)
{
	struct vm vm;

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	CHECK_EQ(setup(&vm), 0);
	cfg_wr(&vm, 3, PCIR_COMMAND, 2, 0xffff);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_COMMAND, 2), 0x077f);
	/* Status is read-only; it has the capability bit. */
	cfg_wr(&vm, 3, PCIR_STATUS, 2, 0xffff);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_STATUS, 2), PCIM_STATUS_CAPPRESENT);
	cfg_wr(&vm, 3, PCIR_COMMAND, 4, 0xffff0000);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_COMMAND, 4), PCIM_STATUS_CAPPRESENT << 16);
	free_vm(&vm);
	config_fini();
}

/* ---- capabilities -------------------------------------------------------- */

static int walk_caps(struct vm *vm, int slot, int *ids, int max)
{
	int n = 0, p = (int)cfg_rd(vm, slot, PCIR_CAP_PTR, 1);

	while (p != 0 && n < max) {
		ids[n++] = (int)cfg_rd(vm, slot, p, 1);
		p = (int)cfg_rd(vm, slot, p + 1, 1);
	}
	return p == 0 ? n : -1;
}

TEST(pci_capability_list)
{
	struct vm vm;
	int ids[8], n;

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	slot_dev(0, 4, 0, "pci-test-msix");
	CHECK_EQ(setup(&vm), 0);
	CHECK(cfg_rd(&vm, 3, PCIR_STATUS, 2) & PCIM_STATUS_CAPPRESENT);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_CAP_PTR, 1), 0x40);
	n = walk_caps(&vm, 3, ids, 8);
	CHECK_EQ(n, 2);
	CHECK_EQ(ids[0], PCIY_MSI);
	CHECK_EQ(ids[1], PCIY_EXPRESS);
	/* Endpoint on bus 0: root-complex integrated endpoint, version 2. */
	CHECK_EQ(cfg_rd(&vm, 3, 0x50 + 2, 2), 0x92);
	n = walk_caps(&vm, 4, ids, 8);
	CHECK_EQ(n, 1);
	CHECK_EQ(ids[0], PCIY_MSIX);
	/* ID and next pointer are read-only, even in a dword write. */
	cfg_wr(&vm, 3, 0x40, 1, 0x99);
	cfg_wr(&vm, 3, 0x41, 1, 0x00);
	cfg_wr(&vm, 3, 0x40, 4, 0x00000000);
	CHECK_EQ(cfg_rd(&vm, 3, 0x40, 2), 0x5005);
	/* Read-only parts of the PCIe capability stay; control is writable. */
	cfg_wr(&vm, 3, 0x50 + 4, 4, 0xffffffff);
	CHECK_EQ(cfg_rd(&vm, 3, 0x50 + 4, 4), 0);
	cfg_wr(&vm, 3, 0x50 + 8, 2, 0x2810);
	CHECK_EQ(cfg_rd(&vm, 3, 0x50 + 8, 2), 0x2810);
	free_vm(&vm);
	config_fini();
}

TEST(pci_capability_space_runs_out)
{
	struct vm vm;
	struct pci_devinst *pi;
	uint8_t cap[64] = { 0x09 };
	int rc = 0, n = 0;

	config_init();
	slot_dev(0, 4, 0, "pci-test-msix");
	CHECK_EQ(setup(&vm), 0);
	pi = dev_at(&vm, 4, 0);
	while ((rc = pci_emul_add_capability(pi, cap, sizeof(cap))) > 0)
		n++;
	CHECK_EQ(rc, -ENOSPC);
	CHECK_EQ(n, 2); /* 0x4c and 0x8c; 0xcc + 64 > 0x100 */
	CHECK_EQ(pci_emul_add_capability(pi, cap, 1), -EINVAL);
	CHECK_EQ(pci_emul_add_capability(pi, NULL, 4), -EINVAL);
	free_vm(&vm);
	config_fini();
}

/* ---- MSI ------------------------------------------------------------------ */

TEST(pci_msi)
{
	struct vm vm;
	struct pci_devinst *pi;

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	CHECK_EQ(setup(&vm), 0);
	pi = dev_at(&vm, 3, 0);
	/* 64-bit, 4 messages capable (MMC 2), disabled. */
	CHECK_EQ(cfg_rd(&vm, 3, 0x42, 2), 0x0084);
	CHECK(!pci_msi_enabled(pi));
	pci_generate_msi(pi, 0);
	CHECK_EQ(pi->pi_msgs.count, 0);

	cfg_wr(&vm, 3, 0x44, 4, 0xfee01003); /* low bits are reserved */
	cfg_wr(&vm, 3, 0x48, 4, 0x1);
	cfg_wr(&vm, 3, 0x4c, 2, 0x4120);
	cfg_wr(&vm, 3, 0x42, 2, 0x0071); /* MME 7: clamped to 2 */
	CHECK_EQ(cfg_rd(&vm, 3, 0x42, 2), 0x00a5);
	CHECK_EQ(cfg_rd(&vm, 3, 0x44, 4), 0xfee01000);
	CHECK(pci_msi_enabled(pi));
	CHECK_EQ(pci_msi_maxmsgnum(pi), 4);
	pci_generate_msi(pi, 3);
	CHECK_EQ(pi->pi_msgs.count, 1);
	CHECK_EQ(pi->pi_msgs.addr, 0x1fee01000ULL);
	CHECK_EQ(pi->pi_msgs.data, 0x4123);
	pci_generate_msi(pi, 4);
	pci_generate_msi(pi, -1);
	CHECK_EQ(pi->pi_msgs.count, 1);
	/* One message enabled: only index 0. */
	cfg_wr(&vm, 3, 0x42, 2, 0x0001);
	CHECK_EQ(pci_msi_maxmsgnum(pi), 1);
	pci_generate_msi(pi, 1);
	CHECK_EQ(pi->pi_msgs.count, 1);
	pci_generate_msi(pi, 0);
	CHECK_EQ(pi->pi_msgs.data, 0x4120);
	cfg_wr(&vm, 3, 0x42, 2, 0);
	CHECK_EQ(pci_msi_maxmsgnum(pi), 0);
	CHECK_EQ(pci_emul_add_msicap(pi, 3), -EINVAL);
	free_vm(&vm);
	config_fini();
}

/* ---- MSI-X ---------------------------------------------------------------- */

static uint64_t tbl(struct pci_devinst *pi, int i, int field)
{
	return pi->pi_bar[2].addr + (uint64_t)i * 16 + (uint64_t)field;
}

TEST(pci_msix_table_mask_and_pba)
{
	struct vm vm;
	struct pci_devinst *pi;
	struct tdev *t;
	uint64_t pba;
	int cap;

	config_init();
	slot_dev(0, 4, 0, "pci-test-msix");
	CHECK_EQ(setup(&vm), 0);
	pi = dev_at(&vm, 4, 0);
	t = tdev_at(&vm, 4);
	cap = pi->pi_msix.capoff;
	CHECK_EQ(cap, 0x40);
	/* Table size 8 (N-1), table in BAR 2 at 0, PBA after 4 KiB. */
	CHECK_EQ(cfg_rd(&vm, 4, cap + 2, 2), 7);
	CHECK_EQ(cfg_rd(&vm, 4, cap + 4, 4), 2);
	CHECK_EQ(cfg_rd(&vm, 4, cap + 8, 4), 0x1002);
	CHECK_EQ(pi->pi_bar[2].size, 8192);
	pba = pi->pi_bar[2].addr + 0x1000;

	/* Every vector starts masked. */
	for (int i = 0; i < 8; i++)
		CHECK_EQ(mm_rd(&vm, tbl(pi, i, 12), 4), 1);
	/* 4- and 8-byte writes; reads of 1, 4 and 8 bytes. */
	mm_wr(&vm, tbl(pi, 0, 0), 8, 0x00000000fee00000ULL);
	mm_wr(&vm, tbl(pi, 0, 8), 4, 0x4041);
	mm_wr(&vm, tbl(pi, 1, 0), 4, 0xfee01000);
	mm_wr(&vm, tbl(pi, 1, 4), 4, 0);
	mm_wr(&vm, tbl(pi, 1, 8), 8, 0x0000000100004051ULL); /* data+mask */
	CHECK_EQ(mm_rd(&vm, tbl(pi, 0, 0), 8), 0xfee00000ULL);
	CHECK_EQ(mm_rd(&vm, tbl(pi, 0, 8), 4), 0x4041);
	CHECK_EQ(mm_rd(&vm, tbl(pi, 1, 8), 1), 0x51);
	CHECK_EQ(mm_rd(&vm, tbl(pi, 1, 12), 4), 1);
	/* Misaligned table accesses read all ones and write nothing. */
	CHECK_EQ(mm_rd(&vm, tbl(pi, 0, 2), 4), 0xffffffff);
	mm_wr(&vm, tbl(pi, 0, 1), 1, 0x55);
	mm_wr(&vm, tbl(pi, 0, 8), 2, 0x55);
	CHECK_EQ(mm_rd(&vm, tbl(pi, 0, 8), 4), 0x4041);
	/* Reserved Vector Control bits stay zero. */
	mm_wr(&vm, tbl(pi, 2, 12), 4, 0xfffffffe);
	CHECK_EQ(mm_rd(&vm, tbl(pi, 2, 12), 4), 0);
	mm_wr(&vm, tbl(pi, 2, 12), 4, 1);

	/* Disabled: nothing, not even a pending bit. */
	pci_generate_msix(pi, 0);
	CHECK_EQ(pi->pi_msgs.count, 0);
	CHECK_EQ(mm_rd(&vm, pba, 8), 0);
	CHECK(!pci_msix_enabled(pi));
	cfg_wr(&vm, 4, cap + 2, 2, 0x8000);
	CHECK(pci_msix_enabled(pi));
	CHECK_EQ(cfg_rd(&vm, 4, cap + 2, 2), 0x8007); /* size is read-only */

	/* Masked: pending bit, no message; unmasking fires it once. */
	pci_generate_msix(pi, 0);
	CHECK_EQ(pi->pi_msgs.count, 0);
	CHECK_EQ(mm_rd(&vm, pba, 8), 1);
	CHECK_EQ(mm_rd(&vm, pba, 1), 1);
	mm_wr(&vm, pba, 8, 0); /* the PBA is read-only */
	CHECK_EQ(mm_rd(&vm, pba, 8), 1);
	mm_wr(&vm, tbl(pi, 0, 12), 4, 0);
	CHECK_EQ(pi->pi_msgs.count, 1);
	CHECK_EQ(pi->pi_msgs.addr, 0xfee00000ULL);
	CHECK_EQ(pi->pi_msgs.data, 0x4041);
	CHECK_EQ(mm_rd(&vm, pba, 8), 0);
	/* Unmasked: straight through. */
	pci_generate_msix(pi, 0);
	CHECK_EQ(pi->pi_msgs.count, 2);

	/* Function mask holds every vector back. */
	cfg_wr(&vm, 4, cap + 2, 2, 0xc000);
	pci_generate_msix(pi, 0);
	pci_generate_msix(pi, 1);
	CHECK_EQ(pi->pi_msgs.count, 2);
	CHECK_EQ(mm_rd(&vm, pba, 4), 3);
	/* Clearing it delivers the unmasked vector 0, vector 1 stays. */
	cfg_wr(&vm, 4, cap + 3, 1, 0x80);
	CHECK_EQ(pi->pi_msgs.count, 3);
	CHECK_EQ(mm_rd(&vm, pba, 4), 2);
	mm_wr(&vm, tbl(pi, 1, 12), 4, 0);
	CHECK_EQ(pi->pi_msgs.count, 4);
	CHECK_EQ(pi->pi_msgs.data, 0x4051);
	CHECK_EQ(pi->pi_msgs.addr, 0xfee01000ULL);
	/* Re-programming an entry changes what the next message says. */
	mm_wr(&vm, tbl(pi, 1, 8), 4, 0x4052);
	pci_generate_msix(pi, 1);
	CHECK_EQ(pi->pi_msgs.data, 0x4052);
	/* Out of range. */
	pci_generate_msix(pi, 8);
	pci_generate_msix(pi, -1);
	CHECK_EQ(pi->pi_msgs.count, 5);
	/* MSI-X BAR space past the table and PBA reads zero. */
	CHECK_EQ(mm_rd(&vm, tbl(pi, 9, 0), 4), 0);
	CHECK_EQ(mm_rd(&vm, pba + 8, 4), 0);
	/* The device's own BAR still reaches the device. */
	CHECK_EQ(mm_rd(&vm, pi->pi_bar[0].addr + 4, 4), 0xa0000004);
	mm_wr(&vm, pi->pi_bar[0].addr + 8, 4, 7);
	CHECK_EQ(t->last_idx, 0);
	CHECK_EQ(t->writes, 1); /* the table writes never reached it */
	/* Disabling stops delivery. */
	cfg_wr(&vm, 4, cap + 2, 2, 0);
	pci_generate_msix(pi, 0);
	CHECK_EQ(pi->pi_msgs.count, 5);
	free_vm(&vm);
	config_fini();
}

TEST(pci_msix_cap_rejects)
{
	struct vm vm;
	struct pci_devinst *pi;

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	CHECK_EQ(setup(&vm), 0);
	pi = dev_at(&vm, 3, 0);
	CHECK_EQ(pci_emul_add_msixcap(pi, 0, 1), -EINVAL);
	CHECK_EQ(pci_emul_add_msixcap(pi, 2049, 1), -EINVAL);
	CHECK_EQ(pci_emul_add_msixcap(pi, 4, 6), -EINVAL);
	CHECK_EQ(pci_emul_add_msixcap(pi, 4, 1), -EINVAL); /* BAR 1 in use */
	/* No table: generating is a no-op, not a crash. */
	pci_generate_msix(pi, 0);
	CHECK(!pci_msix_enabled(pi));
	free_vm(&vm);
	config_fini();
}

/* ---- configuration errors ---------------------------------------------- */

TEST(pci_config_errors)
{
	struct vm vm;

	config_init();
	slot_dev(0, 3, 0, "no-such-device");
	CHECK_EQ(setup(&vm), -EINVAL);
	CHECK(vm.pci == NULL);
	CHECK_EQ(vm.pio.n, 0); /* nothing left claimed */
	CHECK_EQ(vm.mmio.n, 0);
	free_vm(&vm);
	config_fini();

	config_init();
	slot_dev(1, 0, 0, "pci-test");
	CHECK_EQ(setup(&vm), -EINVAL);
	free_vm(&vm);
	config_fini();

	config_init();
	config_set(NULL, "pci.0.3.0.foo", "1"); /* no "device" */
	CHECK_EQ(setup(&vm), -EINVAL);
	free_vm(&vm);
	config_fini();

	config_init();
	slot_dev(0, 3, 0, "lpc");
	slot_dev(0, 4, 0, "lpc");
	CHECK_EQ(setup(&vm), -EINVAL);
	CHECK_EQ(vm.pio.n, 0);
	free_vm(&vm);
	config_fini();

	CHECK(pci_emul_find("hostbridge") != NULL);
	CHECK(pci_emul_find("amd_hostbridge") != NULL);
	CHECK(pci_emul_find("nope") == NULL);
	CHECK(pci_emul_find(NULL) == NULL);
}

/* ---- chipset functions and INTx ------------------------------------------ */

TEST(pci_hostbridge_ids)
{
	struct vm vm;
	int ids[4];

	config_init();
	slot_dev(0, 0, 0, "hostbridge");
	slot_dev(0, 1, 0, "amd_hostbridge");
	slot_dev(0, 2, 0, "hostbridge");
	config_set(NULL, "pci.0.2.0.vendor", "0x8086");
	config_set(NULL, "pci.0.2.0.devid", "4660");
	CHECK_EQ(setup(&vm), 0);
	CHECK_EQ(cfg_rd(&vm, 0, 0, 4), 0x12751275);
	CHECK_EQ(cfg_rd(&vm, 1, 0, 4), 0x74321022);
	CHECK_EQ(cfg_rd(&vm, 2, 0, 4), 0x12348086);
	CHECK_EQ(cfg_rd(&vm, 0, 0x08, 4) >> 16, 0x0600);
	CHECK_EQ(walk_caps(&vm, 0, ids, 4), 1);
	CHECK_EQ(ids[0], PCIY_EXPRESS);
	CHECK_EQ(cfg_rd(&vm, 0, 0x42, 2), 0x42); /* v2 root port */
	free_vm(&vm);
	config_fini();

	config_init();
	slot_dev(0, 0, 0, "hostbridge");
	config_set(NULL, "pci.0.0.0.vendor", "0x10000");
	CHECK_EQ(setup(&vm), -EINVAL);
	free_vm(&vm);
	config_fini();
}

static int pirq_reg_off(int link)
{
	return link <= 4 ? 0x60 + link - 1 : 0x68 + link - 5;
}

TEST(pci_lpc_pirq_registers)
{
	struct vm vm;
	struct pci_devinst *pi;
	int link, irq, func = -1;

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	slot_dev(0, 31, 0, "lpc");
	CHECK_EQ(setup(&vm), 0);
	CHECK_EQ(cfg_rd(&vm, 31, 0, 4), 0x70008086);
	CHECK_EQ(cfg_rd(&vm, 31, 0x08, 4) >> 16, 0x0601);
	CHECK_EQ(pci_lpc_slot(&vm, &func), 31);
	CHECK_EQ(func, 0);
	pi = dev_at(&vm, 3, 0);
	link = pi->pi_lintr.pirq_pin;
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_INTPIN, 1), 1);
	CHECK(link >= 1 && link <= 8);
	CHECK_EQ(pi->pi_lintr.ioapic_irq, 15 + link);
	/* The link got a permitted IRQ, not one of the legacy devices'. */
	irq = (int)cfg_rd(&vm, 31, pirq_reg_off(link), 1);
	CHECK(irq == 5 || irq == 6 || irq == 7 || irq == 10 || irq == 11 ||
	    irq == 14 || irq == 15);
	CHECK_EQ(cfg_rd(&vm, 3, PCIR_INTLINE, 1), irq);
	CHECK_EQ(pci_pirq_isa_irq(&vm, link), irq);
	/* Unused links start disabled. */
	CHECK_EQ(cfg_rd(&vm, 31, pirq_reg_off(link == 1 ? 2 : 1), 1), 0x80);
	/* Guest re-routing: only the IRQ and disable bits are kept. */
	cfg_wr(&vm, 31, 0x61, 1, 0x7b);
	CHECK_EQ(cfg_rd(&vm, 31, 0x61, 1), 0x0b);
	CHECK_EQ(pci_pirq_isa_irq(&vm, 2), 11);
	cfg_wr(&vm, 31, 0x61, 1, 0x80);
	CHECK_EQ(pci_pirq_isa_irq(&vm, 2), -1);
	/* Reserved ISA IRQs are stored but do not route. */
	cfg_wr(&vm, 31, 0x61, 1, 0x08);
	CHECK_EQ(cfg_rd(&vm, 31, 0x61, 1), 0x08);
	CHECK_EQ(pci_pirq_isa_irq(&vm, 2), -1);
	/* A dword write sets four registers; 0x64-0x67 are plain bytes. */
	cfg_wr(&vm, 31, 0x68, 4, 0x0a0b0e0f);
	CHECK_EQ(cfg_rd(&vm, 31, 0x68, 4), 0x0a0b0e0f);
	CHECK_EQ(pci_pirq_isa_irq(&vm, 8), 10);
	cfg_wr(&vm, 31, 0x64, 4, 0x44332211);
	CHECK_EQ(cfg_rd(&vm, 31, 0x64, 4), 0x44332211);
	CHECK_EQ(cfg_rd(&vm, 31, 0x62, 2),
	    (link == 3 ? (uint32_t)irq : 0x80) |
	    (link == 4 ? (uint32_t)irq << 8 : 0x8000));
	CHECK_EQ(cfg_rd(&vm, 31, 0x60, 4) & 0xff00, 0x0800);
	free_vm(&vm);
	config_fini();
}

TEST(pci_intx_levels)
{
	struct vm vm;
	struct pci_devinst *pi;
	struct pci_func *f;
	struct pci_pirq *p;

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	CHECK_EQ(setup(&vm), 0);
	pi = dev_at(&vm, 3, 0);
	f = pci_func_of(pi);
	p = &vm.pci->pirq[pi->pi_lintr.pirq_pin - 1];
	pci_lintr_assert(pi);
	CHECK(f->lintr_on);
	CHECK_EQ(p->active_count, 1);
	CHECK(cfg_rd(&vm, 3, PCIR_STATUS, 2) & PCIM_STATUS_INTR);
	pci_lintr_assert(pi); /* level: asserting twice counts once */
	CHECK_EQ(p->active_count, 1);
	/* Interrupt Disable: the line drops, the status bit stays. */
	cfg_wr(&vm, 3, PCIR_COMMAND, 2, PCIM_CMD_INTXDIS | 7);
	CHECK(!f->lintr_on);
	CHECK_EQ(p->active_count, 0);
	CHECK(cfg_rd(&vm, 3, PCIR_STATUS, 2) & PCIM_STATUS_INTR);
	cfg_wr(&vm, 3, PCIR_COMMAND, 2, 7);
	CHECK_EQ(p->active_count, 1);
	/* MSI enabled: no INTx. */
	cfg_wr(&vm, 3, 0x42, 2, 1);
	CHECK_EQ(p->active_count, 0);
	cfg_wr(&vm, 3, 0x42, 2, 0);
	CHECK_EQ(p->active_count, 1);
	pci_lintr_deassert(pi);
	CHECK_EQ(p->active_count, 0);
	CHECK(!(cfg_rd(&vm, 3, PCIR_STATUS, 2) & PCIM_STATUS_INTR));
	/* Asserted while disabled, then enabled: it goes out then. */
	cfg_wr(&vm, 3, PCIR_COMMAND, 2, PCIM_CMD_INTXDIS);
	pci_lintr_assert(pi);
	CHECK_EQ(p->active_count, 0);
	cfg_wr(&vm, 3, PCIR_COMMAND, 2, 0);
	CHECK_EQ(p->active_count, 1);
	free_vm(&vm);
	config_fini();
}

struct walk_rec {
	int n;
	int slot[8], pin[8], link[8], gsi[8];
};

static void walk_cb(int bus, int slot, int pin, int link, int gsi, void *arg)
{
	struct walk_rec *r = arg;

	(void)bus;
	if (r->n < 8) {
		r->slot[r->n] = slot;
		r->pin[r->n] = pin;
		r->link[r->n] = link;
		r->gsi[r->n] = gsi;
	}
	r->n++;
}

TEST(pci_intx_pin_sharing)
{
	struct vm vm;
	struct pci_devinst *a, *b, *c;
	struct pci_pirq *p;
	struct walk_rec r = { 0 };

	config_init();
	slot_dev(0, 3, 0, "pci-test");
	slot_dev(0, 3, 1, "pci-test");
	slot_dev(0, 5, 0, "pci-test");
	CHECK_EQ(setup(&vm), 0);
	a = dev_at(&vm, 3, 0);
	b = dev_at(&vm, 3, 1);
	c = dev_at(&vm, 5, 0);
	/* Functions of a slot spread over INTA..INTD; slots over links. */
	CHECK_EQ(a->pi_lintr.pin, 1);
	CHECK_EQ(b->pi_lintr.pin, 2);
	CHECK_EQ(c->pi_lintr.pin, 1);
	CHECK(a->pi_lintr.pirq_pin != b->pi_lintr.pirq_pin);
	CHECK(a->pi_lintr.pirq_pin != c->pi_lintr.pirq_pin);
	/* Wire-OR when two functions share a link. */
	c->pi_lintr.pirq_pin = a->pi_lintr.pirq_pin; /* force sharing */
	p = &vm.pci->pirq[a->pi_lintr.pirq_pin - 1];
	pci_lintr_assert(a);
	pci_lintr_assert(c);
	CHECK_EQ(p->active_count, 2);
	pci_lintr_deassert(a);
	CHECK_EQ(p->active_count, 1);
	pci_lintr_deassert(c);
	CHECK_EQ(p->active_count, 0);
	c->pi_lintr.pirq_pin = vm.pci->intpin_pirq[5][0];
	/* What firmware tables see: slot 3 INTA/INTB, slot 5 INTA. */
	pci_walk_lintr(&vm, walk_cb, &r);
	CHECK_EQ(r.n, 3);
	CHECK_EQ(r.slot[0], 3);
	CHECK_EQ(r.pin[0], 1);
	CHECK_EQ(r.link[0], a->pi_lintr.pirq_pin);
	CHECK_EQ(r.gsi[0], 15 + a->pi_lintr.pirq_pin);
	CHECK_EQ(r.slot[1], 3);
	CHECK_EQ(r.pin[1], 2);
	CHECK_EQ(r.slot[2], 5);
	CHECK_EQ(r.link[2], c->pi_lintr.pirq_pin);
	free_vm(&vm);
	config_fini();
}

/* ---- port 0xCF9 and the interrupt plumbing without KVM ------------------ */

TEST(pci_reset_control_port)
{
	struct vm vm;

	config_init();
	CHECK_EQ(setup(&vm), 0);
	pio_wr(&vm, 0xcf9, 1, 0x02);
	CHECK_EQ(pio_rd(&vm, 0xcf9, 1), 0x02);
	CHECK_EQ(atomic_load(&vm.exit_requested), 0);
	pio_wr(&vm, 0xcf9, 1, 0x06);
	CHECK_EQ(atomic_load(&vm.exit_requested), 2);
	CHECK_EQ(vm.exit_status, KHYVE_EXIT_RESET);
	free_vm(&vm);
	config_fini();
}

TEST(irq_without_kvm)
{
	struct vm vm;

	fake_vm(&vm);
	CHECK_EQ(vm_irq_init(&vm), -ENODEV);
	CHECK(vm.irq == NULL);
	CHECK_EQ(vm_msi_route_alloc(&vm), -ENODEV);
	CHECK_EQ(vm_msi_route_set(&vm, 24, 0xfee00000, 0x41), -ENODEV);
	vm_msi_route_free(&vm, 24);
	CHECK_EQ(vm_msi_signal(&vm, 0xfee00000, 0x41), -ENODEV);
	CHECK_EQ(vm_irqfd(&vm, 0, 24, true), -ENODEV);
	CHECK_EQ(vm_ioeventfd(&vm, 0, true, 0x2000, 2, false, 0, true),
	    -ENODEV);
	CHECK_EQ(vm_isa_irq_level(&vm, 5), -ENODEV);
	vm_irq_fini(&vm);
	CHECK_EQ(vm_irq_init(NULL), -ENODEV);
	iobus_fini(&vm.pio);
	iobus_fini(&vm.mmio);
}
