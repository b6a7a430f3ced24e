/*
 * acpi_fwcfg.c - the ACPI tables as QEMU's fw_cfg gives them to firmware
 * (fwtables.h, acpi_build_fwcfg): the same builder as the in-memory
 * tables, laid out from address 0 with the RSDP apart, and the loader
 * script that puts them into guest memory:
 *
 *   ALLOCATE etc/acpi/tables (align 64 for the FACS, zone HIGH)
 *   ALLOCATE etc/acpi/rsdp   (align 16, zone FSEG: guests scan there)
 *   ADD_POINTER for every address: RSDP -> RSDT and XSDT, the RSDT and
 *       XSDT entries, FADT -> FACS and DSDT (32- and 64-bit fields)
 *   ADD_CHECKSUM for every table but the FACS (which has none), then
 *       the RSDP's two (the first 20 bytes, then all 36)
 *
 * The blobs are also consistent as they are (checksums right for address
 * 0), so the checksum commands hold whichever way firmware applies them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "firmware/acpi_priv.h"
#include "firmware/qloader.h"

/* The tables cannot exceed what the BIOS area holds for the in-memory
 * copy, so this bound is generous. */
#define FWCFG_ACPI_CAP (256 * 1024)

void fw_fwcfg_blobs_free(struct fw_fwcfg_blobs *b)
{
	free(b->rsdp);
	free(b->tables);
	free(b->loader);
	free(b->sm_anchor);
	free(b->sm_tables);
	memset(b, 0, sizeof(*b));
}

static void script(struct qloader *q, const struct fw_acpi_info *info,
    const struct acpi_ptrs *ptrs)
{
	qloader_allocate(q, FW_FILE_ACPI_TABLES, 64, QLOADER_ZONE_HIGH);
	qloader_allocate(q, FW_FILE_ACPI_RSDP, 16, QLOADER_ZONE_FSEG);
	for (int i = 0; i < ptrs->n; i++)
		qloader_add_pointer(q, ptrs->p[i].in_rsdp ? FW_FILE_ACPI_RSDP :
		    FW_FILE_ACPI_TABLES, FW_FILE_ACPI_TABLES, ptrs->p[i].off,
		    ptrs->p[i].size);
	for (int i = 0; i < info->n; i++) {
		const struct fw_acpi_table *t = &info->t[i];

		if (strcmp(t->sig, "FACS") == 0)
			continue;
		qloader_add_checksum(q, FW_FILE_ACPI_TABLES,
		    (uint32_t)t->off + 9, (uint32_t)t->off, (uint32_t)t->len);
	}
	qloader_add_checksum(q, FW_FILE_ACPI_RSDP, 8, 0, 20);
	qloader_add_checksum(q, FW_FILE_ACPI_RSDP, 32, 0, ACPI_RSDP_LEN);
}

int acpi_build_fwcfg(const struct fw_machine *m, struct fw_fwcfg_blobs *b)
{
	struct fw_acpi_info info;
	struct acpi_ptrs ptrs;
	struct qloader q;
	const uint8_t *s;
	size_t used, slen;
	int rc;

	b->rsdp = calloc(1, ACPI_RSDP_LEN);
	b->tables = malloc(FWCFG_ACPI_CAP);
	if (b->rsdp == NULL || b->tables == NULL)
		return -ENOMEM;
	b->rsdp_len = ACPI_RSDP_LEN;
	rc = acpi_build_split(m, b->tables, 0, FWCFG_ACPI_CAP, &used, &info,
	    b->rsdp, &ptrs);
	if (rc != 0)
		return rc;
	b->tables_len = used;
	if (info.n >= FW_ACPI_MAX_TABLES || ptrs.n >= ACPI_MAX_PTRS)
		return -E2BIG; /* a list filled up: something went unrecorded */

	qloader_init(&q);
	script(&q, &info, &ptrs);
	if ((rc = qloader_finish(&q, &s, &slen)) == 0) {
		b->loader = malloc(slen);
		if (b->loader == NULL)
			rc = -ENOMEM;
		else
			memcpy(b->loader, s, slen);
		b->loader_len = slen;
	}
	qloader_free(&q);
	return rc;
}
