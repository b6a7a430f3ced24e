/*
 * pci_priv.h - the PCI core's internal state, shared by pci_emul.c (set-up,
 * capabilities), pci_cfg.c (configuration mechanisms), pci_bar.c (BARs),
 * pci_msi.c (MSI/MSI-X), pci_irq.c (INTx and PIRQ links) and the chipset
 * functions (pci_hostbridge.c, pci_lpc.c).  Not for device emulations.
 *
 * Locks, always taken in this order, none held across a blocking call:
 *   sys->cfg_lock   one per VM: serialises configuration-space accesses,
 *                   so BAR moves, decode changes and capability writes of
 *                   one function never interleave (config cycles are rare);
 *   pi->lock        per function: pi_msi, pi_msix, pi_lintr, pi_msgs and
 *                   the bytes of pi_cfgdata the core changes after start-up
 *                   (the core's loads and stores of pi_cfgdata take it);
 *   sys->irq_lock   the PIRQ links;
 *   the vm_irq lock (vmm/irq.c).
 * Device hooks (pe_*) are called with at most cfg_lock held.
 */
#ifndef KHYVE_BUS_PCI_PRIV_H
#define KHYVE_BUS_PCI_PRIV_H

#include <stdatomic.h>

#include "bus/pci_emul.h"

#define PCI_NSLOTS 32
#define PCI_NFUNCS 8
#define PCI_NPIRQ 8
#define PCI_NISA_IRQ 16
#define PCI_PIRQ_GSI_BASE 16 /* PIRQ link n (1..8) feeds GSI 15 + n */
#define PCI_MEM64_WINDOW (32ULL << 30) /* bhyve's PCI_EMUL_MEMSIZE64 */

/* Configuration header (type 0) offsets and bits, PCI 3.0 names. */
#define PCIR_VENDOR 0x00
#define PCIR_DEVICE 0x02
#define PCIR_COMMAND 0x04
#define PCIM_CMD_PORTEN 0x0001
#define PCIM_CMD_MEMEN 0x0002
#define PCIM_CMD_BUSMASTEREN 0x0004
#define PCIM_CMD_INTXDIS 0x0400
#define PCIR_STATUS 0x06
#define PCIM_STATUS_INTR 0x0008
#define PCIM_STATUS_CAPPRESENT 0x0010
#define PCIR_REVID 0x08
#define PCIR_PROGIF 0x09
#define PCIR_SUBCLASS 0x0a
#define PCIR_CLASS 0x0b
#define PCIR_CACHELNSZ 0x0c
#define PCIR_LATTIMER 0x0d
#define PCIR_HDRTYPE 0x0e
#define PCIM_MFDEV 0x80
#define PCIR_BAR(x) (0x10 + (x) * 4)
#define PCIR_SUBVEND_0 0x2c
#define PCIR_SUBDEV_0 0x2e
#define PCIR_BIOS 0x30
#define PCIR_CAP_PTR 0x34
#define PCIR_INTLINE 0x3c
#define PCIR_INTPIN 0x3d

#define PCIM_BAR_IO_SPACE 0x1
#define PCIM_BAR_MEM_64 0x4
#define PCIM_BAR_MEM_PREFETCH 0x8

#define PCIC_BRIDGE 0x06
#define PCIS_BRIDGE_HOST 0x00
#define PCIS_BRIDGE_ISA 0x01

#define PCI_CAP_START 0x40
#define PCIY_MSI 0x05
#define PCIY_EXPRESS 0x10
#define PCIY_MSIX 0x11

#define PCIM_MSICTRL_MSI_ENABLE 0x0001
#define PCIM_MSICTRL_MMC_MASK 0x000e
#define PCIM_MSICTRL_MME_MASK 0x0070
#define PCIM_MSICTRL_64BIT 0x0080
#define PCIM_MSIXCTRL_TABLE_SIZE 0x07ff
#define PCIM_MSIXCTRL_FUNCTION_MASK 0x4000
#define PCIM_MSIXCTRL_MSIX_ENABLE 0x8000
#define PCIM_MSIX_VCTRL_MASK 0x1
#define MSIX_ENTRY_SIZE 16

#define PCIEM_TYPE_ENDPOINT 0x0
#define PCIEM_TYPE_ROOT_PORT 0x4
#define PCIEM_TYPE_ROOT_INT_EP 0x9

struct pci_func;

/* The opaque of a BAR's bus claim: which function and BAR it decodes. */
struct pci_barh {
	struct pci_func *f;
	int idx;
	uint64_t mapped_addr; /* where the claim is while pi_bar[idx].mapped */
};

/* A function as the core allocates it: the public part first. */
struct pci_func {
	struct pci_devinst pi;
	struct pci_sys *sys;
	const struct pci_devemu *emu; /* the table whose pe_* are called */
	struct pci_barh barh[PCI_BAR_ROM + 1];
	int capend;  /* last byte of the last capability; 0: none */
	int prevcap; /* offset of the last capability */
	bool lintr_on; /* counted as driving its PIRQ link (pi->lock) */
	bool inited;   /* pe_init returned 0: pe_fini is due */
};

static inline struct pci_func *pci_func_of(struct pci_devinst *pi)
{
	return (struct pci_func *)pi; /* pi is the first member */
}

/* Per MSI-X vector KVM state (pi->pi_msix.kvm is an array of these). */
struct msix_vec {
	int gsi;     /* MSI route, or -1 */
	int efd;     /* eventfd bound to gsi by an irqfd, or -1 */
	bool stale;  /* the entry changed since the route was committed */
	bool failed; /* KVM refused: deliver with KVM_SIGNAL_MSI */
};

struct pci_pirq {
	uint8_t reg;     /* the LPC's PIRQx register: IRQ or PIRQ_DIS */
	int use_count;   /* slot pins routed through the link */
	int active_count; /* functions driving it now */
};
#define PIRQ_DIS 0x80
#define PIRQ_IRQ 0x0f

struct pci_sys {
	struct vm *vm;
	pthread_mutex_t cfg_lock;
	atomic_uint cf8;        /* CONFIG_ADDRESS as the guest last wrote it */
	atomic_uchar reset_ctl; /* port 0xcf9 */
	struct pci_func *funcs[PCI_NSLOTS][PCI_NFUNCS]; /* bus 0 only */
	/* INTx: per slot and pin (INTA..INTD), users and PIRQ link (1..8). */
	int intpin_count[PCI_NSLOTS][4];
	int intpin_pirq[PCI_NSLOTS][4];
	/* BAR allocation cursors inside the windows. */
	uint64_t io_next, mem32_next, mem64_next;
	struct pci_windows win;
	pthread_mutex_t irq_lock;
	struct pci_pirq pirq[PCI_NPIRQ];
	uint8_t irq_counts[PCI_NISA_IRQ]; /* PIRQ links per ISA IRQ */
	int isa_active[PCI_NISA_IRQ];     /* asserted links per ISA IRQ */
	struct pci_func *lpc;
	bool irqfd; /* pci.irqfd: MSI-X through irqfds (default true) */
	bool cf8_claimed, cfc_claimed, ecam_claimed;
};

/* pci_emul.c */
struct pci_func *pci_sys_func(struct pci_sys *sys, int bus, int slot,
    int func);
bool pci_slot_is_multifunction(struct pci_sys *sys, int slot);
int pci_emul_add_pciecap_type(struct pci_devinst *pi, int type);
/* Locked loads and stores of pi_cfgdata (1, 2 or 4 bytes). */
uint32_t pci_cfg_load(struct pci_devinst *pi, int off, int bytes);
void pci_cfg_store(struct pci_devinst *pi, int off, int bytes, uint32_t v);
uint32_t pci_cfgdata_get(const struct pci_devinst *pi, int off, int bytes);
void pci_cfgdata_set(struct pci_devinst *pi, int off, int bytes, uint32_t v);

/* pci_cfg.c: configuration mechanism #1, ECAM and the access rules. */
int pci_cfg_install(struct pci_sys *sys);
void pci_cfg_uninstall(struct pci_sys *sys);
void pci_cfg_access(struct pci_sys *sys, int bus, int slot, int func,
    int coff, int bytes, bool write, uint32_t *val);

/* pci_bar.c (cfg_lock held unless noted) */
void pci_bar_write(struct pci_func *f, int idx, uint32_t val);
void pci_bar_decode_changed(struct pci_func *f, uint16_t oldcmd,
    uint16_t newcmd);
void pci_bar_map_all(struct pci_func *f); /* after pe_init */
void pci_bar_release_all(struct pci_func *f); /* teardown, no lock */

/* pci_msi.c */
void pci_msi_capwrite(struct pci_func *f, int capoff, int off, int bytes,
    uint32_t val);
void pci_msix_capwrite(struct pci_func *f, int capoff, int off, int bytes,
    uint32_t val);
/* Serve an access to the MSI-X BAR; false if `idx` is not that BAR. */
bool pci_msix_bar_access(struct pci_func *f, int idx, uint64_t off,
    int size, bool write, uint64_t *val);
void pci_msix_release(struct pci_func *f);

/* pci_irq.c */
void pci_irq_sys_init(struct pci_sys *sys);
void pci_irq_release(struct pci_func *f);
/* Re-evaluate INTx after command/MSI/MSI-X changes (takes pi->lock). */
void pci_lintr_update(struct pci_devinst *pi);
uint8_t pci_pirq_read(struct pci_sys *sys, int pin);
void pci_pirq_write(struct pci_sys *sys, int pin, uint8_t val);

#endif
