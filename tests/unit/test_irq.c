/*
 * test_irq.c - vmm/irq.c and the PCI core's KVM paths against a real KVM.
 *
 * This host may have no /dev/kvm; then the test checks only that building
 * a VM fails cleanly and says so.  tests/integration/t-pci.sh runs this
 * test inside the nested test VM, where /dev/kvm exists, so the KVM half
 * (GSI routing commits, irqfd, ioeventfd, KVM_SIGNAL_MSI, the PIC routes
 * and ELCR of the PIRQ links, MSI-X through irqfd) is exercised there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "bus/pci_priv.h"
#include "config.h"
#include "test.h"
#include "vmm/irq.h"
#include "vmm/vm.h"

static uint8_t pic_elcr(struct vm *vm, int chip)
{
	struct kvm_irqchip c = { .chip_id = (uint32_t)chip };

	if (ioctl(vm->fd, KVM_GET_IRQCHIP, &c) < 0)
		return 0xff;
	return c.chip.pic.elcr;
}

/* Interrupt request bits as the in-kernel chips hold them. */
static bool pic_irr(struct vm *vm, int irq)
{
	struct kvm_irqchip c = { .chip_id = irq < 8 ? KVM_IRQCHIP_PIC_MASTER :
	    KVM_IRQCHIP_PIC_SLAVE };

	if (ioctl(vm->fd, KVM_GET_IRQCHIP, &c) < 0)
		return false;
	return (c.chip.pic.irr >> (irq % 8)) & 1;
}

static uint32_t ioapic_irr(struct vm *vm)
{
	struct kvm_irqchip c = { .chip_id = KVM_IRQCHIP_IOAPIC };

	if (ioctl(vm->fd, KVM_GET_IRQCHIP, &c) < 0)
		return 0;
	return c.chip.ioapic.irr;
}

static void ecam_wr(struct vm *vm, int slot, int off, int size, uint64_t v)
{
	iobus_access(&vm->mmio, NULL, PCI_ECAM_BASE + ((uint64_t)slot << 15) +
	    (uint64_t)off, size, true, &v);
}

static void kvm_part(struct vm *vm, int *failed)
{
	struct pci_devinst *pi, *pm;
	struct pci_sys *sys;
	uint64_t one = 1, tbl;
	int g1, g2, efd, irq, rc;

	CHECK(vm->irq != NULL);
	/* MSI routes: GSIs above the I/O APIC's, distinct, reprogrammable. */
	g1 = vm_msi_route_alloc(vm);
	g2 = vm_msi_route_alloc(vm);
	CHECK(g1 >= 24);
	CHECK(g2 >= 24 && g2 != g1);
	CHECK_EQ(vm_msi_route_set(vm, g1, 0xfee00000, 0x31), 0);
	CHECK_EQ(vm_msi_route_set(vm, g1, 0xfee00000, 0x31), 0); /* no-op */
	CHECK_EQ(vm_msi_route_set(vm, 5, 0xfee00000, 0x31), -EINVAL);
	CHECK_EQ(vm_msi_route_set(vm, 4000, 0xfee00000, 0x31), -EINVAL);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK(efd >= 0);
	CHECK_EQ(vm_irqfd(vm, efd, g1, true), 0);
	CHECK(write(efd, &one, sizeof(one)) == (ssize_t)sizeof(one));
	CHECK_EQ(vm_irqfd(vm, efd, g1, false), 0);
	vm_msi_route_free(vm, g1);
	CHECK_EQ(vm_msi_route_set(vm, g1, 0xfee00000, 0x31), -EINVAL);
	CHECK_EQ(vm_msi_route_alloc(vm), g1); /* reused */
	vm_msi_route_free(vm, g1);
	vm_msi_route_free(vm, g2);
	CHECK_EQ(vm_msi_signal(vm, 0xfee00000, 0x32), 0);
	/* ioeventfd: port with and without a value, MMIO of any length. */
	CHECK_EQ(vm_ioeventfd(vm, efd, true, 0x6000, 2, false, 0, true), 0);
	CHECK_EQ(vm_ioeventfd(vm, efd, true, 0x6000, 2, false, 0, false), 0);
	CHECK_EQ(vm_ioeventfd(vm, efd, true, 0x6004, 4, true, 7, true), 0);
	CHECK_EQ(vm_ioeventfd(vm, efd, true, 0x6004, 4, true, 7, false), 0);
	CHECK_EQ(vm_ioeventfd(vm, efd, false, 0xd0000000, 0, false, 0, true),
	    0);
	CHECK_EQ(vm_ioeventfd(vm, efd, false, 0xd0000000, 0, false, 0, false),
	    0);
	CHECK_EQ(vm_ioeventfd(vm, efd, true, 0x6000, 0, false, 0, true),
	    -EINVAL);
	CHECK_EQ(vm_ioeventfd(vm, efd, true, 0x6000, 3, false, 0, true),
	    -EINVAL);
	close(efd);
	/* Level triggering in the ELCR. */
	CHECK_EQ(vm_isa_irq_level(vm, 10), 0);
	CHECK_EQ(vm_isa_irq_level(vm, 16), -EINVAL);
	CHECK(pic_elcr(vm, KVM_IRQCHIP_PIC_SLAVE) & (1 << 2));

	/* The PCI core on top: INTx gets a link with a level PIC IRQ. */
	config_set(NULL, "pci.0.3.0.device", "pci-test");
	config_set(NULL, "pci.0.4.0.device", "pci-test-msix");
	rc = pci_emul_init(vm);
	CHECK_EQ(rc, 0);
	if (rc != 0)
		return;
	sys = vm->pci;
	pi = &pci_sys_func(sys, 0, 3, 0)->pi;
	irq = pci_pirq_isa_irq(vm, pi->pi_lintr.pirq_pin);
	CHECK(irq > 0);
	if (irq > 0)
		CHECK(pic_elcr(vm, irq < 8 ? KVM_IRQCHIP_PIC_MASTER :
		    KVM_IRQCHIP_PIC_SLAVE) & (1 << (irq % 8)));
	/* Asserted: the link's I/O APIC input and its PIC input are up. */
	pci_lintr_assert(pi);
	CHECK(ioapic_irr(vm) & (1u << (15 + pi->pi_lintr.pirq_pin)));
	if (irq > 0)
		CHECK(pic_irr(vm, irq));
	pci_lintr_deassert(pi);
	CHECK(!(ioapic_irr(vm) & (1u << (15 + pi->pi_lintr.pirq_pin))));
	if (irq > 0)
		CHECK(!pic_irr(vm, irq));
	/* The guest re-routes the link while it is asserted (and, as a PIC
	 * mode guest does, makes the new IRQ level-triggered). */
	CHECK_EQ(vm_isa_irq_level(vm, 11), 0);
	pci_lintr_assert(pi);
	pci_pirq_write(sys, pi->pi_lintr.pirq_pin, 0x0b);
	CHECK(pic_irr(vm, 11));
	if (irq > 0 && irq != 11)
		CHECK(!pic_irr(vm, irq));
	pci_pirq_write(sys, pi->pi_lintr.pirq_pin, 0x80);
	CHECK(!pic_irr(vm, 11));
	CHECK(ioapic_irr(vm) & (1u << (15 + pi->pi_lintr.pirq_pin)));
	pci_lintr_deassert(pi);
	CHECK(!(ioapic_irr(vm) & (1u << (15 + pi->pi_lintr.pirq_pin))));

	/* MSI-X through an irqfd. */
	pm = &pci_sys_func(sys, 0, 4, 0)->pi;
	tbl = pm->pi_bar[2].addr;
	iobus_access(&vm->mmio, NULL, tbl, 8, true,
	    &(uint64_t){ 0xfee00000ULL });
	iobus_access(&vm->mmio, NULL, tbl + 8, 4, true, &(uint64_t){ 0x33 });
	iobus_access(&vm->mmio, NULL, tbl + 12, 4, true, &(uint64_t){ 0 });
	ecam_wr(vm, 4, pm->pi_msix.capoff + 2, 2, 0x8000);
	CHECK(pci_msix_enabled(pm));
	pci_generate_msix(pm, 0);
	CHECK_EQ(pm->pi_msgs.count, 1);
	{
		struct msix_vec *v = pm->pi_msix.kvm;

		CHECK(v[0].gsi >= 24);
		CHECK(v[0].efd >= 0);
		CHECK(!v[0].stale);
		CHECK(!v[0].failed);
	}
	/* Re-programming commits the new route on the next message. */
	iobus_access(&vm->mmio, NULL, tbl + 8, 4, true, &(uint64_t){ 0x34 });
	pci_generate_msix(pm, 0);
	CHECK_EQ(pm->pi_msgs.data, 0x34);
	pci_emul_fini(vm);
}

TEST(irq_kvm_routing)
{
	struct vm vm;
	int fd, rc;

	config_init();
	config_set(NULL, "memory.size", "32M");
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		/* No KVM here: the VM cannot be built, and must say so. */
		rc = vm_create(&vm, config_root());
		CHECK(rc < 0);
		CHECK(vm.irq == NULL);
		printf("  (no /dev/kvm: only the failure path was checked; "
		    "tests/integration/t-pci.sh runs this under KVM)\n");
		config_fini();
		return;
	}
	close(fd);
	rc = vm_create(&vm, config_root());
	CHECK_EQ(rc, 0);
	if (rc == 0) {
		kvm_part(&vm, failed);
		vm_destroy(&vm);
	}
	config_fini();
}
