/*
 * pci_emul.h - the PCI world: configuration space, BARs, capabilities,
 * MSI/MSI-X and INTx (bhyve's pci_emul.h / pci_emul.c / pci_irq.c).
 *
 * Each emulation (hostbridge, lpc, virtio-blk, ...) is one file that
 * defines a `const struct pci_devemu` with designated initializers and adds
 * it with PCI_EMUL_SET(); the core finds emulations by walking that set.
 *
 * Life cycle: options.c stores "-s B:S:F,emul,conf" under pci.B.S.F (key
 * "device" = emulation name, the rest from pe_legacy_config).  After the
 * VM exists, pci_emul_init() walks pci.*.*.* in bus/slot/function order,
 * rejects unknown emulations (-EINVAL, message naming the slot), allocates
 * a struct pci_devinst per function and calls pe_init, which fills the
 * configuration header (IDs, class), asks for BARs and capabilities, and
 * sets pi_arg to its own state.  BAR addresses are assigned at allocation
 * (like bhyve: the guest may reprogram them; firmware need not).
 *
 * Threads and trust: pe_cfgread/pe_cfgwrite/pe_barread/pe_barwrite run on
 * vCPU threads (several at once); every offset, size and value comes from
 * the guest.  The core bounds offsets and sizes before calling a device
 * (a config access is 1, 2 or 4 bytes, naturally aligned, inside the 4 KiB
 * extended space; a BAR access lies inside the BAR), so devices only need
 * to validate the meaning of values.  A device with state shared between
 * vCPUs and its I/O thread locks it.  pci_generate_msi(x) and
 * pci_lintr_assert/deassert may be called from any thread.
 */
#ifndef KHYVE_BUS_PCI_EMUL_H
#define KHYVE_BUS_PCI_EMUL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common.h"

struct config_node;
struct vm;
struct pci_devinst;

#define PCI_EMUL_NAME_MAX 31
#define PCI_BARMAX 5               /* BAR 0..5 */
#define PCI_BAR_ROM (PCI_BARMAX + 1) /* index of the expansion ROM BAR */
#define PCI_REGMAX 0xfff           /* extended configuration space (ECAM) */
#define PCI_MSIX_MAX_VECTORS 2048

/*
 * Address windows (bhyve's layout).  Port I/O BARs: [0x2000, 0x10000).
 * 32-bit memory BARs: [GMEM_LOWMEM_LIMIT (3 GiB), PCI_ECAM_BASE).  ECAM:
 * 256 MiB at 0xE0000000 (buses 0..255).  64-bit memory BARs of 32 MiB or
 * more: a window above the top of RAM, aligned to its size (see
 * pci_emul_windows); smaller 64-bit BARs go in the 32-bit window, as
 * bhyve does, so a 32-bit guest can reach every virtio device.
 */
#define PCI_IOBASE 0x2000
#define PCI_IOLIMIT 0x10000
#define PCI_ECAM_BASE 0xE0000000ULL
#define PCI_ECAM_SIZE 0x10000000ULL
#define PCI_MEM64_MIN_HIGH (32ULL << 20)

enum pcibar_type {
	PCIBAR_NONE = 0,
	PCIBAR_IO,
	PCIBAR_MEM32,
	PCIBAR_MEM64,   /* takes two BAR slots: idx and idx + 1 */
	PCIBAR_MEMHI64, /* internal: the upper half of a PCIBAR_MEM64 */
	PCIBAR_ROM,
};

struct pcibar {
	enum pcibar_type type;
	uint64_t size; /* power of two; 0 if unused */
	uint64_t addr; /* guest physical (or port) address while assigned */
	bool prefetch;
	bool mapped;   /* registered on a bus (decode enabled, valid addr) */
};

struct msix_table_entry {
	uint64_t addr;
	uint32_t msg_data;
	uint32_t vector_control; /* bit 0: masked */
};

/*
 * Interrupt state.  Owned by the core; devices use the functions below.
 * `lock` protects pi_msi, pi_msix and pi_lintr; the core never calls a
 * device with it held.
 */
struct pci_devinst {
	const struct pci_devemu *pi_d;
	struct vm *pi_vm;
	struct config_node *pi_cfg; /* the pci.B.S.F node */
	uint8_t pi_bus, pi_slot, pi_func;
	char pi_name[PCI_EMUL_NAME_MAX + 1];
	void *pi_arg; /* the emulation's state, set by pe_init */

	pthread_mutex_t lock;
	struct {
		int pin;        /* 1..4 (INTA..INTD), 0 if none */
		int pirq_pin;   /* 1..8, the PIRQ link routed to */
		int ioapic_irq; /* GSI the link feeds */
		int asserted;   /* level as the device last set it */
	} pi_lintr;
	struct {
		bool enabled;
		uint64_t addr;
		uint16_t msg_data;
		int maxmsgnum; /* vectors the capability offers */
		int nmsgs;     /* vectors the guest enabled */
		int capoff;
	} pi_msi;
	struct {
		bool enabled;
		bool function_mask;
		int table_bar, pba_bar;
		uint32_t table_offset, pba_offset;
		int table_count;
		uint32_t pba_size;
		int capoff;
		struct msix_table_entry *table;
		uint64_t *pba;
		void *kvm; /* per-vector irqfd/GSI state (pci_msi.c) */
	} pi_msix;

	struct pcibar pi_bar[PCI_BAR_ROM + 1];
	uint8_t pi_cfgdata[PCI_REGMAX + 1];

	/*
	 * (Extension.)  Messages the core raised for this function, MSI and
	 * MSI-X alike, whether through an irqfd, KVM_SIGNAL_MSI or nowhere
	 * (no KVM, as in the unit tests): how many, and the last address and
	 * data.  Under `lock`; for tests and debugging.
	 */
	struct {
		uint64_t count;
		uint64_t addr;
		uint32_t data;
	} pi_msgs;
};

struct pci_devemu {
	const char *pe_emu;   /* -s emulation name, e.g. "virtio-blk" */
	const char *pe_help;  /* one line for -s help; may be NULL */
	const char *pe_alias; /* handled by another emulation's table; NULL */
	/*
	 * Turn the -s "conf" string (never NULL when called) into keys below
	 * the device's node pci.B.S.F (e.g. a bare path -> "path=...").
	 * Returns 0, or -EINVAL after printing one line naming the value.
	 * NULL: the generic parser stores "key=value" items as given and a
	 * bare "name" item as name=true (bhyve's pci_parse_legacy_config()).
	 */
	int (*pe_legacy_config)(struct config_node *dev, const char *conf);
	/*
	 * Build the function: IDs, class, BARs, capabilities, back ends.
	 * `cfg` is pi->pi_cfg.  Returns 0 or a negative errno after printing
	 * why (-EINVAL: a configuration error, exit 64).  On failure the
	 * device undoes its own work; the core frees BARs and capabilities.
	 */
	int (*pe_init)(struct pci_devinst *pi, struct config_node *cfg);
	/* Tear down (after every vCPU stopped); may be NULL. */
	void (*pe_fini)(struct pci_devinst *pi);
	/*
	 * Optional hooks for configuration space outside what the core owns
	 * (BARs, command/status, capabilities the core added).  Return 0 if
	 * handled, -ENOTSUP to let the core do the default (store / load
	 * pi_cfgdata).
	 */
	int (*pe_cfgwrite)(struct pci_devinst *pi, int offset, int bytes,
	    uint32_t val);
	int (*pe_cfgread)(struct pci_devinst *pi, int offset, int bytes,
	    uint32_t *val);
	/*
	 * BAR accesses (size 1, 2, 4 or 8; offset + size <= BAR size).  The
	 * core serves the MSI-X table and PBA itself and never passes those
	 * ranges here.
	 */
	void (*pe_barwrite)(struct pci_devinst *pi, int baridx, uint64_t offset,
	    int size, uint64_t value);
	uint64_t (*pe_barread)(struct pci_devinst *pi, int baridx,
	    uint64_t offset, int size);
	/*
	 * Told after a BAR was mapped at `addr` (enabled) or unmapped
	 * (!enabled), e.g. so virtio can move its ioeventfds.  May be NULL.
	 * Runs on the vCPU thread that wrote the command register or BAR.
	 */
	void (*pe_baraddr)(struct pci_devinst *pi, int baridx, bool enabled,
	    uint64_t addr);
};

LINKER_SET_DECLARE(pci_devemu_set);
#define PCI_EMUL_SET(d) LINKER_SET_ADD(pci_devemu_set, d)

/* The emulation called `name` (or aliased so); NULL if none. */
const struct pci_devemu *pci_emul_find(const char *name);
/* "-s help": every emulation, one per line, to stdout. */
void pci_emul_print_help(void);

/*
 * Build every function in the configuration and install configuration
 * mechanism #1 (0xCF8/0xCFC) and the ECAM window.  Also when no -s was
 * given (an empty bus answers all ones).  0 or a negative errno after a
 * message (-EINVAL: configuration error -> exit 64).
 */
int pci_emul_init(struct vm *vm);
void pci_emul_fini(struct vm *vm);

/*
 * Calls cb for every function node pci.B.S.F of the configuration tree,
 * in the tree's order, skipping the leaves directly under "pci" (global
 * settings).  A bus, slot or function name that is not a decimal number
 * in range, or a slot or function that is a leaf, is reported and gives
 * -EINVAL.  Stops at and returns cb's first nonzero return; 0 otherwise.
 * Reads the configuration only: usable before pci_emul_init.
 */
typedef int (*pci_config_cb)(int bus, int slot, int func,
    struct config_node *fn, void *arg);
int pci_emul_foreach_config(pci_config_cb cb, void *arg);

/* The windows firmware tables describe (ACPI _CRS, MCFG, e820). */
struct pci_windows {
	uint64_t io_base, io_limit;       /* [base, limit) */
	uint64_t mem32_base, mem32_limit;
	uint64_t mem64_base, mem64_limit; /* 0, 0 when no 64-bit window */
	uint64_t ecam_base, ecam_size;
};
void pci_emul_windows(struct vm *vm, struct pci_windows *w);

/* ---- configuration space (byte offsets, little-endian) ---- */
static inline void pci_set_cfgdata8(struct pci_devinst *pi, int off, uint8_t v)
{
	pi->pi_cfgdata[off] = v;
}
static inline void pci_set_cfgdata16(struct pci_devinst *pi, int off,
    uint16_t v)
{
	pi->pi_cfgdata[off] = (uint8_t)v;
	pi->pi_cfgdata[off + 1] = (uint8_t)(v >> 8);
}
static inline void pci_set_cfgdata32(struct pci_devinst *pi, int off,
    uint32_t v)
{
	pci_set_cfgdata16(pi, off, (uint16_t)v);
	pci_set_cfgdata16(pi, off + 2, (uint16_t)(v >> 16));
}
static inline uint8_t pci_get_cfgdata8(const struct pci_devinst *pi, int off)
{
	return pi->pi_cfgdata[off];
}
static inline uint16_t pci_get_cfgdata16(const struct pci_devinst *pi, int off)
{
	return (uint16_t)(pi->pi_cfgdata[off] | pi->pi_cfgdata[off + 1] << 8);
}
static inline uint32_t pci_get_cfgdata32(const struct pci_devinst *pi, int off)
{
	return pci_get_cfgdata16(pi, off) |
	    (uint32_t)pci_get_cfgdata16(pi, off + 2) << 16;
}

/*
 * Ask for BAR `idx` of `size` bytes (rounded up to a power of two, at
 * least 16 for memory and 4 for I/O) and assign it an address.  0, or
 * -EINVAL (bad idx/size/type), -ENOSPC (window full).
 */
int pci_emul_alloc_bar(struct pci_devinst *pi, int idx, enum pcibar_type type,
    uint64_t size);

/*
 * Append a capability (`len` bytes starting with its ID byte; the core
 * fills the next pointer) to the list, 4-byte aligned from 0x40.  Returns
 * the capability's offset (> 0) or -ENOSPC.
 */
int pci_emul_add_capability(struct pci_devinst *pi, const uint8_t *cap,
    int len);
/* Add an MSI capability offering `msgnum` vectors (1, 2, 4, ... 32). */
int pci_emul_add_msicap(struct pci_devinst *pi, int msgnum);
/*
 * Add an MSI-X capability with `msgnum` vectors, its table and PBA at the
 * start of a new memory BAR `barnum` (4 KiB aligned table, PBA after it).
 * The core serves the table and PBA and keeps one KVM MSI route + irqfd
 * per vector up to date with what the guest writes.
 */
int pci_emul_add_msixcap(struct pci_devinst *pi, int msgnum, int barnum);
/* Add a PCI Express capability (endpoint), so ECAM-only tools see it. */
int pci_emul_add_pciecap(struct pci_devinst *pi);

bool pci_msi_enabled(struct pci_devinst *pi);
int pci_msi_maxmsgnum(struct pci_devinst *pi);
bool pci_msix_enabled(struct pci_devinst *pi);

/*
 * Raise MSI vector `index` (0 .. nmsgs-1) / MSI-X vector `index`.  An
 * out-of-range index, a disabled capability or a masked vector delivers
 * nothing (a masked MSI-X vector sets its PBA bit and fires when the guest
 * unmasks it).  Safe from any thread; never blocks on the guest.
 */
void pci_generate_msi(struct pci_devinst *pi, int index);
void pci_generate_msix(struct pci_devinst *pi, int index);

/*
 * INTx.  pci_lintr_request() (from pe_init) gives the function an
 * interrupt pin and routes it through a PIRQ link to an I/O APIC input,
 * as bhyve's pci_irq.c.  assert/deassert drive the level (no-op while the
 * guest set Interrupt Disable in the command register or uses MSI/MSI-X).
 */
void pci_lintr_request(struct pci_devinst *pi);
void pci_lintr_assert(struct pci_devinst *pi);
void pci_lintr_deassert(struct pci_devinst *pi);

/*
 * (Extensions, for firmware tables.)  pci_walk_lintr calls `cb` once per
 * slot pin in use on bus 0: pin 1..4 (INTA..INTD), the PIRQ link 1..8
 * (A..H) it is wired to, and the I/O APIC input (GSI) that link feeds
 * (15 + link).  pci_pirq_isa_irq: the ISA IRQ the link's LPC register
 * routes to in PIC mode, or -1 when disabled.  pci_lpc_slot: the LPC
 * bridge's slot (0..31) and function, or -1 when there is none.
 */
typedef void (*pci_lintr_cb)(int bus, int slot, int pin, int pirq_pin,
    int gsi, void *arg);
void pci_walk_lintr(struct vm *vm, pci_lintr_cb cb, void *arg);
int pci_pirq_isa_irq(struct vm *vm, int pirq_pin);
int pci_lpc_slot(struct vm *vm, int *func);

#endif
