/* test_acpi.c - the ACPI tables (firmware/acpi*.c): found as a guest finds
 * them (RSDP scan, then the RSDT/XSDT), every checksum and length right,
 * and the contents matching the machine. */
#include <errno.h>
#include <stdlib.h>

#include "fw_fixture.h"
#include "test.h"

#define BASE 0xF2400ULL
#define CAP (0x100000 - 0xF2400)

struct built {
	struct fwfx_buf b;
	struct fw_acpi_info info;
	size_t used;
	int rc;
};

static int build(struct built *t, const struct fw_machine *m, size_t cap)
{
	if (fwfx_alloc(&t->b, cap) == NULL)
		return t->rc = -ENOMEM;
	t->rc = acpi_build(m, t->b.p, BASE, cap, &t->used, &t->info);
	return t->rc;
}

/* The table at guest address `gpa`, if it lies in the output with its
 * whole length; NULL otherwise. */
static const uint8_t *at(const struct built *t, uint64_t gpa, size_t min)
{
	size_t off;

	if (gpa < BASE || gpa - BASE >= t->used)
		return NULL;
	off = (size_t)(gpa - BASE);
	if (min > t->used - off)
		return NULL;
	return t->b.p + off;
}

/* A checksummed table with its length inside the output, else NULL. */
static const uint8_t *table(int *failed, const struct built *t, uint64_t gpa)
{
	const uint8_t *h = at(t, gpa, 36);

	CHECK(h != NULL);
	if (h == NULL)
		return NULL;
	CHECK(at(t, gpa, fw_get32(h + 4)) != NULL);
	if (at(t, gpa, fw_get32(h + 4)) == NULL)
		return NULL;
	CHECK_EQ(fw_sum(h, fw_get32(h + 4)), 0);
	CHECK(memcmp(h + 10, "KHYVE ", 6) == 0);
	return h;
}

/* As a guest does: scan 16-byte boundaries for the RSDP, check it, and
 * return the table with signature `sig` listed by the XSDT (and check
 * the RSDT lists the same). */
static const uint8_t *find(int *failed, const struct built *t,
    const char *sig)
{
	const uint8_t *rsdp = NULL, *rsdt, *xsdt, *found = NULL;
	int n;

	for (size_t off = 0; off + 36 <= t->used; off += 16)
		if (memcmp(t->b.p + off, "RSD PTR ", 8) == 0) {
			rsdp = t->b.p + off;
			break;
		}
	CHECK(rsdp != NULL);
	if (rsdp == NULL)
		return NULL;
	CHECK_EQ(rsdp - t->b.p, 0); /* first in the area */
	CHECK_EQ(fw_sum(rsdp, 20), 0);
	CHECK_EQ(fw_sum(rsdp, 36), 0);
	CHECK_EQ(rsdp[15], 2);
	CHECK_EQ(fw_get32(rsdp + 20), 36);
	CHECK_EQ(t->info.rsdp_gpa, BASE);
	rsdt = table(failed, t, fw_get32(rsdp + 16));
	xsdt = table(failed, t, fw_get64(rsdp + 24));
	if (rsdt == NULL || xsdt == NULL)
		return NULL;
	CHECK(memcmp(rsdt, "RSDT", 4) == 0);
	CHECK(memcmp(xsdt, "XSDT", 4) == 0);
	n = (int)(fw_get32(xsdt + 4) - 36) / 8;
	CHECK_EQ(fw_get32(xsdt + 4), 36 + 8 * n);
	CHECK_EQ(fw_get32(rsdt + 4), 36 + 4 * n);
	for (int i = 0; i < n; i++) {
		uint64_t a = fw_get64(xsdt + 36 + 8 * i);
		const uint8_t *h = table(failed, t, a);

		CHECK_EQ(fw_get32(rsdt + 36 + 4 * i), a);
		if (h != NULL && memcmp(h, sig, 4) == 0)
			found = h;
	}
	return found;
}

TEST(acpi_layout_and_checksums)
{
	struct fw_machine m;
	struct built t;
	const uint8_t *fadt, *facs, *dsdt;

	fwfx_machine(&m, 1, 1, 1, false);
	CHECK_EQ(build(&t, &m, CAP), 0);
	if (t.rc != 0)
		return;
	fadt = find(failed, &t, "FACP");
	CHECK(fadt != NULL);
	CHECK(find(failed, &t, "APIC") != NULL);
	CHECK(find(failed, &t, "MCFG") != NULL);
	CHECK(find(failed, &t, "SPCR") != NULL);
	CHECK(find(failed, &t, "DSDT") == NULL); /* only through the FADT */
	if (fadt == NULL)
		goto out;
	/* The FACS (64-byte aligned, no checksum) and the DSDT, through both
	 * the 32-bit and the 64-bit fields, which agree. */
	CHECK_EQ(fw_get32(fadt + 36), fw_get64(fadt + 132));
	CHECK_EQ(fw_get32(fadt + 40), fw_get64(fadt + 140));
	facs = at(&t, fw_get32(fadt + 36), 64);
	CHECK(facs != NULL && memcmp(facs, "FACS", 4) == 0);
	CHECK_EQ(fw_get32(fadt + 36) % 64, 0);
	if (facs != NULL)
		CHECK_EQ(fw_get32(facs + 4), 64);
	dsdt = table(failed, &t, fw_get32(fadt + 40));
	CHECK(dsdt != NULL && memcmp(dsdt, "DSDT", 4) == 0);
	if (dsdt != NULL)
		CHECK_EQ(dsdt[8], 2);
	/* The info list names every table with its place. */
	CHECK_EQ(t.info.n, 9);
	for (int i = 0; i < t.info.n; i++) {
		CHECK(t.info.t[i].off + t.info.t[i].len <= t.used);
		CHECK_EQ(t.info.t[i].gpa, BASE + t.info.t[i].off);
		CHECK_EQ(t.info.t[i].gpa % 16, 0);
		if (strcmp(t.info.t[i].sig, "RSDP") != 0)
			CHECK(memcmp(t.b.p + t.info.t[i].off, t.info.t[i].sig,
			    4) == 0);
	}
	CHECK(t.used < 0x1000);
out:
	fwfx_free(&t.b);
}

TEST(acpi_fadt_registers)
{
	struct fw_machine m;
	struct built t;
	const uint8_t *f;

	fwfx_machine(&m, 2, 1, 1, false);
	CHECK_EQ(build(&t, &m, CAP), 0);
	f = t.rc == 0 ? find(failed, &t, "FACP") : NULL;
	CHECK(f != NULL);
	if (f == NULL)
		goto out;
	CHECK_EQ(fw_get32(f + 4), 276);
	CHECK_EQ(f[8], 6);
	CHECK_EQ(f[131], 2);              /* ACPI 6.2 */
	CHECK_EQ(fw_get16(f + 46), 9);    /* SCI */
	CHECK_EQ(fw_get32(f + 48), 0xb2); /* SMI_CMD */
	CHECK_EQ(f[52], 0xa0);
	CHECK_EQ(f[53], 0xa1);
	CHECK_EQ(fw_get32(f + 56), 0x400); /* PM1a_EVT_BLK */
	CHECK_EQ(fw_get32(f + 64), 0x404); /* PM1a_CNT_BLK */
	CHECK_EQ(fw_get32(f + 76), 0x408); /* PM_TMR_BLK */
	CHECK_EQ(f[88], 4);
	CHECK_EQ(f[89], 2);
	CHECK_EQ(f[91], 4);
	CHECK_EQ(fw_get32(f + 60) | fw_get32(f + 68) | fw_get32(f + 80), 0);
	CHECK_EQ(f[108], 0x32); /* RTC century */
	CHECK_EQ(fw_get16(f + 109) & 0x3, 0x3); /* legacy devices, 8042 */
	/* Flags: 32-bit timer, reset register supported, sleep button is
	 * not a fixed feature; the power button is. */
	CHECK(fw_get32(f + 112) & (1u << 8));
	CHECK(fw_get32(f + 112) & (1u << 10));
	CHECK(fw_get32(f + 112) & (1u << 5));
	CHECK(!(fw_get32(f + 112) & (1u << 4)));
	CHECK(!(fw_get32(f + 112) & (1u << 20))); /* not hardware-reduced */
	/* RESET_REG: SystemIO byte at 0xcf9, value with RST_CPU (bit 2). */
	CHECK_EQ(f[116], 1);
	CHECK_EQ(f[117], 8);
	CHECK_EQ(f[119], 1);
	CHECK_EQ(fw_get64(f + 120), 0xcf9);
	CHECK(f[128] & 0x04);
	/* X_ blocks agree with the 32-bit ones, widths with the lengths. */
	CHECK_EQ(f[148], 1);
	CHECK_EQ(f[149], 32);
	CHECK_EQ(fw_get64(f + 152), 0x400);
	CHECK_EQ(f[172], 1);
	CHECK_EQ(f[173], 16);
	CHECK_EQ(fw_get64(f + 176), 0x404);
	CHECK_EQ(f[208], 1);
	CHECK_EQ(f[209], 32);
	CHECK_EQ(fw_get64(f + 212), 0x408);
	CHECK_EQ(fw_get64(f + 164) | fw_get64(f + 188) | fw_get64(f + 224), 0);
out:
	fwfx_free(&t.b);
}

/* Walk the MADT; counts of each entry type, APIC IDs in order. */
struct madt_seen {
	int lapic, x2apic, ioapic, iso, nmi, x2nmi, bad;
	uint32_t ids[VM_MAX_VCPUS + 1];
	int nids;
	uint16_t sci_flags;
	uint32_t irq0_gsi;
};

static void walk_madt(const uint8_t *t, struct madt_seen *s)
{
	uint32_t len = fw_get32(t + 4);

	memset(s, 0, sizeof(*s));
	s->irq0_gsi = ~0u;
	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = t + off;

		if (len - off < 2 || e[1] < 2 || e[1] > len - off) {
			s->bad++;
			return;
		}
		switch (e[0]) {
		case 0:
			s->lapic += e[1] == 8;
			if (e[1] == 8 && s->nids <= VM_MAX_VCPUS &&
			    (fw_get32(e + 4) & 1))
				s->ids[s->nids++] = e[3];
			break;
		case 1:
			s->ioapic += e[1] == 12 && fw_get32(e + 4) == 0xfec00000;
			break;
		case 2:
			s->iso += e[1] == 10;
			if (e[3] == 0)
				s->irq0_gsi = fw_get32(e + 4);
			if (e[3] == 9)
				s->sci_flags = fw_get16(e + 8);
			break;
		case 4:
			s->nmi += e[1] == 6 && e[2] == 0xff && e[5] == 1;
			break;
		case 9:
			s->x2apic += e[1] == 16;
			if (e[1] == 16 && s->nids <= VM_MAX_VCPUS &&
			    (fw_get32(e + 8) & 1))
				s->ids[s->nids++] = fw_get32(e + 4);
			break;
		case 10:
			s->x2nmi += e[1] == 12 && fw_get32(e + 4) == 0xffffffff &&
			    e[8] == 1;
			break;
		default:
			s->bad++;
		}
		off += e[1];
	}
}

static void check_madt(int *failed, int sockets, int cores, int threads,
    bool x2)
{
	struct fw_machine m;
	struct built t;
	struct madt_seen s;
	const uint8_t *madt;

	fwfx_machine(&m, sockets, cores, threads, x2);
	CHECK_EQ(build(&t, &m, CAP), 0);
	madt = t.rc == 0 ? find(failed, &t, "APIC") : NULL;
	CHECK(madt != NULL);
	if (madt == NULL) {
		fwfx_free(&t.b);
		return;
	}
	walk_madt(madt, &s);
	CHECK_EQ(s.bad, 0);
	CHECK_EQ(fw_get32(madt + 36), 0xfee00000);
	CHECK_EQ(fw_get32(madt + 40) & 1, 1);
	CHECK_EQ(s.lapic, x2 ? 0 : m.ncpus);
	CHECK_EQ(s.x2apic, x2 ? m.ncpus : 0);
	CHECK_EQ(s.nids, m.ncpus);
	for (int i = 0; i < s.nids && i < m.ncpus; i++)
		CHECK_EQ(s.ids[i], cpuid_apic_id(&m.topo, i));
	CHECK_EQ(s.ioapic, 1);
	CHECK_EQ(s.iso, 2);
	CHECK_EQ(s.irq0_gsi, 2);
	CHECK_EQ(s.sci_flags, 0x0d); /* level, active high */
	CHECK_EQ(s.nmi, x2 ? 0 : 1);
	CHECK_EQ(s.x2nmi, x2 ? 1 : 0);
	fwfx_free(&t.b);
}

TEST(acpi_madt_follows_topology)
{
	check_madt(failed, 1, 1, 1, false);
	check_madt(failed, 8, 1, 1, false);
	check_madt(failed, 2, 2, 2, false);
	check_madt(failed, 2, 3, 1, false); /* APIC IDs with holes */
	check_madt(failed, 1, 1, 1, true);
	check_madt(failed, 8, 1, 1, true);
	check_madt(failed, 4, 16, 4, true); /* 256 vCPUs */
}

/* An APIC ID of 255 or more needs the x2APIC form even without -x; the
 * others keep the xAPIC form, and LINT1 is described for both. */
TEST(acpi_madt_mixed)
{
	struct fw_machine m;
	struct built t;
	struct madt_seen s;
	const uint8_t *madt;

	fwfx_machine(&m, 2, 1, 1, false);
	m.apic_id[1] = 300;
	CHECK_EQ(build(&t, &m, CAP), 0);
	madt = t.rc == 0 ? find(failed, &t, "APIC") : NULL;
	CHECK(madt != NULL);
	if (madt != NULL) {
		walk_madt(madt, &s);
		CHECK_EQ(s.bad, 0);
		CHECK_EQ(s.lapic, 1);
		CHECK_EQ(s.x2apic, 1);
		CHECK_EQ(s.ids[0], 0);
		CHECK_EQ(s.ids[1], 300);
		CHECK_EQ(s.nmi, 1);
		CHECK_EQ(s.x2nmi, 1);
	}
	fwfx_free(&t.b);
}

TEST(acpi_mcfg_spcr)
{
	struct fw_machine m;
	struct built t;
	const uint8_t *p;

	fwfx_machine(&m, 1, 1, 1, false);
	m.console_com = 2;
	CHECK_EQ(build(&t, &m, CAP), 0);
	p = t.rc == 0 ? find(failed, &t, "MCFG") : NULL;
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_EQ(fw_get32(p + 4), 60);
		CHECK_EQ(fw_get64(p + 44), 0xe0000000);
		CHECK_EQ(fw_get16(p + 52), 0);
		CHECK_EQ(p[54], 0);
		CHECK_EQ(p[55], 255);
	}
	p = t.rc == 0 ? find(failed, &t, "SPCR") : NULL;
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_EQ(fw_get32(p + 4), 80);
		CHECK_EQ(p[36], 0);                /* 16550 */
		CHECK_EQ(p[40], 1);                /* SystemIO */
		CHECK_EQ(fw_get64(p + 44), 0x2f8); /* COM2 */
		CHECK_EQ(p[53], 3);
		CHECK_EQ(fw_get32(p + 54), 3);
		CHECK_EQ(p[58], 7);                /* 115200 */
	}
	fwfx_free(&t.b);

	/* No console: no SPCR, and the RSDT/XSDT list three tables. */
	m.console_com = 0;
	CHECK_EQ(build(&t, &m, CAP), 0);
	CHECK(t.rc == 0 && find(failed, &t, "SPCR") == NULL);
	CHECK(t.rc == 0 && find(failed, &t, "MCFG") != NULL);
	CHECK_EQ(t.info.n, 8);
	fwfx_free(&t.b);
}

/* ---- the DSDT, read with a tiny AML scanner as a guest would ---- */

static const uint8_t *dsdt_of(int *failed, const struct built *t,
    size_t *len)
{
	const uint8_t *f = find(failed, t, "FACP"), *d;

	if (f == NULL)
		return NULL;
	d = table(failed, t, fw_get64(f + 140));
	if (d != NULL)
		*len = fw_get32(d + 4);
	return d;
}

/* Offset just past the first occurrence of `pat`, or 0. */
static size_t after(const uint8_t *d, size_t len, const void *pat, size_t n)
{
	for (size_t i = 36; i + n <= len; i++)
		if (memcmp(d + i, pat, n) == 0)
			return i + n;
	return 0;
}

static size_t count(const uint8_t *d, size_t len, const void *pat, size_t n)
{
	size_t c = 0;

	for (size_t i = 36; i + n <= len; i++)
		c += memcmp(d + i, pat, n) == 0;
	return c;
}

TEST(acpi_dsdt_contents)
{
	struct fw_machine m;
	struct built t;
	const uint8_t *d;
	size_t len = 0, o;

	fwfx_machine(&m, 2, 2, 1, false);
	/* slot 4 has functions 0 and 1 both on INTB: one _PRT entry */
	m.nintx = 3;
	m.intx[2] = (struct fw_intx){ .slot = 4, .func = 1, .pin = 2,
		.gsi = 18 };
	CHECK_EQ(build(&t, &m, CAP), 0);
	d = t.rc == 0 ? dsdt_of(failed, &t, &len) : NULL;
	CHECK(d != NULL);
	if (d == NULL)
		goto out;
	/* \_S5: Name, Package of 2, SLP_TYPa BytePrefix 5. */
	o = after(d, len, "\x08\x5c_S5_\x12", 7);
	CHECK(o != 0);
	if (o != 0 && o + 4 < len) {
		CHECK_EQ(d[o + 1], 2);
		CHECK_EQ(d[o + 2], 0x0a);
		CHECK_EQ(d[o + 3], 5);
	}
	/* One processor device per vCPU, nothing more. */
	CHECK_EQ(count(d, len, "ACPI0007", 8), 4);
	CHECK(after(d, len, "C003", 4) != 0);
	CHECK(after(d, len, "C004", 4) == 0);
	/* The host bridge and its routing: 2 entries (deduplicated), for
	 * the APIC model (GSIs) and the PIC model (the links' ISA IRQs),
	 * chosen by _PRT after _PIC. */
	CHECK(after(d, len, "PC00", 4) != 0);
	CHECK(after(d, len, "\x08PICM\x00\x14\x0c_PIC\x01\x70\x68PICM",
	    19) != 0);
	o = after(d, len, "\x08PRTA\x12", 6);
	CHECK(o != 0);
	if (o != 0 && o + 2 < len)
		CHECK_EQ(d[o + 1], 2);
	/* 0x0004FFFF, One (INTB), Zero, 0x12 */
	CHECK(after(d, len, "\x0c\xff\xff\x04\x00\x01\x00\x0a\x12", 9) != 0);
	o = after(d, len, "\x08PRTP\x12", 6);
	CHECK(o != 0);
	if (o != 0 && o + 2 < len)
		CHECK_EQ(d[o + 1], 2);
	/* 0x0004FFFF, One (INTB), Zero, 10 */
	CHECK(after(d, len, "\x0c\xff\xff\x04\x00\x01\x00\x0a\x0a", 9) != 0);
	/* Method (_PRT) { If (PICM) { Return (PRTA) } Return (PRTP) } */
	CHECK(after(d, len, "\x14\x16_PRT\x00\xa0\x0aPICM\xa4PRTA\xa4PRTP",
	    23) != 0);
	/* LPC devices under the bridge at 31.0. */
	CHECK(after(d, len, "ISA_\x08_ADR\x0c\x00\x00\x1f\x00", 14) != 0);
	CHECK_EQ(count(d, len, "\x41\xd0\x05\x01", 4), 4); /* PNP0501 x4 */
	CHECK(after(d, len, "TDEV", 4) == 0);
	CHECK(after(d, len, "SYSR", 4) != 0);
	fwfx_free(&t.b);

	/* pc-testdev adds its resources; without an LPC bridge the ISA
	 * devices sit in \_SB; without INTx there is no _PRT. */
	m.pctestdev = true;
	m.lpc = false;
	m.nintx = 0;
	CHECK_EQ(build(&t, &m, CAP), 0);
	d = t.rc == 0 ? dsdt_of(failed, &t, &len) : NULL;
	CHECK(d != NULL);
	if (d == NULL)
		goto out;
	CHECK(after(d, len, "TDEV", 4) != 0);
	CHECK(after(d, len, "ISA_", 4) == 0);
	CHECK(after(d, len, "COM1", 4) != 0);
	CHECK(after(d, len, "_PRT", 4) == 0);
	fwfx_free(&t.b);

	/* Without an LPC bridge (no PIRQ router) or with a link the router
	 * leaves off the 8259s: _PRT is the APIC model's package alone. */
	m.nintx = 2;
	m.intx[1].isa_irq = -1;
	for (int lpc = 0; lpc < 2; lpc++) {
		m.lpc = lpc;
		CHECK_EQ(build(&t, &m, CAP), 0);
		d = t.rc == 0 ? dsdt_of(failed, &t, &len) : NULL;
		CHECK(d != NULL);
		if (d == NULL)
			goto out;
		o = after(d, len, "\x08_PRT\x12", 6);
		CHECK(o != 0);
		if (o != 0 && o + 2 < len)
			CHECK_EQ(d[o + 1], 2);
		CHECK(after(d, len, "PRTP", 4) == 0);
		fwfx_free(&t.b);
	}
	return;
out:
	fwfx_free(&t.b);
}

/* Too little room: -ENOSPC, and nothing written past the end (the guard
 * page would fault). */
TEST(acpi_no_room)
{
	struct fw_machine m;
	struct built t;
	size_t need;

	fwfx_machine(&m, 8, 1, 1, false);
	CHECK_EQ(build(&t, &m, CAP), 0);
	need = t.used;
	fwfx_free(&t.b);
	for (size_t cap = 0; cap < need; cap += 1 + cap / 7) {
		CHECK_EQ(build(&t, &m, cap), -ENOSPC);
		fwfx_free(&t.b);
	}
	CHECK_EQ(build(&t, &m, need), 0);
	fwfx_free(&t.b);
}

TEST(acpi_bad_machine)
{
	struct fw_machine m;
	struct built t;
	size_t used;
	uint8_t buf[64];

	fwfx_machine(&m, 1, 1, 1, false);
	m.ncpus = 0;
	CHECK_EQ(build(&t, &m, CAP), -EINVAL);
	fwfx_free(&t.b);
	m.ncpus = VM_MAX_VCPUS + 1;
	CHECK_EQ(build(&t, &m, CAP), -EINVAL);
	fwfx_free(&t.b);
	m.ncpus = 1;
	m.nintx = FW_MAX_INTX + 1;
	CHECK_EQ(build(&t, &m, CAP), -EINVAL);
	fwfx_free(&t.b);
	m.nintx = 0;
	/* Misaligned or wrapping guest addresses. */
	CHECK_EQ(acpi_build(&m, buf, BASE + 4, sizeof(buf), &used, NULL),
	    -EINVAL);
	CHECK_EQ(acpi_build(&m, buf, 0xfffffff0ULL, sizeof(buf), &used, NULL),
	    -EINVAL);
}
