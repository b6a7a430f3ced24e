/*
 * acpi_priv.h - shared by acpi.c (layout, RSDP/RSDT/XSDT), acpi_tables.c
 * (FADT, FACS, MADT, MCFG, SPCR) and acpi_dsdt.c (the DSDT in AML).
 */
#ifndef KHYVE_FIRMWARE_ACPI_PRIV_H
#define KHYVE_FIRMWARE_ACPI_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/fwtables.h"

#define ACPI_HDR_LEN 36
#define ACPI_OEM_ID "KHYVE "   /* 6 bytes */
#define ACPI_OEM_TABLE "KHYV"  /* + the signature: 8 bytes */
#define ACPI_CREATOR_ID "KHYV"
#define ACPI_OEM_REV 1
#define ACPI_CREATOR_REV 1

#define ACPI_RSDP_LEN 36
#define ACPI_FADT_LEN 276 /* ACPI 6.x, revision 6 */
/* The FADT's address fields. */
#define ACPI_FADT_FACS 36
#define ACPI_FADT_DSDT 40
#define ACPI_FADT_X_FACS 132
#define ACPI_FADT_X_DSDT 140
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

/* Where the builder put an address (for QEMU's loader script, which
 * relocates them): `size` bytes at `off`, in the RSDP or the tables. */
#define ACPI_MAX_PTRS 24
struct acpi_ptr {
	bool in_rsdp;
	uint8_t size;
	uint32_t off;
};
struct acpi_ptrs {
	int n;
	struct acpi_ptr p[ACPI_MAX_PTRS];
};

/*
 * acpi_build() with two options: `rsdp` non-NULL puts the RSDP (36
 * bytes) there instead of at the start of `buf`, with its addresses in
 * the same terms as the others; `ptrs` non-NULL records every address
 * field written.
 */
int acpi_build_split(const struct fw_machine *m, uint8_t *buf, uint64_t gpa,
    size_t cap, size_t *used, struct fw_acpi_info *info, uint8_t *rsdp,
    struct acpi_ptrs *ptrs);

/* The DSDT, header and checksum included, in a malloc'd buffer.  0 or a
 * negative errno. */
int acpi_dsdt(const struct fw_machine *m, uint8_t **out, size_t *len);

#endif
