/*
 * acpi_dsdt.c - the DSDT, written in AML by khyve itself (aml.c), no ASL
 * compiler involved.  Its namespace:
 *
 *   \_S5            Package {5, 0}: SLP_TYPa 5 is what dev/acpi_pm.c
 *                   powers off on (bhyve's value)
 *   \_PIC, PICM     the interrupt model the OS chose
 *   \_SB.Cnnn       one processor device (ACPI0007) per vCPU, _UID = the
 *                   vCPU index = the MADT's processor UID
 *   \_SB.PC00       the PCI host bridge (PNP0A08, compatible PNP0A03):
 *                   _CRS with the bus range the ECAM decodes, the
 *                   configuration ports 0xCF8-0xCFF, the I/O below and
 *                   above them, the 32-bit and (if any) 64-bit memory
 *                   windows; _PRT with one entry per slot and INTx pin in
 *                   use: in APIC mode its I/O APIC input (GSI 16-23), in
 *                   PIC mode the 8259 input its PIRQ link is routed to
 *                   (bhyve's PIRQ router in the LPC bridge; the PCI core
 *                   drives both), as a plain interrupt number: there are
 *                   no link devices, so an OS cannot move the links
 *   ...ISA          the LPC bridge (_ADR of its function) holding the ISA
 *                   devices, or \_SB itself without an LPC bridge:
 *                   COM1-COM4 (PNP0501), the RTC (PNP0B00), the i8042
 *                   keyboard (PNP0303) and mouse (PNP0F13), the 8259s
 *                   (PNP0000), the PIT (PNP0100), and pc-testdev's ports
 *                   and memory window (PNP0C02) when configured
 *   \_SB.FWCF       QEMU's fw_cfg (QEMU0002, ports 0x510-0x51B) with
 *                   -l fwcfg,qemu
 *   \_SB.SYSR       motherboard resources (PNP0C02): the PM1 and PM timer
 *                   blocks, SMI_CMD, POST 0x80, port 0x92, bvmcons and the
 *                   debug port when enabled, and the ECAM window
 *
 * Without an LPC bridge there is no PIRQ router, and _PRT describes the
 * APIC model only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "firmware/acpi_priv.h"
#include "firmware/aml.h"

static const struct {
	const char *name;
	uint16_t port;
	uint8_t irq;
} coms[] = {
	{ "COM1", 0x3f8, 4 }, { "COM2", 0x2f8, 3 },
	{ "COM3", 0x3e8, 4 }, { "COM4", 0x2e8, 3 },
};

/* Device (name) { _HID EisaId, [_UID], _CRS } opened; the caller adds
 * descriptors, then dev_crs_end(). */
static void dev_crs_begin(struct aml *a, const char *name, const char *hid,
    int uid)
{
	aml_device(a, name);
	aml_name_eisaid(a, "_HID", hid);
	if (uid >= 0)
		aml_name_int(a, "_UID", (uint64_t)uid);
	aml_name(a, "_CRS");
	aml_buffer(a);
}

static void dev_crs_end(struct aml *a)
{
	aml_res_end(a);
	aml_end(a); /* the buffer */
	aml_end(a); /* the device */
}

static void isa_devices(struct aml *a, const struct fw_machine *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(coms); i++) {
		dev_crs_begin(a, coms[i].name, "PNP0501", (int)i + 1);
		aml_res_io(a, coms[i].port, coms[i].port, 1, 8);
		aml_res_irq_noflags(a, coms[i].irq);
		dev_crs_end(a);
	}
	dev_crs_begin(a, "RTC", "PNP0B00", -1);
	aml_res_io(a, 0x70, 0x70, 1, 2);
	aml_res_irq_noflags(a, 8);
	dev_crs_end(a);

	dev_crs_begin(a, "KBD", "PNP0303", -1);
	aml_res_io(a, 0x60, 0x60, 1, 1);
	aml_res_io(a, 0x64, 0x64, 1, 1);
	aml_res_irq_noflags(a, 1);
	dev_crs_end(a);

	dev_crs_begin(a, "MOU", "PNP0F13", -1);
	aml_res_irq_noflags(a, 12);
	dev_crs_end(a);

	/* KVM's in-kernel 8259 pair (with ELCR) and PIT. */
	dev_crs_begin(a, "PIC", "PNP0000", -1);
	aml_res_io(a, 0x20, 0x20, 1, 2);
	aml_res_io(a, 0xa0, 0xa0, 1, 2);
	aml_res_io(a, 0x4d0, 0x4d0, 1, 2);
	aml_res_irq_noflags(a, 2);
	dev_crs_end(a);

	dev_crs_begin(a, "TMR", "PNP0100", -1);
	aml_res_io(a, 0x40, 0x40, 1, 4);
	aml_res_irq_noflags(a, 0);
	dev_crs_end(a);

	if (m->pctestdev) {
		/* dev/pctestdev.c: data port, isa-debug-exit, IRQ lines and
		 * the memory window. */
		dev_crs_begin(a, "TDEV", "PNP0C02", 2);
		aml_res_io(a, 0xe0, 0xe0, 1, 4);
		aml_res_io(a, 0xf4, 0xf4, 1, 4);
		aml_res_io(a, 0x2000, 0x2000, 1, 24);
		aml_res_mem32_fixed(a, true, 0xff000000U, 0x10000);
		dev_crs_end(a);
	}
}

static void system_resources(struct aml *a, const struct fw_machine *m)
{
	dev_crs_begin(a, "SYSR", "PNP0C02", 1);
	aml_res_io(a, FW_PM1A_EVT_ADDR, FW_PM1A_EVT_ADDR, 1, 8);
	aml_res_io(a, FW_PM_TMR_ADDR, FW_PM_TMR_ADDR, 1, 4);
	aml_res_io(a, FW_SMI_CMD_PORT, FW_SMI_CMD_PORT, 1, 1);
	aml_res_io(a, 0x80, 0x80, 1, 1);
	aml_res_io(a, 0x92, 0x92, 1, 1);
	if (m->bvmcons)
		aml_res_io(a, 0x220, 0x220, 1, 4);
	if (m->dbgport)
		aml_res_io(a, 0x224, 0x224, 1, 4);
	if (m->ecam_size != 0 && m->ecam_size <= UINT32_MAX &&
	    m->ecam_base <= UINT32_MAX - m->ecam_size)
		aml_res_mem32_fixed(a, true, (uint32_t)m->ecam_base,
		    (uint32_t)m->ecam_size);
	dev_crs_end(a);
}

/* QEMU's fw_cfg (-l fwcfg,qemu), as QEMU describes it: Linux's
 * qemu_fw_cfg driver binds to QEMU0002.  _STA 0xB: present, enabled,
 * functioning, not shown in UIs. */
static void fwcfg_device(struct aml *a)
{
	aml_device(a, "FWCF");
	aml_name_string(a, "_HID", "QEMU0002");
	aml_name_int(a, "_STA", 0x0b);
	aml_name(a, "_CRS");
	aml_buffer(a);
	aml_res_io(a, FW_FWCFG_PORT, FW_FWCFG_PORT, 1, FW_FWCFG_PORTS);
	dev_crs_end(a);
}

/* One _PRT entry per (slot, pin) on bus 0; functions share their slot's
 * lines, so later functions with the same pin are skipped. */
static int prt_entries(const struct fw_machine *m, bool *keep)
{
	int n = 0;

	for (int i = 0; i < m->nintx; i++) {
		const struct fw_intx *x = &m->intx[i];

		keep[i] = x->bus == 0 && x->slot < 32 && x->pin >= 1 &&
		    x->pin <= 4;
		for (int j = 0; j < i && keep[i]; j++)
			if (keep[j] && m->intx[j].slot == x->slot &&
			    m->intx[j].pin == x->pin)
				keep[i] = false;
		n += keep[i];
	}
	return n;
}

/* Name (name, Package () { {slot << 16 | 0xffff, INTx, 0, irq}, ... }):
 * the GSI (APIC mode) or the 8259 input (PIC mode).  A zero source means
 * the last field is a global system interrupt in the current model. */
static void prt_package(struct aml *a, const char *name,
    const struct fw_machine *m, const bool *keep, int n, bool pic)
{
	aml_name(a, name);
	aml_package(a, (unsigned)n);
	for (int i = 0; i < m->nintx; i++) {
		if (!keep[i])
			continue;
		aml_package(a, 4);
		aml_int(a, (uint64_t)m->intx[i].slot << 16 | 0xffff);
		aml_int(a, m->intx[i].pin - 1u);
		aml_int(a, 0);
		aml_int(a, pic ? (uint64_t)m->intx[i].isa_irq : m->intx[i].gsi);
		aml_end(a);
	}
	aml_end(a);
}

/* PIC mode is possible when the LPC bridge's PIRQ router gives every
 * link in use an 8259 input (the PCI core then drives both inputs). */
static bool pic_routing(const struct fw_machine *m, const bool *keep)
{
	if (!m->lpc)
		return false;
	for (int i = 0; i < m->nintx; i++)
		if (keep[i] && (m->intx[i].isa_irq < 0 ||
		    m->intx[i].isa_irq > 15))
			return false;
	return true;
}

static void pci_root(struct aml *a, const struct fw_machine *m)
{
	bool keep[FW_MAX_INTX];
	int nprt = prt_entries(m, keep);

	aml_device(a, "PC00");
	aml_name_eisaid(a, "_HID", "PNP0A08");
	aml_name_eisaid(a, "_CID", "PNP0A03");
	aml_name_int(a, "_UID", 0);
	aml_name_int(a, "_SEG", 0);
	aml_name_int(a, "_BBN", 0);
	aml_name(a, "_CRS");
	aml_buffer(a);
	aml_res_word_bus(a, 0, m->bus_max);
	aml_res_io(a, 0xcf8, 0xcf8, 1, 8);
	aml_res_word_io(a, 0x0000, 0x0cf7);
	if (m->io_base > 0xd00)
		aml_res_word_io(a, 0x0d00, (uint16_t)(m->io_base - 1));
	if (m->io_limit > m->io_base && m->io_limit <= 0x10000)
		aml_res_word_io(a, (uint16_t)m->io_base,
		    (uint16_t)(m->io_limit - 1));
	if (m->mem32_limit > m->mem32_base && m->mem32_limit <= 1ULL << 32)
		aml_res_dword_mem(a, false, (uint32_t)m->mem32_base,
		    (uint32_t)(m->mem32_limit - 1));
	if (m->mem64_limit > m->mem64_base)
		aml_res_qword_mem(a, true, m->mem64_base, m->mem64_limit - 1);
	aml_res_end(a);
	aml_end(a);

	if (nprt > 0 && pic_routing(m, keep)) {
		/* Method (_PRT) { If (PICM) { Return (PRTA) } Return (PRTP) } */
		prt_package(a, "PRTA", m, keep, nprt, false);
		prt_package(a, "PRTP", m, keep, nprt, true);
		aml_method(a, "_PRT", 0, false);
		aml_if(a);
		aml_namestring(a, "PICM");
		aml_return(a);
		aml_namestring(a, "PRTA");
		aml_end(a);
		aml_return(a);
		aml_namestring(a, "PRTP");
		aml_end(a);
	} else if (nprt > 0) {
		prt_package(a, "_PRT", m, keep, nprt, false);
	}
	if (m->lpc) {
		aml_device(a, "ISA");
		aml_name_int(a, "_ADR", (uint64_t)m->lpc_slot << 16 |
		    m->lpc_func);
		isa_devices(a, m);
		aml_end(a);
	}
	aml_end(a);
}

int acpi_dsdt(const struct fw_machine *m, uint8_t **out, size_t *len)
{
	struct aml a;
	const uint8_t *body;
	size_t blen;
	char name[8];
	uint8_t *t;
	int rc;

	if (m->nintx < 0 || m->nintx > FW_MAX_INTX)
		return -EINVAL;
	aml_init(&a);
	/* The interrupt model the OS chose: 0 PIC, 1 APIC (_PIC's argument). */
	aml_name_int(&a, "PICM", 0);
	aml_method(&a, "_PIC", 1, false);
	aml_store(&a);
	aml_arg(&a, 0);
	aml_namestring(&a, "PICM");
	aml_end(&a);
	aml_name(&a, "\\_S5");
	aml_package(&a, 2);
	aml_int(&a, FW_SLP_TYP_S5); /* SLP_TYPa */
	aml_int(&a, 0);             /* SLP_TYPb: there is no PM1b block */
	aml_end(&a);

	aml_scope(&a, "\\_SB");
	for (int i = 0; i < m->ncpus; i++) {
		snprintf(name, sizeof(name), "C%03X", (unsigned)i & 0xfff);
		aml_device(&a, name);
		aml_name_string(&a, "_HID", "ACPI0007");
		aml_name_int(&a, "_UID", (uint64_t)i);
		aml_end(&a);
	}
	pci_root(&a, m);
	if (!m->lpc)
		isa_devices(&a, m);
	if (m->fwcfg_qemu)
		fwcfg_device(&a);
	system_resources(&a, m);
	aml_end(&a);

	if ((rc = aml_finish(&a, &body, &blen)) != 0 ||
	    blen > UINT32_MAX - ACPI_HDR_LEN) {
		aml_free(&a);
		return rc ? rc : -E2BIG;
	}
	t = malloc(ACPI_HDR_LEN + blen);
	if (t == NULL) {
		aml_free(&a);
		return -ENOMEM;
	}
	/* Revision 2: integers are 64 bits wide. */
	acpi_header(t, "DSDT", (uint32_t)(ACPI_HDR_LEN + blen), 2);
	memcpy(t + ACPI_HDR_LEN, body, blen);
	acpi_checksum(t, ACPI_HDR_LEN + blen);
	aml_free(&a);
	*out = t;
	*len = ACPI_HDR_LEN + blen;
	return 0;
}
