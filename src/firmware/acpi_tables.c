/*
 * acpi_tables.c - the fixed-layout ACPI tables (ACPI 6.2 unless noted):
 *
 *   FADT  revision 6.2.  PM1a event block 0x400 (4 bytes: PM1_STS and
 *         PM1_EN), PM1a control 0x404 (2 bytes), the 32-bit PM timer
 *         0x408, SMI_CMD 0xb2 with ACPI enable/disable 0xa0/0xa1, SCI
 *         IRQ 9 (all as dev/acpi_pm.c implements them), the reset
 *         register at I/O 0xcf9 with value 6 (bus/pci_cfg.c resets on
 *         bit 2), RTC century at CMOS 0x32; legacy devices and an i8042
 *         present, no VGA, no ASPM.  The 32-bit and 64-bit (X_) address
 *         fields agree, so no reader sees two machines.
 *   FACS  version 2, no global lock, no waking vector.
 *   MADT  revision 4: a Processor Local APIC per vCPU, or a Processor
 *         Local x2APIC per vCPU with -x (or for APIC IDs of 255 and up),
 *         the I/O APIC, interrupt source overrides IRQ 0 -> GSI 2 and
 *         SCI (IRQ 9, level, active high as KVM's lines are), and LINT1
 *         as NMI on every processor.
 *   MCFG  the ECAM window of segment 0.
 *   SPCR  revision 2: the console's 16550 (the first COM port with a
 *         back end), 115200 8N1, IRQ and GSI.
 */
#include <string.h>

#include "common.h"
#include "firmware/acpi_priv.h"

/* Generic Address Structure space IDs and access sizes. */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

static void gas(uint8_t *p, uint8_t space, uint8_t bits, uint8_t access,
    uint64_t addr)
{
	p[0] = space;
	p[1] = bits;
	p[2] = 0; /* bit offset */
	p[3] = access;
	fw_put64(p + 4, addr);
}

/* FADT Flags and IAPC_BOOT_ARCH bits. */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HEADLESS (1u << 12)
#define FADT_APIC_PHYSICAL (1u << 19)
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_8042 (1u << 1)
#define BOOT_VGA_NOT_PRESENT (1u << 2)
#define BOOT_PCIE_ASPM_CONTROLS (1u << 4)

#define PM1_EVT_LEN 4
#define PM1_CNT_LEN 2
#define PM_TMR_LEN 4
#define RTC_CENTURY_INDEX 0x32

void acpi_fadt(const struct fw_machine *m, uint8_t *t, uint64_t facs,
    uint64_t dsdt)
{
	(void)m;
	acpi_header(t, "FACP", ACPI_FADT_LEN, 6);
	fw_put32(t + ACPI_FADT_FACS, (uint32_t)facs);
	fw_put32(t + ACPI_FADT_DSDT, (uint32_t)dsdt);
	t[45] = 0; /* preferred PM profile: unspecified */
	fw_put16(t + 46, FW_SCI_IRQ);
	fw_put32(t + 48, FW_SMI_CMD_PORT);
	t[52] = FW_ACPI_ENABLE;
	t[53] = FW_ACPI_DISABLE;
	fw_put32(t + 56, FW_PM1A_EVT_ADDR);
	fw_put32(t + 64, FW_PM1A_CNT_ADDR);
	fw_put32(t + 76, FW_PM_TMR_ADDR);
	t[88] = PM1_EVT_LEN;
	t[89] = PM1_CNT_LEN;
	t[91] = PM_TMR_LEN;
	/* Latencies above 100 / 1000 us: no C2 / C3 states. */
	fw_put16(t + 96, 101);
	fw_put16(t + 98, 1001);
	t[108] = RTC_CENTURY_INDEX;
	fw_put16(t + 109, BOOT_LEGACY_DEVICES | BOOT_8042 |
	    BOOT_VGA_NOT_PRESENT | BOOT_PCIE_ASPM_CONTROLS);
	fw_put32(t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON |
	    FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP | FADT_HEADLESS |
	    FADT_APIC_PHYSICAL);
	gas(t + 116, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, FW_RESET_PORT);
	t[128] = FW_RESET_VALUE;
	t[131] = 2; /* FADT minor version: ACPI 6.2 */
	fw_put64(t + ACPI_FADT_X_FACS, facs);
	fw_put64(t + ACPI_FADT_X_DSDT, dsdt);
	gas(t + 148, GAS_SYSTEM_IO, 8 * PM1_EVT_LEN, GAS_ACCESS_WORD,
	    FW_PM1A_EVT_ADDR);
	gas(t + 172, GAS_SYSTEM_IO, 8 * PM1_CNT_LEN, GAS_ACCESS_WORD,
	    FW_PM1A_CNT_ADDR);
	gas(t + 208, GAS_SYSTEM_IO, 8 * PM_TMR_LEN, GAS_ACCESS_DWORD,
	    FW_PM_TMR_ADDR);
	acpi_checksum(t, ACPI_FADT_LEN);
}

void acpi_facs(uint8_t *t)
{
	memcpy(t, "FACS", 4);
	fw_put32(t + 4, ACPI_FACS_LEN);
	t[32] = 2; /* version */
}

/* ---- MADT ---- */

#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_X2APIC 9
#define MADT_X2APIC_NMI 10
#define MADT_PCAT_COMPAT 1
#define MADT_ENABLED 1
#define MPS_INTI_CONFORM 0x0
#define MPS_INTI_HIGH_LEVEL 0x0d

static bool use_x2apic(const struct fw_machine *m, int i)
{
	return m->x2apic || m->apic_id[i] >= 255;
}

/* Whether any entry needs the x2APIC form (then LINT1 is described for
 * both forms, so every processor is covered). */
static bool any_x2(const struct fw_machine *m, bool *any_x)
{
	bool x2 = false;

	*any_x = false;
	for (int i = 0; i < m->ncpus && i < VM_MAX_VCPUS; i++) {
		if (use_x2apic(m, i))
			x2 = true;
		else
			*any_x = true;
	}
	return x2;
}

size_t acpi_madt_len(const struct fw_machine *m)
{
	size_t len = ACPI_HDR_LEN + 8 + 12 + 2 * 10;
	bool xapic, x2 = any_x2(m, &xapic);

	for (int i = 0; i < m->ncpus && i < VM_MAX_VCPUS; i++)
		len += use_x2apic(m, i) ? 16 : 8;
	return len + (xapic ? 6 : 0) + (x2 ? 12 : 0);
}

static uint8_t *iso(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	p[0] = MADT_ISO;
	p[1] = 10;
	p[2] = 0; /* ISA */
	p[3] = irq;
	fw_put32(p + 4, gsi);
	fw_put16(p + 8, flags);
	return p + 10;
}

void acpi_madt(const struct fw_machine *m, uint8_t *t, size_t len)
{
	uint8_t *p = t + ACPI_HDR_LEN;
	bool xapic, x2 = any_x2(m, &xapic);

	acpi_header(t, "APIC", (uint32_t)len, 4);
	fw_put32(p, FW_LAPIC_ADDR);
	fw_put32(p + 4, MADT_PCAT_COMPAT); /* the 8259s are there too */
	p += 8;
	/* The processor UID is the vCPU index, as the DSDT's _UID. */
	for (int i = 0; i < m->ncpus && i < VM_MAX_VCPUS; i++) {
		if (use_x2apic(m, i)) {
			p[0] = MADT_X2APIC;
			p[1] = 16;
			fw_put32(p + 4, m->apic_id[i]);
			fw_put32(p + 8, MADT_ENABLED);
			fw_put32(p + 12, (uint32_t)i);
			p += 16;
		} else {
			p[0] = MADT_LAPIC;
			p[1] = 8;
			p[2] = (uint8_t)i;
			p[3] = (uint8_t)m->apic_id[i];
			fw_put32(p + 4, MADT_ENABLED);
			p += 8;
		}
	}
	p[0] = MADT_IOAPIC;
	p[1] = 12;
	p[2] = FW_IOAPIC_ID;
	fw_put32(p + 4, FW_IOAPIC_ADDR);
	fw_put32(p + 8, 0); /* GSI base */
	p += 12;
	p = iso(p, 0, 2, MPS_INTI_CONFORM);
	p = iso(p, FW_SCI_IRQ, FW_SCI_IRQ, MPS_INTI_HIGH_LEVEL);
	if (xapic) {
		p[0] = MADT_LAPIC_NMI;
		p[1] = 6;
		p[2] = 0xff; /* all processors */
		fw_put16(p + 3, MPS_INTI_CONFORM);
		p[5] = 1; /* LINT1 */
		p += 6;
	}
	if (x2) {
		p[0] = MADT_X2APIC_NMI;
		p[1] = 12;
		fw_put16(p + 2, MPS_INTI_CONFORM);
		fw_put32(p + 4, 0xffffffffU); /* all processors */
		p[8] = 1;
		p += 12;
	}
	acpi_checksum(t, len);
}

/* ---- MCFG, SPCR ---- */

void acpi_mcfg(const struct fw_machine *m, uint8_t *t)
{
	uint8_t *e = t + ACPI_HDR_LEN + 8;

	acpi_header(t, "MCFG", ACPI_MCFG_LEN, 1);
	fw_put64(e, m->ecam_base);
	fw_put16(e + 8, 0); /* segment */
	e[10] = 0;          /* first bus */
	e[11] = m->bus_max;
	acpi_checksum(t, ACPI_MCFG_LEN);
}

static const struct {
	uint16_t port;
	uint8_t irq;
} com_ports[] = { { 0x3f8, 4 }, { 0x2f8, 3 }, { 0x3e8, 4 }, { 0x2e8, 3 } };

#define SPCR_16550 0
#define SPCR_IRQ_PIC 0x01
#define SPCR_IRQ_IOAPIC 0x02
#define SPCR_BAUD_115200 7

void acpi_spcr(const struct fw_machine *m, uint8_t *t)
{
	int c = m->console_com >= 1 && m->console_com <= 4 ?
	    m->console_com - 1 : 0;

	acpi_header(t, "SPCR", ACPI_SPCR_LEN, 2);
	t[36] = SPCR_16550;
	gas(t + 40, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, com_ports[c].port);
	t[52] = SPCR_IRQ_PIC | SPCR_IRQ_IOAPIC;
	t[53] = com_ports[c].irq;
	fw_put32(t + 54, com_ports[c].irq);
	t[58] = SPCR_BAUD_115200;
	t[59] = 0;    /* no parity */
	t[60] = 1;    /* one stop bit */
	t[61] = 0;    /* no flow control */
	t[62] = 0;    /* VT100 */
	fw_put16(t + 64, 0xffff); /* not a PCI device */
	fw_put16(t + 66, 0xffff);
	acpi_checksum(t, ACPI_SPCR_LEN);
}
