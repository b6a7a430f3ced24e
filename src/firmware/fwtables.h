/*
 * fwtables.h - the firmware tables khyve writes into the BIOS area
 * (0xF0000-0xFFFFF) before the guest starts: the MP table, SMBIOS and
 * ACPI, at bhyve's addresses as long as each part fits before the next:
 *
 *   0xF0000  MP floating pointer and configuration table (mptable.c)
 *   0xF1000  SMBIOS entry points and structure table     (smbios.c)
 *   0xF2400  ACPI: RSDP, RSDT, XSDT, FADT, MADT, MCFG, SPCR, FACS, DSDT
 *            (acpi.c, acpi_tables.c, acpi_dsdt.c)
 *
 * A part that outgrows its slot pushes the following ones up; everything
 * must end below 1 MiB (guests only scan 0xE0000-0xFFFFF for the RSDP,
 * 0xF0000-0xFFFFF for SMBIOS and the MP table).
 *
 * The builders are pure: they read a `struct fw_machine` (what the guest
 * should be told) and write into a host buffer that stands for guest
 * memory at a given guest-physical address, so the unit tests run them
 * without a VM.  fwtables_build() gathers the machine from the VM and
 * the configuration and writes the result into guest RAM.
 */
#ifndef KHYVE_FIRMWARE_FWTABLES_H
#define KHYVE_FIRMWARE_FWTABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/boot_layout.h"
#include "vmm/vm.h"

#define FW_MPTABLE_ADDR 0xF0000ULL /* bhyve's MPTABLE_BASE */
#define FW_SMBIOS_ADDR 0xF1000ULL  /* bhyve's SMBIOS_BASE */
#define FW_ACPI_ADDR 0xF2400ULL    /* bhyve's BHYVE_ACPI_BASE */

#define FW_LAPIC_ADDR 0xFEE00000U
#define FW_IOAPIC_ADDR 0xFEC00000U
#define FW_IOAPIC_ID 0      /* KVM's I/O APIC resets its ID register to 0 */
#define FW_IOAPIC_PINS 24   /* KVM's in-kernel I/O APIC */
#define FW_SCI_IRQ 9        /* dev/acpi_pm.c */

/* The fixed ACPI registers (dev/acpi_pm.c) and the reset control port
 * (bus/pci_cfg.c, which shares the dword at 0xcf8). */
#define FW_PM1A_EVT_ADDR 0x400
#define FW_PM1A_CNT_ADDR 0x404
#define FW_PM_TMR_ADDR 0x408
#define FW_SMI_CMD_PORT 0xb2
#define FW_ACPI_ENABLE 0xa0
#define FW_ACPI_DISABLE 0xa1
#define FW_RESET_PORT 0xcf9
#define FW_RESET_VALUE 0x06 /* RST_CPU | SYS_RST: a hard reset */
#define FW_SLP_TYP_S5 5     /* what acpi_pm.c powers off on */
#define FW_FWCFG_PORT 0x510 /* QEMU's fw_cfg, with DMA (dev/fwcfg.h) */
#define FW_FWCFG_PORTS 12

#define FW_MAX_INTX 256

/* One routed PCI INTx line of a slot: the pin (1..4 = INTA..INTD), the
 * I/O APIC input it reaches (APIC mode) and the 8259 input its PIRQ link
 * is routed to (PIC mode; -1 if none).  Functions of a slot share its
 * lines, so `func` is only informative. */
struct fw_intx {
	uint8_t bus, slot, func, pin;
	uint32_t gsi;
	int isa_irq;
};

struct fw_machine {
	int ncpus;
	struct vm_topology topo;
	uint32_t apic_id[VM_MAX_VCPUS]; /* by vCPU index; 0 is the BSP */
	bool x2apic;                    /* -x: MADT lists x2APIC entries */
	uint64_t lowmem, highmem;       /* RAM below / from 4 GiB */
	/* CPUID leaf 0 vendor and leaf 1 EAX/EDX (MP table, SMBIOS). */
	char cpu_vendor[13];
	uint32_t cpu_signature, cpu_features;

	/* PCI: the host bridge of bus 0 and its windows ([base, limit)). */
	uint64_t io_base, io_limit;
	uint64_t mem32_base, mem32_limit;
	uint64_t mem64_base, mem64_limit; /* 0, 0: none */
	uint64_t ecam_base, ecam_size;
	uint8_t bus_max;                  /* last bus the ECAM decodes */
	int nintx;
	struct fw_intx intx[FW_MAX_INTX];
	bool lpc;                         /* an LPC bridge function exists */
	uint8_t lpc_slot, lpc_func;

	/* ISA/LPC devices. */
	int console_com;   /* 1..4: the first COM port with a back end; 0 */
	bool pctestdev;    /* -l pc-testdev */
	bool bvmcons;      /* -b: port 0x220 */
	bool dbgport;      /* -g: port 0x224 */
	bool fwcfg_qemu;   /* -l fwcfg,qemu: the DSDT lists fw_cfg */
};

/* One ACPI table as built (for -o acpi.dump=DIR and the tests). */
#define FW_ACPI_MAX_TABLES 12
struct fw_acpi_table {
	char sig[5];
	uint64_t gpa;
	size_t off, len; /* in the ACPI output buffer */
};
struct fw_acpi_info {
	uint64_t rsdp_gpa;
	int n;
	struct fw_acpi_table t[FW_ACPI_MAX_TABLES];
};

/*
 * The builders.  Each writes at most `cap` bytes to `buf`, which the guest
 * will see at guest-physical `gpa`; on success *used is the number of
 * bytes written.  They return 0, -ENOSPC when the tables do not fit, or
 * -EINVAL for a machine they cannot describe (after one message).
 */
int mptable_build(const struct fw_machine *m, uint8_t *buf, uint64_t gpa,
    size_t cap, size_t *used);
int smbios_build(const struct fw_machine *m, uint8_t *buf, uint64_t gpa,
    size_t cap, size_t *used);
int acpi_build(const struct fw_machine *m, uint8_t *buf, uint64_t gpa,
    size_t cap, size_t *used, struct fw_acpi_info *info);

/*
 * The same tables as fw_cfg files for firmware that builds its own (QEMU's
 * scheme; -l fwcfg,qemu): the ACPI tables in one blob whose addresses are
 * offsets from its start, the RSDP alone (its addresses also offsets into
 * the tables blob), and the loader script (firmware/qloader.h) that
 * allocates both, relocates every address and fixes every checksum; the
 * SMBIOS entry point (the 2.x "_SM_" one, or the 3.0 one when the
 * structures outgrow 64 KiB) with a table address of 0 for firmware to
 * fill in, and the structure table.  Everything malloc'd;
 * fw_fwcfg_blobs_free() releases it.  0 or a negative errno.
 */
#define FW_FILE_ACPI_RSDP "etc/acpi/rsdp"
#define FW_FILE_ACPI_TABLES "etc/acpi/tables"
#define FW_FILE_TABLE_LOADER "etc/table-loader"
#define FW_FILE_SMBIOS_ANCHOR "etc/smbios/smbios-anchor"
#define FW_FILE_SMBIOS_TABLES "etc/smbios/smbios-tables"
struct fw_fwcfg_blobs {
	uint8_t *rsdp, *tables, *loader;
	size_t rsdp_len, tables_len, loader_len;
	uint8_t *sm_anchor, *sm_tables;
	size_t sm_anchor_len, sm_tables_len;
};
int acpi_build_fwcfg(const struct fw_machine *m, struct fw_fwcfg_blobs *b);
int smbios_build_fwcfg(const struct fw_machine *m, struct fw_fwcfg_blobs *b);
void fw_fwcfg_blobs_free(struct fw_fwcfg_blobs *b);

/* The sum of `len` bytes (tables are right when it is 0). */
uint8_t fw_sum(const void *p, size_t len);

/* Little-endian stores into table buffers (no alignment assumed). */
static inline void fw_put8(uint8_t *p, uint8_t v)
{
	p[0] = v;
}
static inline void fw_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void fw_put32(uint8_t *p, uint32_t v)
{
	fw_put16(p, (uint16_t)v);
	fw_put16(p + 2, (uint16_t)(v >> 16));
}
static inline void fw_put64(uint8_t *p, uint64_t v)
{
	fw_put32(p, (uint32_t)v);
	fw_put32(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t fw_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t fw_get32(const uint8_t *p)
{
	return fw_get16(p) | (uint32_t)fw_get16(p + 2) << 16;
}
static inline uint64_t fw_get64(const uint8_t *p)
{
	return fw_get32(p) | (uint64_t)fw_get32(p + 4) << 32;
}

/*
 * Fill `m` from the VM (vCPUs, topology, memory, PCI, LPC devices) and
 * the configuration.  0 or -EINVAL (a PCI layout the tables cannot
 * express, after a message).
 */
int fw_machine_from_vm(struct vm *vm, struct fw_machine *m);

/*
 * Build the tables the configuration asks for (x86.mptable, acpi_tables;
 * SMBIOS always) into guest RAM at 0xF0000-0xFFFFF.  With acpi.dump=DIR
 * each ACPI table is also written to DIR/<signature>.dat.  Call after
 * the PCI and platform devices exist and before any vCPU runs.  Returns
 * 0 or a negative errno after a message (-EINVAL: configuration).
 */
int fwtables_build(struct vm *vm);

#endif
