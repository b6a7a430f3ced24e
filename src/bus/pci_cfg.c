/*
 * pci_cfg.c - configuration space: mechanism #1 (ports 0xCF8/0xCFC), the
 * ECAM window, and what a configuration read or write does (bhyve's
 * pci_cfgrw, pci_emul_cfgaddr/cfgdata, pci_emul_ecfg_handler).
 *
 * Trust: everything here comes from the guest.  An access reaches a
 * function only if it is 1, 2 or 4 bytes, naturally aligned and inside
 * the 4 KiB space (mechanism #1 reaches the first 256 bytes only: as
 * bhyve, the AMD extended-register bits 27:24 of CONFIG_ADDRESS are
 * ignored).  Anything else, and any access to an absent function, reads
 * all ones and writes nothing.
 *
 * Port 0xCF9 (reset control) shares the dword at 0xCF8: a bus claim
 * cannot be split, so the claim of 0xCF8-0xCFB serves it here (bhyve keeps
 * it in pm.c): byte writes with bit 2 set reset the machine.
 */
#include <errno.h>

#include "bus/pci_priv.h"
#include "vmm/vm.h"

#define CONF1_ADDR_PORT 0xcf8
#define CONF1_DATA_PORT 0xcfc
#define CONF1_ENABLE 0x80000000u
#define RESET_CTL_RST_CPU 0x04

/* ---- the access rules --------------------------------------------------- */

static bool is_bar_reg(int coff)
{
	return (coff >= PCIR_BAR(0) && coff < PCIR_BAR(PCI_BARMAX + 1)) ||
	    (coff >= PCIR_BIOS && coff < PCIR_BIOS + 4);
}

static bool in_caps(struct pci_func *f, int coff)
{
	return f->capend != 0 && coff >= PCI_CAP_START && coff <= f->capend;
}

/* The capability (offset) holding `coff`; the list is the core's own. */
static int cap_at(struct pci_func *f, int coff)
{
	int cap = pci_get_cfgdata8(&f->pi, PCIR_CAP_PTR), n = 0;

	while (cap >= PCI_CAP_START && n++ < 48) {
		int next = pci_get_cfgdata8(&f->pi, cap + 1);

		if (coff >= cap && (next == 0 || next <= cap || coff < next))
			return cap;
		cap = next;
	}
	return -1;
}

/* Control registers of the PCIe capability (offsets from its start):
 * device, link, slot, root, device 2, link 2, slot 2 control. */
static bool pciecap_ctl_byte(int rel)
{
	static const int ctl[] = { 8, 16, 24, 28, 40, 48, 56 };

	for (size_t i = 0; i < ARRAY_SIZE(ctl); i++)
		if (rel == ctl[i] || rel == ctl[i] + 1)
			return true;
	return false;
}

static void pciecap_write(struct pci_func *f, int capoff, int coff,
    int bytes, uint32_t val)
{
	/* Only the control registers are writable; the rest describes the
	 * (virtual) link and never changes, and the status registers' RW1C
	 * bits are never set. */
	for (int i = 0; i < bytes; i++)
		if (pciecap_ctl_byte(coff + i - capoff))
			pci_cfg_store(&f->pi, coff + i, 1,
			    (val >> (8 * i)) & 0xff);
}

static void cap_write(struct pci_func *f, int coff, int bytes, uint32_t val)
{
	int capoff = cap_at(f, coff), capid;

	if (capoff < 0)
		return;
	/*
	 * ID and next pointer are read-only, but some systems write the
	 * first dword whole: keep its upper half (bhyve does the same).
	 */
	if (coff == capoff || coff == capoff + 1) {
		if (coff != capoff || bytes != 4)
			return;
		coff += 2;
		bytes = 2;
		val >>= 16;
	}
	capid = pci_get_cfgdata8(&f->pi, capoff);
	switch (capid) {
	case PCIY_MSI:
		pci_msi_capwrite(f, capoff, coff, bytes, val);
		break;
	case PCIY_MSIX:
		pci_msix_capwrite(f, capoff, coff, bytes, val);
		break;
	case PCIY_EXPRESS:
		pciecap_write(f, capoff, coff, bytes, val);
		break;
	default:
		break; /* vendor capabilities: the device's hook decides */
	}
}

/*
 * Command and status (0x04-0x07).  Writable command bits as bhyve:
 * 0-6 and 8-10 (I/O, memory, bus master, ..., SERR, fast back-to-back,
 * Interrupt Disable); status is read-only (its RW1C bits are never set).
 */
static void cmdsts_write(struct pci_func *f, int coff, int bytes,
    uint32_t val)
{
	struct pci_devinst *pi = &f->pi;
	uint32_t ro = 0xfffff880u >> ((coff & 3) * 8), old;
	uint16_t oldcmd, newcmd;

	pthread_mutex_lock(&pi->lock);
	oldcmd = pci_get_cfgdata16(pi, PCIR_COMMAND);
	old = pci_cfgdata_get(pi, coff, bytes);
	pci_cfgdata_set(pi, coff, bytes, (val & ~ro) | (old & ro));
	newcmd = pci_get_cfgdata16(pi, PCIR_COMMAND);
	pthread_mutex_unlock(&pi->lock);
	if (oldcmd == newcmd)
		return;
	pci_bar_decode_changed(f, oldcmd, newcmd);
	if ((oldcmd ^ newcmd) & PCIM_CMD_INTXDIS)
		pci_lintr_update(pi);
}

/* Bytes of the type 0 header a guest may change (besides BARs, command). */
static bool header_byte_writable(int off)
{
	return off == PCIR_CACHELNSZ || off == PCIR_LATTIMER ||
	    off == PCIR_INTLINE;
}

static void header_write(struct pci_func *f, int coff, int bytes,
    uint32_t val)
{
	for (int i = 0; i < bytes; i++)
		if (header_byte_writable(coff + i))
			pci_cfg_store(&f->pi, coff + i, 1,
			    (val >> (8 * i)) & 0xff);
}

/* bhyve's pci_emul_hdrtype_fixup: the multi-function bit is the core's. */
static uint32_t hdrtype_fixup(struct pci_sys *sys, int slot, int coff,
    int bytes, uint32_t v)
{
	int shift;

	if (coff > PCIR_HDRTYPE || coff + bytes <= PCIR_HDRTYPE)
		return v;
	shift = (PCIR_HDRTYPE - coff) * 8;
	v &= ~((uint32_t)PCIM_MFDEV << shift);
	if (pci_slot_is_multifunction(sys, slot))
		v |= (uint32_t)PCIM_MFDEV << shift;
	return v;
}

void pci_cfg_access(struct pci_sys *sys, int bus, int slot, int func,
    int coff, int bytes, bool write, uint32_t *val)
{
	struct pci_func *f = pci_sys_func(sys, bus, slot, func);
	const struct pci_devemu *pe;
	struct pci_devinst *pi;
	uint32_t v;

	if (f == NULL || (bytes != 1 && bytes != 2 && bytes != 4) ||
	    coff < 0 || (coff & (bytes - 1)) != 0 ||
	    coff + bytes > PCI_REGMAX + 1) {
		if (!write)
			*val = 0xffffffffu;
		return;
	}
	pi = &f->pi;
	pe = f->emu;
	pthread_mutex_lock(&sys->cfg_lock);
	if (!write) {
		if (pe->pe_cfgread == NULL ||
		    pe->pe_cfgread(pi, coff, bytes, &v) != 0)
			v = pci_cfg_load(pi, coff, bytes);
		if (bytes < 4)
			v &= (1u << (bytes * 8)) - 1;
		*val = hdrtype_fixup(sys, slot, coff, bytes, v);
		goto out;
	}
	v = *val;
	if (bytes < 4)
		v &= (1u << (bytes * 8)) - 1;
	if (pe->pe_cfgwrite != NULL && pe->pe_cfgwrite(pi, coff, bytes, v) == 0)
		goto out;
	if (is_bar_reg(coff)) {
		/* Only whole, aligned dwords move a BAR (bhyve). */
		if (bytes == 4)
			pci_bar_write(f, coff == PCIR_BIOS ? PCI_BAR_ROM :
			    (coff - PCIR_BAR(0)) / 4, v);
	} else if (in_caps(f, coff)) {
		cap_write(f, coff, bytes, v);
	} else if (coff >= PCIR_COMMAND && coff < PCIR_REVID) {
		cmdsts_write(f, coff, bytes, v);
	} else if (coff < PCI_CAP_START) {
		header_write(f, coff, bytes, v);
	} else if (coff < 0x100) {
		/* Device-specific space outside the capabilities: RAM, as
		 * bhyve keeps it. */
		pci_cfg_store(pi, coff, bytes, v);
	}
	/* Extended space (0x100+) is read-only unless the device hooks it. */
out:
	pthread_mutex_unlock(&sys->cfg_lock);
}

/* ---- mechanism #1 ------------------------------------------------------- */

static int cf8_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct pci_sys *sys = opaque;
	uint32_t x;

	(void)vcpu;
	if (offset == 0 && size == 4) {
		if (!write) {
			*val = atomic_load(&sys->cf8);
			return 0;
		}
		/* Keep what the guest can read back: enable, bus, device,
		 * function, dword register; reserved bits read as zero. */
		x = (uint32_t)*val;
		atomic_store(&sys->cf8, x & (CONF1_ENABLE | 0x00fffffcu));
		return 0;
	}
	if (offset == 1 && size == 1) {
		uint8_t v = (uint8_t)*val;

		if (!write) {
			*val = atomic_load(&sys->reset_ctl);
			return 0;
		}
		atomic_store(&sys->reset_ctl, v);
		if (v & RESET_CTL_RST_CPU) {
			khyve_dbg("port 0xcf9: reset (0x%02x)", v);
			vm_request_exit(sys->vm, KHYVE_EXIT_RESET);
		}
		return 0;
	}
	/* Narrow accesses to 0xCF8 are not configuration cycles. */
	if (!write)
		*val = ~0ULL;
	return 0;
}

static int cfc_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct pci_sys *sys = opaque;
	uint32_t x = atomic_load(&sys->cf8), v;

	(void)vcpu;
	if (!(x & CONF1_ENABLE)) {
		if (!write)
			*val = ~0ULL;
		return 0;
	}
	v = (uint32_t)*val;
	pci_cfg_access(sys, (x >> 16) & 0xff, (x >> 11) & 0x1f, (x >> 8) & 7,
	    (int)((x & 0xfc) + offset), size, write, &v);
	if (!write)
		*val = v;
	return 0;
}

static int ecam_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct pci_sys *sys = opaque;
	uint32_t v = (uint32_t)*val;

	(void)vcpu;
	if (size == 8) { /* no 8-byte configuration cycles */
		if (!write)
			*val = ~0ULL;
		return 0;
	}
	pci_cfg_access(sys, (int)(offset >> 20) & 0xff,
	    (int)(offset >> 15) & 0x1f, (int)(offset >> 12) & 7,
	    (int)(offset & 0xfff), size, write, &v);
	if (!write)
		*val = v;
	return 0;
}

int pci_cfg_install(struct pci_sys *sys)
{
	struct vm *vm = sys->vm;
	int rc;

	if ((rc = iobus_register(&vm->pio, CONF1_ADDR_PORT, 4, cf8_io, sys,
		 "pci-config-address")) != 0)
		return rc;
	sys->cf8_claimed = true;
	if ((rc = iobus_register(&vm->pio, CONF1_DATA_PORT, 4, cfc_io, sys,
		 "pci-config-data")) != 0)
		return rc;
	sys->cfc_claimed = true;
	if ((rc = iobus_register(&vm->mmio, PCI_ECAM_BASE, PCI_ECAM_SIZE,
		 ecam_io, sys, "pci-ecam")) != 0)
		return rc;
	sys->ecam_claimed = true;
	return 0;
}

void pci_cfg_uninstall(struct pci_sys *sys)
{
	struct vm *vm = sys->vm;

	if (sys->ecam_claimed)
		iobus_unregister(&vm->mmio, PCI_ECAM_BASE);
	if (sys->cfc_claimed)
		iobus_unregister(&vm->pio, CONF1_DATA_PORT);
	if (sys->cf8_claimed)
		iobus_unregister(&vm->pio, CONF1_ADDR_PORT);
	sys->ecam_claimed = sys->cfc_claimed = sys->cf8_claimed = false;
}
