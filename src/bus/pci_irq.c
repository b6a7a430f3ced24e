/*
 * pci_irq.c - INTx: interrupt pins, the eight PIRQ links A..H of an
 * ICH-style interrupt router, and their wiring into KVM (bhyve's pci_irq.c
 * and the lintr half of pci_emul.c).
 *
 * Wiring.  A function's pin (INTA..INTD, the least used pin of its slot)
 * is routed once per slot pin to a PIRQ link (the least used link).  Link
 * n (1..8) feeds I/O APIC input 15 + n (GSI 16..23), which is what the
 * guest uses in APIC mode; its LPC register (0x60-0x63, 0x68-0x6b, see
 * pci_lpc.c) names an ISA IRQ for PIC mode.  An asserted link drives both
 * its GSI and, when the register holds a permitted IRQ, that ISA IRQ's
 * GSI (PIC input and the I/O APIC pin of the same number, masked by a
 * guest in APIC mode) -- bhyve's vm_isa_assert_irq(isa, ioapic), and what
 * QEMU's PIIX does.  This keeps KVM's routing table fixed while the guest
 * runs.  Each link gets a default ISA IRQ from bhyve's permitted set when
 * first used, marked level-triggered in the ELCR (the in-kernel PIC serves
 * ports 0x4d0/0x4d1).
 *
 * Levels.  PCI INTx is level-triggered and active-low on the wire; KVM
 * takes the logical level (1 = asserted) and applies the guest's polarity.
 * A link is asserted while any function drives it (active_count); an ISA
 * IRQ while any asserted link is routed to it (isa_active).  A
 * function drives its link while it asserts INTx and the guest permits
 * INTx: Interrupt Disable clear and neither MSI nor MSI-X enabled (bhyve's
 * IDLE/ASSERTED/PENDING states are pi_lintr.asserted + lintr_on).  The
 * status register's Interrupt Status bit follows the function's level.
 */
#include <errno.h>

#include "bus/pci_priv.h"
#include "vmm/irq.h"
#include "vmm/vm.h"

/* ISA IRQs a link may use: 3-7, 9-12, 14-15 (bhyve's PERMITTED_IRQS). */
#define PERMITTED_IRQS 0xdef8
#define IRQ_PERMITTED(irq) (((1u << (irq)) & PERMITTED_IRQS) != 0)
#define IRQ_DISABLED 0xff
/*
 * ISA IRQs of devices every khyve VM may have, kept off the links as
 * bhyve's pci_irq_reserve() does: COM1/COM3 (4), COM2/COM4 (3), the ACPI
 * SCI (9), the i8042 mouse (12).  (The PCI core is built before the
 * platform devices, so it cannot ask them.)
 */
static const int reserved_irqs[] = { 3, 4, 9, 12 };

static int link_gsi(int pirq_pin)
{
	return PCI_PIRQ_GSI_BASE - 1 + pirq_pin;
}

static bool reg_valid(uint8_t reg)
{
	return !(reg & PIRQ_DIS) && IRQ_PERMITTED(reg & PIRQ_IRQ);
}

static void set_line(struct pci_sys *sys, int gsi, int level)
{
	if (sys->vm->fd >= 0)
		(void)vm_irq_line(sys->vm, (unsigned)gsi, level);
}

void pci_irq_sys_init(struct pci_sys *sys)
{
	for (int i = 0; i < PCI_NPIRQ; i++)
		sys->pirq[i] = (struct pci_pirq){ .reg = PIRQ_DIS };
	for (int i = 0; i < PCI_NISA_IRQ; i++)
		sys->irq_counts[i] = IRQ_PERMITTED(i) ? 0 : IRQ_DISABLED;
	for (size_t i = 0; i < ARRAY_SIZE(reserved_irqs); i++)
		sys->irq_counts[reserved_irqs[i]] = IRQ_DISABLED;
}

/* Pick the least used link, and give it an ISA IRQ if it has none yet.
 * sys->irq_lock held. */
static int alloc_link(struct pci_sys *sys)
{
	int best = 0, irq, best_irq = -1;

	for (int p = 1; p < PCI_NPIRQ; p++)
		if (sys->pirq[p].use_count < sys->pirq[best].use_count)
			best = p;
	sys->pirq[best].use_count++;
	if (sys->pirq[best].reg == PIRQ_DIS) {
		for (irq = 0; irq < PCI_NISA_IRQ; irq++) {
			if (sys->irq_counts[irq] == IRQ_DISABLED)
				continue;
			if (best_irq < 0 ||
			    sys->irq_counts[irq] < sys->irq_counts[best_irq])
				best_irq = irq;
		}
		if (best_irq >= 0) {
			sys->irq_counts[best_irq]++;
			sys->pirq[best].reg = (uint8_t)best_irq;
			if (sys->vm->fd >= 0)
				(void)vm_isa_irq_level(sys->vm, best_irq);
		}
	}
	return best + 1;
}

void pci_lintr_request(struct pci_devinst *pi)
{
	struct pci_func *f = pci_func_of(pi);
	struct pci_sys *sys = f->sys;
	int slot = pi->pi_slot, best = 0, link;
	uint8_t reg;

	if (pi->pi_lintr.pin != 0)
		return; /* one pin per function */
	pthread_mutex_lock(&sys->irq_lock);
	for (int p = 1; p < 4; p++)
		if (sys->intpin_count[slot][p] < sys->intpin_count[slot][best])
			best = p;
	sys->intpin_count[slot][best]++;
	if (sys->intpin_pirq[slot][best] == 0)
		sys->intpin_pirq[slot][best] = alloc_link(sys);
	link = sys->intpin_pirq[slot][best];
	reg = sys->pirq[link - 1].reg;
	pthread_mutex_unlock(&sys->irq_lock);

	pthread_mutex_lock(&pi->lock);
	pi->pi_lintr.pin = best + 1;
	pi->pi_lintr.pirq_pin = link;
	pi->pi_lintr.ioapic_irq = link_gsi(link);
	pi->pi_lintr.asserted = 0;
	pci_set_cfgdata8(pi, PCIR_INTPIN, (uint8_t)(best + 1));
	/* What a PC BIOS leaves there: the PIC-mode IRQ. */
	pci_set_cfgdata8(pi, PCIR_INTLINE, reg_valid(reg) ?
	    (uint8_t)(reg & PIRQ_IRQ) : 255);
	pthread_mutex_unlock(&pi->lock);
}

/* An asserted link starts or stops driving the ISA IRQ its register
 * names.  sys->irq_lock held. */
static void isa_drive(struct pci_sys *sys, uint8_t reg, bool on)
{
	int irq = reg & PIRQ_IRQ;

	if (!reg_valid(reg))
		return;
	if (on) {
		if (++sys->isa_active[irq] == 1)
			set_line(sys, irq, 1);
	} else if (sys->isa_active[irq] > 0) {
		if (--sys->isa_active[irq] == 0)
			set_line(sys, irq, 0);
	}
}

/* A function starts or stops driving its link.  pi->lock held. */
static void link_drive(struct pci_sys *sys, int link, bool on)
{
	struct pci_pirq *p = &sys->pirq[link - 1];

	pthread_mutex_lock(&sys->irq_lock);
	if (on) {
		if (++p->active_count == 1) {
			set_line(sys, link_gsi(link), 1);
			isa_drive(sys, p->reg, true);
		}
	} else if (p->active_count > 0) {
		if (--p->active_count == 0) {
			set_line(sys, link_gsi(link), 0);
			isa_drive(sys, p->reg, false);
		}
	}
	pthread_mutex_unlock(&sys->irq_lock);
}

static bool permitted(struct pci_devinst *pi)
{
	return !(pci_get_cfgdata16(pi, PCIR_COMMAND) & PCIM_CMD_INTXDIS) &&
	    !pi->pi_msi.enabled && !pi->pi_msix.enabled;
}

static void update_locked(struct pci_devinst *pi)
{
	struct pci_func *f = pci_func_of(pi);
	bool want = pi->pi_lintr.asserted && permitted(pi);

	if (pi->pi_lintr.pin == 0 || want == f->lintr_on)
		return;
	f->lintr_on = want;
	link_drive(f->sys, pi->pi_lintr.pirq_pin, want);
}

void pci_lintr_update(struct pci_devinst *pi)
{
	pthread_mutex_lock(&pi->lock);
	update_locked(pi);
	pthread_mutex_unlock(&pi->lock);
}

static void lintr_set(struct pci_devinst *pi, int level)
{
	uint16_t sts;

	pthread_mutex_lock(&pi->lock);
	if (pi->pi_lintr.pin != 0) {
		pi->pi_lintr.asserted = level;
		sts = pci_get_cfgdata16(pi, PCIR_STATUS);
		sts = level ? sts | PCIM_STATUS_INTR :
		    sts & (uint16_t)~PCIM_STATUS_INTR;
		pci_set_cfgdata16(pi, PCIR_STATUS, sts);
		update_locked(pi);
	}
	pthread_mutex_unlock(&pi->lock);
}

void pci_lintr_assert(struct pci_devinst *pi)
{
	lintr_set(pi, 1);
}

void pci_lintr_deassert(struct pci_devinst *pi)
{
	lintr_set(pi, 0);
}

void pci_irq_release(struct pci_func *f)
{
	struct pci_devinst *pi = &f->pi;
	struct pci_sys *sys = f->sys;

	pthread_mutex_lock(&pi->lock);
	if (f->lintr_on) {
		f->lintr_on = false;
		link_drive(sys, pi->pi_lintr.pirq_pin, false);
	}
	if (pi->pi_lintr.pin != 0) {
		pthread_mutex_lock(&sys->irq_lock);
		sys->intpin_count[pi->pi_slot][pi->pi_lintr.pin - 1]--;
		pthread_mutex_unlock(&sys->irq_lock);
		pi->pi_lintr.pin = 0;
	}
	pthread_mutex_unlock(&pi->lock);
}

/* ---- the PIRQ registers (the LPC function's config space) --------------- */

uint8_t pci_pirq_read(struct pci_sys *sys, int pin)
{
	uint8_t v;

	if (pin < 1 || pin > PCI_NPIRQ)
		return 0xff;
	pthread_mutex_lock(&sys->irq_lock);
	v = sys->pirq[pin - 1].reg;
	pthread_mutex_unlock(&sys->irq_lock);
	return v;
}

void pci_pirq_write(struct pci_sys *sys, int pin, uint8_t val)
{
	struct pci_pirq *p;
	uint8_t reg = val & (PIRQ_DIS | PIRQ_IRQ);

	if (pin < 1 || pin > PCI_NPIRQ)
		return;
	p = &sys->pirq[pin - 1];
	pthread_mutex_lock(&sys->irq_lock);
	if (p->reg != reg) {
		/* An asserted link moves its level to the new ISA IRQ. */
		if (p->active_count != 0)
			isa_drive(sys, p->reg, false);
		p->reg = reg;
		if (p->active_count != 0)
			isa_drive(sys, p->reg, true);
	}
	pthread_mutex_unlock(&sys->irq_lock);
}

/* ---- for firmware tables ----------------------------------------------- */

void pci_walk_lintr(struct vm *vm, pci_lintr_cb cb, void *arg)
{
	struct pci_sys *sys = vm->pci;

	if (sys == NULL)
		return;
	for (int slot = 0; slot < PCI_NSLOTS; slot++)
		for (int pin = 0; pin < 4; pin++)
			if (sys->intpin_count[slot][pin] != 0)
				cb(0, slot, pin + 1, sys->intpin_pirq[slot][pin],
				    link_gsi(sys->intpin_pirq[slot][pin]), arg);
}

int pci_pirq_isa_irq(struct vm *vm, int pirq_pin)
{
	uint8_t reg;

	if (vm->pci == NULL || pirq_pin < 1 || pirq_pin > PCI_NPIRQ)
		return -1;
	reg = pci_pirq_read(vm->pci, pirq_pin);
	return reg_valid(reg) ? reg & PIRQ_IRQ : -1;
}
