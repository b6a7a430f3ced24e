/*
 * pci.h - a small PCI driver core for the test guests: configuration
 * mechanism #1 (ports 0xCF8/0xCFC) and ECAM (0xE0000000, khyve's
 * PCI_ECAM_BASE), enumeration of bus 0, BAR sizing, capability walks,
 * MSI-X and MSI set-up.  Paging is off, so a memory BAR's address is
 * directly a pointer.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include "guest.h"

#define PCI_ECAM_BASE 0xE0000000u
/* The ECAM base used: PCI_ECAM_BASE, or "ecam=ADDR" on the command line
 * (read by pci_scan; e.g. 0xB0000000 to try a guest on QEMU q35). */
extern uint32_t pci_ecam;
#define PCI_MAX_DEVS 64
#define PCI_MAX_CAPS 24

/* configuration header offsets */
#define PCI_VENDOR 0x00
#define PCI_DEVICE 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBVENDOR 0x2c
#define PCI_SUBDEVICE 0x2e
#define PCI_ROM 0x30
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d

#define PCI_CMD_IO 0x1
#define PCI_CMD_MEM 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_CMD_INTX_DISABLE 0x400
#define PCI_STATUS_CAPS 0x10

#define PCI_CAP_MSI 0x05
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_PCIE 0x10
#define PCI_CAP_MSIX 0x11

enum pci_bar_type { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
	enum pci_bar_type type; /* the upper half of a 64-bit BAR: NONE */
	bool prefetch;
	uint64_t addr, size;
};

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device, subvendor, subdevice;
	uint8_t rev, progif, subclass, class, hdr, int_pin, int_line;
	struct pci_bar bar[6];
	uint64_t rom_size;
	int ncaps;
	uint8_t cap_id[PCI_MAX_CAPS], cap_off[PCI_MAX_CAPS];
	int necaps; /* PCIe extended capabilities (ECAM, from 0x100) */
	uint16_t ecap_id[PCI_MAX_CAPS], ecap_off[PCI_MAX_CAPS];
};

/* Problems found by the checks below; each also printed "pci FAIL: ...". */
extern int pci_errors;
void pci_fail(const char *fmt, ...) PRINTF(1, 2);

/* Mechanism #1 (off < 256) by bus/device/function; size 1, 2 or 4. */
uint32_t pci_cfg_read(int bus, int dev, int fn, int off, int size);
void pci_cfg_write(int bus, int dev, int fn, int off, int size, uint32_t v);
/* ECAM (off < 4096). */
uint32_t pci_ecam_read(int bus, int dev, int fn, int off, int size);
void pci_ecam_write(int bus, int dev, int fn, int off, int size, uint32_t v);

/* On a found function: mechanism #1 below 256, ECAM above. */
uint32_t pci_read32(const struct pci_dev *d, int off);
uint16_t pci_read16(const struct pci_dev *d, int off);
uint8_t pci_read8(const struct pci_dev *d, int off);
void pci_write32(const struct pci_dev *d, int off, uint32_t v);
void pci_write16(const struct pci_dev *d, int off, uint16_t v);
void pci_write8(const struct pci_dev *d, int off, uint8_t v);

/*
 * Enumerate bus 0 (multi-function devices too) into devs[], sizing every
 * BAR (decode off meanwhile, everything restored and checked) and walking
 * the capability lists.  Returns the number of functions found.
 */
int pci_scan(struct pci_dev *devs, int max);
/* Re-read BAR addresses and sizes of one function (after a move). */
void pci_probe_bars(struct pci_dev *d);
/* One line: "pci BB:DD.F vvvv:dddd ..." (see pci.c). */
void pci_print(const struct pci_dev *d);
/* The n-th (0-based) function with these IDs (0xffff: any); NULL. */
struct pci_dev *pci_find(struct pci_dev *devs, int n, uint16_t vendor,
    uint16_t device, int nth);
/* Offset of the first capability `id` after offset `after` (0: from
 * the start); 0 if none. */
int pci_find_cap(const struct pci_dev *d, uint8_t id, int after);
/* Set or clear command register bits. */
void pci_command(const struct pci_dev *d, uint16_t set, uint16_t clear);
/* Reprogram BAR `i` (decode off around the write). */
void pci_set_bar(struct pci_dev *d, int i, uint64_t addr);

/* ---- MSI-X ---- */
struct pci_msix {
	int cap;        /* capability offset */
	int size;       /* table entries */
	int table_bar, pba_bar;
	uintptr_t table, pba;
};
/* Find the capability and the table; enables memory decode and bus
 * mastering; MSI-X stays off.  0, or -1 (printed why). */
int pci_msix_init(struct pci_dev *d, struct pci_msix *m);
/* Entry `i` -> `vector` on local APIC `apic` (fixed, edge). */
void pci_msix_set(struct pci_msix *m, int i, uint32_t apic, uint8_t vector,
    bool masked);
/* MSI-X enable on/off (function mask clear). */
void pci_msix_enable(struct pci_dev *d, struct pci_msix *m, bool on);

/* ---- MSI: one vector to `vector` on `apic`; 0 or -1 ---- */
int pci_msi_enable(struct pci_dev *d, uint32_t apic, uint8_t vector);

/* The APIC MSI address for a destination APIC ID (physical mode). */
static inline uint32_t pci_msi_addr(uint32_t apic)
{
	return 0xfee00000u | (apic & 0xff) << 12;
}

#endif
