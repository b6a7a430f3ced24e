/*
 * acpi.c - ACPI 6.x tables in the BIOS area (bhyve's acpi.c and basl.c):
 * the layout, the RSDP, RSDT and XSDT; the other tables come from
 * acpi_tables.c and the DSDT from acpi_dsdt.c.
 *
 * Layout from FW_ACPI_ADDR (0xF2400), every table 16-byte aligned (the
 * RSDP must be, for the guest's scan) and the FACS 64-byte aligned:
 *
 *   RSDP (36)  RSDT  XSDT  FADT  MADT  MCFG  SPCR (with a console)
 *   FACS (64)  DSDT
 *
 * The RSDT and XSDT list the same tables (FADT, MADT, MCFG, SPCR) so
 * that ACPI 1.0 readers and current ones see one machine.  Every table's
 * length field is its exact size and every checksum is computed last,
 * after all addresses are filled in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "firmware/acpi_priv.h"

#define RSDP_V1_LEN 20
#define TABLE_ALIGN 16
#define FACS_ALIGN 64

uint8_t fw_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len-- > 0)
		s = (uint8_t)(s + *b++);
	return s;
}

void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	fw_put32(t + 4, len);
	t[8] = rev;
	t[9] = 0;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE, 4);
	memcpy(t + 20, sig, 4);
	fw_put32(t + 24, ACPI_OEM_REV);
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	fw_put32(t + 32, ACPI_CREATOR_REV);
}

void acpi_checksum(uint8_t *t, size_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)-fw_sum(t, len);
}

struct layout {
	uint8_t *buf;
	uint64_t gpa;
	size_t cap, len;
	bool overflow;
	struct fw_acpi_info *info;
};

/* Place a zeroed area of `n` bytes aligned to `align` in guest terms;
 * records it in the info list under `sig`. */
static uint8_t *place(struct layout *l, const char *sig, size_t n,
    size_t align, uint64_t *gpa)
{
	size_t off = (size_t)(ALIGN_UP(l->gpa + l->len, align) - l->gpa);
	struct fw_acpi_table *t;

	if (l->overflow || off > l->cap || n > l->cap - off) {
		l->overflow = true;
		return NULL;
	}
	memset(l->buf + l->len, 0, off + n - l->len);
	l->len = off + n;
	*gpa = l->gpa + off;
	if (l->info != NULL && l->info->n < FW_ACPI_MAX_TABLES) {
		t = &l->info->t[l->info->n++];
		memcpy(t->sig, sig, 4);
		t->sig[4] = '\0';
		t->gpa = *gpa;
		t->off = off;
		t->len = n;
	}
	return l->buf + off;
}

static void note_ptr(struct acpi_ptrs *p, bool in_rsdp, size_t off,
    uint8_t size)
{
	if (p != NULL && p->n < ACPI_MAX_PTRS)
		p->p[p->n++] = (struct acpi_ptr){ .in_rsdp = in_rsdp,
			.size = size, .off = (uint32_t)off };
}

int acpi_build(const struct fw_machine *m, uint8_t *buf, uint64_t gpa,
    size_t cap, size_t *used, struct fw_acpi_info *info)
{
	return acpi_build_split(m, buf, gpa, cap, used, info, NULL, NULL);
}

int acpi_build_split(const struct fw_machine *m, uint8_t *buf, uint64_t gpa,
    size_t cap, size_t *used, struct fw_acpi_info *info, uint8_t *rsdp_out,
    struct acpi_ptrs *ptrs)
{
	struct layout l = { .buf = buf, .gpa = gpa, .cap = cap, .info = info };
	uint64_t a_rsdp, a_rsdt, a_xsdt, a_fadt, a_madt, a_mcfg = 0, a_spcr = 0;
	uint64_t a_facs, a_dsdt, list[4];
	uint8_t *rsdp, *rsdt, *xsdt, *fadt, *madt, *mcfg = NULL, *spcr = NULL;
	uint8_t *facs, *dsdt, *aml = NULL;
	size_t aml_len, madt_len;
	int n = 0, rc;

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (ptrs != NULL)
		memset(ptrs, 0, sizeof(*ptrs));
	if (m->ncpus < 1 || m->ncpus > VM_MAX_VCPUS || gpa % TABLE_ALIGN != 0 ||
	    gpa > UINT32_MAX - cap)
		return -EINVAL;
	madt_len = acpi_madt_len(m);
	if ((rc = acpi_dsdt(m, &aml, &aml_len)) != 0)
		return rc;
	/* The tables the RSDT and XSDT list. */
	n = 2 + (m->ecam_size != 0) + (m->console_com != 0);

	if (rsdp_out != NULL) {
		memset(rsdp_out, 0, ACPI_RSDP_LEN);
		rsdp = rsdp_out;
		a_rsdp = 0;
	} else {
		rsdp = place(&l, "RSDP", ACPI_RSDP_LEN, TABLE_ALIGN, &a_rsdp);
	}
	rsdt = place(&l, "RSDT", ACPI_HDR_LEN + 4 * (size_t)n, TABLE_ALIGN,
	    &a_rsdt);
	xsdt = place(&l, "XSDT", ACPI_HDR_LEN + 8 * (size_t)n, TABLE_ALIGN,
	    &a_xsdt);
	fadt = place(&l, "FACP", ACPI_FADT_LEN, TABLE_ALIGN, &a_fadt);
	madt = place(&l, "APIC", madt_len, TABLE_ALIGN, &a_madt);
	if (m->ecam_size != 0)
		mcfg = place(&l, "MCFG", ACPI_MCFG_LEN, TABLE_ALIGN, &a_mcfg);
	if (m->console_com != 0)
		spcr = place(&l, "SPCR", ACPI_SPCR_LEN, TABLE_ALIGN, &a_spcr);
	facs = place(&l, "FACS", ACPI_FACS_LEN, FACS_ALIGN, &a_facs);
	dsdt = place(&l, "DSDT", aml_len, TABLE_ALIGN, &a_dsdt);
	if (l.overflow) {
		khyve_warnx("the ACPI tables do not fit in %zu bytes below "
		    "1 MiB", cap);
		free(aml);
		return -ENOSPC;
	}
	memcpy(dsdt, aml, aml_len);
	free(aml);
	acpi_facs(facs);
	acpi_fadt(m, fadt, a_facs, a_dsdt);
	acpi_madt(m, madt, madt_len);
	if (mcfg != NULL)
		acpi_mcfg(m, mcfg);
	if (spcr != NULL)
		acpi_spcr(m, spcr);

	n = 0;
	list[n++] = a_fadt;
	list[n++] = a_madt;
	if (mcfg != NULL)
		list[n++] = a_mcfg;
	if (spcr != NULL)
		list[n++] = a_spcr;
	acpi_header(rsdt, "RSDT", ACPI_HDR_LEN + 4 * (uint32_t)n, 1);
	acpi_header(xsdt, "XSDT", ACPI_HDR_LEN + 8 * (uint32_t)n, 1);
	for (int i = 0; i < n; i++) {
		fw_put32(rsdt + ACPI_HDR_LEN + 4 * i, (uint32_t)list[i]);
		fw_put64(xsdt + ACPI_HDR_LEN + 8 * i, list[i]);
		note_ptr(ptrs, false, (size_t)(rsdt - buf) + ACPI_HDR_LEN +
		    4 * (size_t)i, 4);
		note_ptr(ptrs, false, (size_t)(xsdt - buf) + ACPI_HDR_LEN +
		    8 * (size_t)i, 8);
	}
	/* The FADT's FACS and DSDT, 32- and 64-bit (acpi_tables.c). */
	note_ptr(ptrs, false, (size_t)(fadt - buf) + ACPI_FADT_FACS, 4);
	note_ptr(ptrs, false, (size_t)(fadt - buf) + ACPI_FADT_DSDT, 4);
	note_ptr(ptrs, false, (size_t)(fadt - buf) + ACPI_FADT_X_FACS, 8);
	note_ptr(ptrs, false, (size_t)(fadt - buf) + ACPI_FADT_X_DSDT, 8);
	acpi_checksum(rsdt, ACPI_HDR_LEN + 4 * (size_t)n);
	acpi_checksum(xsdt, ACPI_HDR_LEN + 8 * (size_t)n);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, ACPI_OEM_ID, 6);
	rsdp[15] = 2; /* ACPI 2.0+: the XSDT fields are valid */
	fw_put32(rsdp + 16, (uint32_t)a_rsdt);
	fw_put32(rsdp + 20, ACPI_RSDP_LEN);
	fw_put64(rsdp + 24, a_xsdt);
	note_ptr(ptrs, true, 16, 4);
	note_ptr(ptrs, true, 24, 8);
	rsdp[8] = (uint8_t)-fw_sum(rsdp, RSDP_V1_LEN);
	rsdp[32] = (uint8_t)-fw_sum(rsdp, ACPI_RSDP_LEN);

	if (info != NULL)
		info->rsdp_gpa = a_rsdp;
	*used = l.len;
	return 0;
}
