/*
 * test_pci.c - the PCI core (bus/pci_*.c) on a VM without KVM: config
 * mechanism #1, ECAM, absent functions, the multi-function bit, BARs
 * (allocation, sizing, moves, decode), command/status, capabilities,
 * configuration errors and the host bridges.  Cycles take the guest's
 * paths (ports 0xCF8/0xCFC, the ECAM window on vm->mmio).  Fixture and
 * test emulations: pci_fixture.h.
 */
#include <errno.h>

#include "config.h"
#include "pci_fixture.h"
#include "test.h"

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
	pci_fake_vm(&vm);
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
