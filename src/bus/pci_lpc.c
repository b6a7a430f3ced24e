/*
 * pci_lpc.c - the LPC (PCI-to-ISA) bridge function (bhyve's pci_lpc.c):
 * vendor 0x8086 device 0x7000 (Intel PIIX3), class 06/01.  It makes the
 * legacy devices' bridge visible to the guest and holds the PCI interrupt
 * router's PIRQ registers: PIRQA-D at 0x60-0x63, PIRQE-H at 0x68-0x6b,
 * each "IRQ number, bit 7 = disabled" (pci_irq.c does the routing).
 *
 * Only one LPC bridge, and only on bus 0 (as bhyve).  The ISA devices
 * themselves (-l com1, pc-testdev, ...) are platform devices in khyve and
 * work with or without this function; the ELCR ports 0x4d0/0x4d1 belong
 * to KVM's in-kernel PIC.
 */
#include <errno.h>

#include "bus/pci_priv.h"
#include "config.h"
#include "vmm/vm.h"

#define LPC_VENDOR 0x8086
#define LPC_DEVICE 0x7000

/* The PIRQ link (1..8) whose register is at `off`, or 0. */
static int pirq_at(int off)
{
	if (off >= 0x60 && off <= 0x63)
		return off - 0x60 + 1;
	if (off >= 0x68 && off <= 0x6b)
		return off - 0x68 + 5;
	return 0;
}

static bool touches_pirq(int off, int bytes)
{
	for (int i = 0; i < bytes; i++)
		if (pirq_at(off + i) != 0)
			return true;
	return false;
}

static int lpc_cfgwrite(struct pci_devinst *pi, int off, int bytes,
    uint32_t val)
{
	struct pci_sys *sys = pci_func_of(pi)->sys;

	if (!touches_pirq(off, bytes))
		return -ENOTSUP;
	/* Any width: each byte of the access is one register (or RAM). */
	for (int i = 0; i < bytes; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		int pin = pirq_at(off + i);

		if (pin != 0)
			pci_pirq_write(sys, pin, b);
		else
			pci_cfg_store(pi, off + i, 1, b);
	}
	return 0;
}

static int lpc_cfgread(struct pci_devinst *pi, int off, int bytes,
    uint32_t *val)
{
	struct pci_sys *sys = pci_func_of(pi)->sys;
	uint32_t v = 0;

	if (!touches_pirq(off, bytes))
		return -ENOTSUP;
	for (int i = 0; i < bytes; i++) {
		int pin = pirq_at(off + i);
		uint8_t b = pin != 0 ? pci_pirq_read(sys, pin) :
		    (uint8_t)pci_cfg_load(pi, off + i, 1);

		v |= (uint32_t)b << (8 * i);
	}
	*val = v;
	return 0;
}

static int lpc_init(struct pci_devinst *pi, struct config_node *cfg)
{
	struct pci_func *f = pci_func_of(pi);

	(void)cfg;
	if (f->sys->lpc != NULL) {
		khyve_warnx("pci slot %d:%d:%d: only one LPC bridge is allowed",
		    pi->pi_bus, pi->pi_slot, pi->pi_func);
		return -EINVAL;
	}
	if (pi->pi_bus != 0) {
		khyve_warnx("pci slot %d:%d:%d: the LPC bridge can be present "
		    "only on bus 0", pi->pi_bus, pi->pi_slot, pi->pi_func);
		return -EINVAL;
	}
	pci_set_cfgdata16(pi, PCIR_VENDOR, LPC_VENDOR);
	pci_set_cfgdata16(pi, PCIR_DEVICE, LPC_DEVICE);
	pci_set_cfgdata8(pi, PCIR_CLASS, PCIC_BRIDGE);
	pci_set_cfgdata8(pi, PCIR_SUBCLASS, PCIS_BRIDGE_ISA);
	f->sys->lpc = f;
	return 0;
}

static const struct pci_devemu pci_de_lpc = {
	.pe_emu = "lpc",
	.pe_help = "LPC/ISA bridge with the PIRQ router (bus 0, one only)",
	.pe_init = lpc_init,
	.pe_cfgwrite = lpc_cfgwrite,
	.pe_cfgread = lpc_cfgread,
};
PCI_EMUL_SET(pci_de_lpc);

int pci_lpc_slot(struct vm *vm, int *func)
{
	struct pci_sys *sys = vm->pci;

	if (sys == NULL || sys->lpc == NULL)
		return -1;
	if (func != NULL)
		*func = sys->lpc->pi.pi_func;
	return sys->lpc->pi.pi_slot;
}
