/*
 * acpi_priv.h - shared by acpi.c (layout, RSDP/RSDT/XSDT), acpi_tables.c
 * (FADT, FACS, MADT, MCFG, SPCR) and acpi_dsdt.c (the DSDT in AML).
 */
#ifndef KHYVE_FIRMWARE_ACPI_PRIV_H
#define KHYVE_FIRMWARE_ACPI_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/fwtables.h"

#define ACPI_HDR_LEN 36
#define ACPI_OEM_ID "KHYVE "   /* 6 bytes */
#define ACPI_OEM_TABLE "KHYV"  /* + the signature: 8 bytes */
#define ACPI_CREATOR_ID "KHYV"
#define ACPI_OEM_REV 1
#define ACPI_CREATOR_REV 1

#define ACPI_FADT_LEN 276 /* ACPI 6.x, revision 6 */
#define ACPI_FACS_LEN 64
#define ACPI_MCFG_LEN 60  /* one allocation: ECAM of segment 0 */
#define ACPI_SPCR_LEN 80  /* revision 2 */

/* Fill the standard header (checksum 0; acpi_checksum() fixes it). */
void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev);
/* Set the checksum byte so the table sums to 0. */
void acpi_checksum(uint8_t *t, size_t len);

/* The table builders: each fills a zeroed area of exactly the size its
 * *_len() function gave (checksummed). */
void acpi_fadt(const struct fw_machine *m, uint8_t *t, uint64_t facs,
    uint64_t dsdt);
void acpi_facs(uint8_t *t);
size_t acpi_madt_len(const struct fw_machine *m);
void acpi_madt(const struct fw_machine *m, uint8_t *t, size_t len);
void acpi_mcfg(const struct fw_machine *m, uint8_t *t);
void acpi_spcr(const struct fw_machine *m, uint8_t *t);

/* The DSDT, header and checksum included, in a malloc'd buffer.  0 or a
 * negative errno. */
int acpi_dsdt(const struct fw_machine *m, uint8_t **out, size_t *len);

#endif
