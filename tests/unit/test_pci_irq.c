/*
 * test_pci_irq.c - interrupts of the PCI core without KVM: MSI, MSI-X
 * (table, masks, PBA), INTx levels and PIRQ links, the LPC's PIRQ
 * registers, port 0xCF9, and vmm/irq.c refusing to work without a VM.
 * Deliveries are observed through pi->pi_msgs and the link counters.
 */
#include <errno.h>

#include "config.h"
#include "pci_fixture.h"
#include "test.h"
#include "vmm/irq.h"

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

	pci_fake_vm(&vm);
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
