/*
 * test_qloader.c - QEMU's linker/loader script (firmware/qloader.c) and the
 * fw_cfg copies of the firmware tables (firmware/acpi_fwcfg.c,
 * smbios_build_fwcfg): the command layout byte by byte, the pointer and
 * checksum semantics, and the ACPI blobs run through their own script as
 * firmware would, then checked table by table and against the tables
 * built directly at the same addresses.
 */
#include <errno.h>
#include <stdlib.h>

#include "config.h"
#include "firmware/acpi_priv.h"
#include "firmware/qloader.h"
#include "fw_fixture.h"
#include "test.h"

static const uint8_t *script_of(struct qloader *q, size_t *len)
{
	const uint8_t *s = NULL;

	if (qloader_finish(q, &s, len) != 0)
		return NULL;
	return s;
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

TEST(qloader_command_layout)
{
	struct qloader q;
	const uint8_t *s;
	size_t len = 0;

	qloader_init(&q);
	qloader_allocate(&q, "etc/acpi/tables", 64, QLOADER_ZONE_HIGH);
	qloader_add_pointer(&q, "etc/acpi/rsdp", "etc/acpi/tables", 0x10203,
	    8);
	qloader_add_checksum(&q, "etc/acpi/tables", 0x109, 0x100, 0x2a4);
	s = script_of(&q, &len);
	CHECK(s != NULL);
	CHECK_EQ(len, 3 * 128);
	if (s == NULL || len != 3 * 128)
		goto out;
	/* ALLOCATE: le32 1, name[56], le32 align, u8 zone, padding. */
	CHECK(memcmp(s, "\x01\0\0\0etc/acpi/tables", 19) == 0);
	CHECK(zero(s + 19, 60 - 19));
	CHECK(memcmp(s + 60, "\x40\0\0\0\x01", 5) == 0);
	CHECK(zero(s + 65, 128 - 65));
	/* ADD_POINTER: le32 2, dest[56], src[56], le32 offset, u8 size. */
	s += 128;
	CHECK(memcmp(s, "\x02\0\0\0etc/acpi/rsdp", 17) == 0);
	CHECK(zero(s + 17, 60 - 17));
	CHECK(memcmp(s + 60, "etc/acpi/tables", 15) == 0);
	CHECK(zero(s + 75, 116 - 75));
	CHECK(memcmp(s + 116, "\x03\x02\x01\x00\x08", 5) == 0);
	CHECK(zero(s + 121, 128 - 121));
	/* ADD_CHECKSUM: le32 3, name[56], le32 offset, start, length. */
	s += 128;
	CHECK(memcmp(s, "\x03\0\0\0etc/acpi/tables", 19) == 0);
	CHECK(zero(s + 19, 60 - 19));
	CHECK(memcmp(s + 60, "\x09\x01\0\0\0\x01\0\0\xa4\x02\0\0", 12) == 0);
	CHECK(zero(s + 72, 128 - 72));
out:
	qloader_free(&q);
}

TEST(qloader_rejects_bad_commands)
{
	char longname[QLOADER_NAME_LEN + 1];
	struct qloader q;
	size_t len;

	memset(longname, 'a', QLOADER_NAME_LEN);
	longname[QLOADER_NAME_LEN] = '\0';
	/* Each bad call poisons the builder, and later calls stay no-ops. */
	for (int i = 0; i < 9; i++) {
		qloader_init(&q);
		switch (i) {
		case 0: qloader_allocate(&q, "", 16, QLOADER_ZONE_HIGH); break;
		case 1: qloader_allocate(&q, longname, 16, 1); break;
		case 2: qloader_allocate(&q, "f", 24, QLOADER_ZONE_HIGH); break;
		case 3: qloader_allocate(&q, "f", 16, 3); break;
		case 4: qloader_add_pointer(&q, "a", "b", 0, 3); break;
		case 5: qloader_add_pointer(&q, "a", NULL, 0, 4); break;
		case 6: qloader_add_checksum(&q, "f", 8, 9, 4); break;
		case 7: qloader_add_checksum(&q, "f", 13, 9, 4); break;
		case 8: qloader_add_checksum(&q, "f", 0, 0, 0); break;
		}
		qloader_allocate(&q, "ok", 16, QLOADER_ZONE_HIGH);
		CHECK_EQ(qloader_finish(&q, &(const uint8_t *){ NULL }, &len),
		    -EINVAL);
		qloader_free(&q);
	}
	/* The longest name that fits: 55 bytes and the NUL. */
	qloader_init(&q);
	qloader_allocate(&q, longname + 1, 16, QLOADER_ZONE_FSEG);
	CHECK_EQ(qloader_finish(&q, &(const uint8_t *){ NULL }, &len), 0);
	CHECK_EQ(len, 128);
	qloader_free(&q);
}

TEST(qloader_run_semantics)
{
	uint8_t a[32] = { 0 }, b[16] = { 0 };
	struct qloader_file f[] = {
		{ .name = "a", .data = a, .len = sizeof(a), .addr = 0x1000 },
		{ .name = "b", .data = b, .len = sizeof(b),
		  .addr = 0x1fffffff0ULL },
	};
	struct qloader q;
	const uint8_t *s;
	size_t len;

	fw_put32(a + 4, 0x20);          /* offset 0x20 into b, 32-bit */
	fw_put64(a + 8, 0x30);          /* 64-bit, carries past 4 GiB */
	fw_put16(a + 16, 0x8);          /* into a itself, 16-bit */
	a[20] = 0x55;                   /* checksum byte of a[18..24) */
	a[18] = 0x11;
	qloader_init(&q);
	qloader_allocate(&q, "a", 16, QLOADER_ZONE_HIGH);
	qloader_allocate(&q, "b", 16, QLOADER_ZONE_FSEG);
	qloader_add_pointer(&q, "a", "b", 4, 4);
	qloader_add_pointer(&q, "a", "b", 8, 8);
	qloader_add_pointer(&q, "a", "a", 16, 2);
	qloader_add_checksum(&q, "a", 20, 18, 6);
	s = script_of(&q, &len);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_EQ(qloader_run(s, len, f, 2), 0);
		CHECK_EQ(fw_get32(a + 4), (uint32_t)(0x1fffffff0ULL + 0x20));
		CHECK_EQ(fw_get64(a + 8), 0x1fffffff0ULL + 0x30);
		CHECK_EQ(fw_get16(a + 16), 0x1008);
		CHECK_EQ(fw_sum(a + 18, 6), 0);
		CHECK_EQ(a[18], 0x11); /* only the checksum byte changed */
		/* Run on a single-file list: b is unknown now. */
		CHECK_EQ(qloader_run(s, len, f, 1), -EINVAL);
		/* A truncated script is not a whole number of commands. */
		CHECK_EQ(qloader_run(s, len - 1, f, 2), -EINVAL);
		/* A pointer before its file's ALLOCATE. */
		CHECK_EQ(qloader_run(s + 128, len - 128, f, 2), -EINVAL);
	}
	qloader_free(&q);

	/* Ranges outside the file. */
	qloader_init(&q);
	qloader_allocate(&q, "b", 16, QLOADER_ZONE_FSEG);
	qloader_add_pointer(&q, "b", "b", 12, 8);
	s = script_of(&q, &len);
	CHECK(s != NULL && qloader_run(s, len, f, 2) == -EINVAL);
	qloader_free(&q);
	qloader_init(&q);
	qloader_allocate(&q, "b", 16, QLOADER_ZONE_FSEG);
	qloader_add_checksum(&q, "b", 10, 10, 7);
	s = script_of(&q, &len);
	CHECK(s != NULL && qloader_run(s, len, f, 2) == -EINVAL);
	qloader_free(&q);
}

/* ---- the ACPI blobs ---- */

#define TABLES_GPA 0x7ffc0000ULL /* where "firmware" puts etc/acpi/tables */
#define RSDP_GPA 0xf5a40ULL      /* and etc/acpi/rsdp */

struct placed {
	struct fw_fwcfg_blobs b;
	uint8_t *tables, rsdp[ACPI_RSDP_LEN];
};

/* The table at `gpa` inside the placed tables blob, checksummed and of
 * its stated length, or NULL after a failed check. */
static const uint8_t *tbl(int *failed, const struct placed *p, uint64_t gpa,
    const char *sig)
{
	const uint8_t *h;

	CHECK(gpa >= TABLES_GPA && gpa + 36 <= TABLES_GPA + p->b.tables_len);
	if (gpa < TABLES_GPA || gpa + 36 > TABLES_GPA + p->b.tables_len)
		return NULL;
	h = p->tables + (gpa - TABLES_GPA);
	CHECK(gpa + fw_get32(h + 4) <= TABLES_GPA + p->b.tables_len);
	if (gpa + fw_get32(h + 4) > TABLES_GPA + p->b.tables_len)
		return NULL;
	if (strcmp(sig, "FACS") != 0)
		CHECK_EQ(fw_sum(h, fw_get32(h + 4)), 0);
	CHECK(memcmp(h, sig, 4) == 0);
	return h;
}

/* Build the blobs for `m`, copy them to their "guest" addresses and run
 * the loader script over the copies. */
static int place_and_run(int *failed, const struct fw_machine *m,
    struct placed *p)
{
	struct qloader_file f[2];
	int rc;

	memset(p, 0, sizeof(*p));
	rc = acpi_build_fwcfg(m, &p->b);
	CHECK_EQ(rc, 0);
	if (rc != 0)
		return rc;
	CHECK_EQ(p->b.rsdp_len, ACPI_RSDP_LEN);
	CHECK_EQ(p->b.loader_len % 128, 0);
	p->tables = malloc(p->b.tables_len);
	if (p->tables == NULL)
		return -ENOMEM;
	memcpy(p->tables, p->b.tables, p->b.tables_len);
	memcpy(p->rsdp, p->b.rsdp, ACPI_RSDP_LEN);
	f[0] = (struct qloader_file){ .name = FW_FILE_ACPI_TABLES,
		.data = p->tables, .len = p->b.tables_len, .addr = TABLES_GPA };
	f[1] = (struct qloader_file){ .name = FW_FILE_ACPI_RSDP,
		.data = p->rsdp, .len = ACPI_RSDP_LEN, .addr = RSDP_GPA };
	rc = qloader_run(p->b.loader, p->b.loader_len, f, 2);
	CHECK_EQ(rc, 0);
	return rc;
}

static void unplace(struct placed *p)
{
	free(p->tables);
	fw_fwcfg_blobs_free(&p->b);
}

TEST(acpi_fwcfg_loader_relocates)
{
	struct fw_machine m;
	struct placed p;
	const uint8_t *rsdt, *xsdt, *fadt = NULL, *madt = NULL, *facs, *dsdt;
	uint8_t *direct, rsdp2[ACPI_RSDP_LEN];
	struct fw_acpi_info info;
	size_t used;
	int n, cpus = 0;

	fwfx_machine(&m, 2, 2, 1, false);
	m.fwcfg_qemu = true;
	if (place_and_run(failed, &m, &p) != 0)
		goto out;
	/* The script: the two ALLOCATEs first, tables then RSDP. */
	CHECK_EQ(fw_get32(p.b.loader), QLOADER_ALLOCATE);
	CHECK_STR((const char *)p.b.loader + 4, FW_FILE_ACPI_TABLES);
	CHECK_EQ(fw_get32(p.b.loader + 60), 64);
	CHECK_EQ(p.b.loader[64], QLOADER_ZONE_HIGH);
	CHECK_EQ(fw_get32(p.b.loader + 128), QLOADER_ALLOCATE);
	CHECK_STR((const char *)p.b.loader + 128 + 4, FW_FILE_ACPI_RSDP);
	CHECK_EQ(p.b.loader[128 + 64], QLOADER_ZONE_FSEG);

	/* As a guest reads them: RSDP, RSDT and XSDT, every listed table. */
	CHECK(memcmp(p.rsdp, "RSD PTR ", 8) == 0);
	CHECK_EQ(fw_sum(p.rsdp, 20), 0);
	CHECK_EQ(fw_sum(p.rsdp, 36), 0);
	rsdt = tbl(failed, &p, fw_get32(p.rsdp + 16), "RSDT");
	xsdt = tbl(failed, &p, fw_get64(p.rsdp + 24), "XSDT");
	if (rsdt == NULL || xsdt == NULL)
		goto out;
	n = (int)(fw_get32(xsdt + 4) - 36) / 8;
	CHECK_EQ(n, 4); /* FADT, MADT, MCFG, SPCR */
	CHECK_EQ(fw_get32(rsdt + 4), 36 + 4 * n);
	for (int i = 0; i < n; i++) {
		uint64_t a = fw_get64(xsdt + 36 + 8 * i);
		const uint8_t *h;

		CHECK_EQ(fw_get32(rsdt + 36 + 4 * i), a);
		CHECK(a >= TABLES_GPA && a < TABLES_GPA + p.b.tables_len);
		if (a < TABLES_GPA || a >= TABLES_GPA + p.b.tables_len)
			continue;
		h = p.tables + (a - TABLES_GPA);
		h = tbl(failed, &p, a, (const char *)h);
		if (h != NULL && memcmp(h, "FACP", 4) == 0)
			fadt = h;
		if (h != NULL && memcmp(h, "APIC", 4) == 0)
			madt = h;
	}
	CHECK(fadt != NULL && madt != NULL);
	if (fadt == NULL || madt == NULL)
		goto out;
	CHECK_EQ(fw_get32(fadt + 36), fw_get64(fadt + 132));
	CHECK_EQ(fw_get32(fadt + 40), fw_get64(fadt + 140));
	CHECK_EQ(fw_get32(fadt + 36) % 64, 0);
	facs = tbl(failed, &p, fw_get32(fadt + 36), "FACS");
	dsdt = tbl(failed, &p, fw_get64(fadt + 140), "DSDT");
	CHECK(facs != NULL && dsdt != NULL);
	if (dsdt != NULL)
		CHECK(memmem(dsdt, fw_get32(dsdt + 4), "QEMU0002", 8) != NULL);
	for (uint32_t off = 44; off + 2 <= fw_get32(madt + 4);
	     off += madt[off + 1] ? madt[off + 1] : 1)
		cpus += madt[off] == 0 && (madt[off + 4] & 1);
	CHECK_EQ(cpus, 4);

	/* And byte for byte what the builder makes at those addresses. */
	direct = calloc(1, p.b.tables_len);
	if (direct != NULL) {
		CHECK_EQ(acpi_build_split(&m, direct, TABLES_GPA, p.b.tables_len,
		    &used, &info, rsdp2, NULL), 0);
		CHECK_EQ(used, p.b.tables_len);
		CHECK(memcmp(direct, p.tables, p.b.tables_len) == 0);
		CHECK(memcmp(rsdp2, p.rsdp, ACPI_RSDP_LEN) == 0);
		free(direct);
	}
out:
	unplace(&p);
}

/* The blobs as served are consistent as they stand (address 0): each
 * table sums to 0, and the pointers are offsets into the tables blob. */
TEST(acpi_fwcfg_blobs_at_zero)
{
	struct fw_machine m;
	struct fw_fwcfg_blobs b = { 0 };
	const uint8_t *x;

	fwfx_machine(&m, 1, 1, 1, false);
	CHECK_EQ(acpi_build_fwcfg(&m, &b), 0);
	if (b.tables == NULL || b.rsdp == NULL)
		goto out;
	CHECK_EQ(fw_sum(b.rsdp, 36), 0);
	CHECK_EQ(fw_get32(b.rsdp + 16), 0); /* the RSDT comes first */
	CHECK(fw_get64(b.rsdp + 24) < b.tables_len);
	x = b.tables + fw_get64(b.rsdp + 24);
	CHECK(memcmp(x, "XSDT", 4) == 0);
	CHECK_EQ(fw_sum(x, fw_get32(x + 4)), 0);
	/* Without -l fwcfg,qemu the DSDT has no fw_cfg device. */
	CHECK(memmem(b.tables, b.tables_len, "QEMU0002", 8) == NULL);
out:
	fw_fwcfg_blobs_free(&b);
}

/* ---- SMBIOS ---- */

TEST(smbios_fwcfg_anchor_and_tables)
{
	struct fw_machine m;
	struct fw_fwcfg_blobs b = { 0 };
	struct fwfx_buf area;
	size_t used, off = 0;
	int n = 0, last = -1;

	config_init();
	fwfx_machine(&m, 2, 1, 1, false);
	CHECK_EQ(smbios_build_fwcfg(&m, &b), 0);
	if (b.sm_anchor == NULL || b.sm_tables == NULL)
		goto out;
	/* The 2.x entry point, with no table address (firmware's part). */
	CHECK_EQ(b.sm_anchor_len, 0x1f);
	CHECK(memcmp(b.sm_anchor, "_SM_", 4) == 0);
	CHECK(memcmp(b.sm_anchor + 0x10, "_DMI_", 5) == 0);
	CHECK_EQ(fw_sum(b.sm_anchor, 0x1f), 0);
	CHECK_EQ(fw_sum(b.sm_anchor + 0x10, 0x0f), 0);
	CHECK_EQ(fw_get32(b.sm_anchor + 0x18), 0);
	CHECK_EQ(fw_get16(b.sm_anchor + 0x16), b.sm_tables_len);
	/* Walk the structures: formatted area, strings, double NUL. */
	while (off + 4 <= b.sm_tables_len) {
		const uint8_t *s = b.sm_tables + off;

		last = s[0];
		n++;
		off += s[1];
		while (off + 1 < b.sm_tables_len &&
		    (b.sm_tables[off] != 0 || b.sm_tables[off + 1] != 0))
			off++;
		off += 2;
	}
	CHECK_EQ(off, b.sm_tables_len);
	CHECK_EQ(b.sm_tables[0], 0); /* BIOS information first */
	CHECK_EQ(last, 127);
	CHECK_EQ(fw_get16(b.sm_anchor + 0x1c), n);
	/* The same structures as in the BIOS area. */
	if (fwfx_alloc(&area, 4096) != NULL) {
		CHECK_EQ(smbios_build(&m, area.p, 0xf1000, 4096, &used), 0);
		CHECK_EQ(used - 0x40, b.sm_tables_len);
		CHECK(memcmp(area.p + 0x40, b.sm_tables, b.sm_tables_len) == 0);
		fwfx_free(&area);
	}
out:
	fw_fwcfg_blobs_free(&b);
	config_fini();
}
