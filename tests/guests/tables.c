/*
 * tables.elf - reads the firmware tables as an OS would and reports them:
 *
 *   ACPI    scans 0xE0000-0xFFFFF for the RSDP, checks its checksums,
 *           follows the XSDT (checking every table's checksum), walks the
 *           MADT (one "madt ids" line of APIC-ID/UID pairs), reads the FADT
 *           (PM1a control, reset register, SMI_CMD) and finds \_S5 in the
 *           DSDT with a small AML scan;
 *   MP      finds "_MP_" in 0xF0000-0xFFFFF, checks both checksums and
 *           counts the processor entries;
 *   SMBIOS  finds "_SM3_" and "_SM_" in 0xF0000-0xFFFFF, checks their
 *           checksums, walks the structures and prints the type 1 UUID,
 *           manufacturer and serial number.
 *
 * "cpus=N" is the number of processors every table must list.  Then
 * "action=" says how to end: "s5" enables ACPI through SMI_CMD and writes
 * \_S5's SLP_TYPa with SLP_EN to PM1a_CNT (khyve status 1), "reset"
 * writes the FADT reset value to the reset register (status 0),
 * "pwrbtn"/"pwrbtn-ignore" wait for the ACPI power button (see pwrbtn()); without
 * it the program ends with pc-testdev: GX_OK, or GX_FAIL after any
 * "tables FAIL" line.  Runs with paging off, so table addresses are
 * pointers; every length is bounded before use.
 */
#include "guest.h"

#define MAX_TABLE 0x10000 /* no table of ours is near this */

static int fails;

#define FAIL(...)                                                             \
	do {                                                                  \
		printf("tables FAIL: " __VA_ARGS__);                          \
		fails++;                                                      \
	} while (0)

static uint8_t sum(const void *p, uint32_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n-- > 0)
		s = (uint8_t)(s + *b++);
	return s;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* n bytes of p as a string (the runtime's printf has no precision);
 * four rotating buffers so one printf can use several. */
static const char *fix(const void *p, int n)
{
	static char buf[4][12];
	static int k;
	char *b = buf[k++ & 3];

	if (n > 11)
		n = 11;
	memcpy(b, p, (size_t)n);
	b[n] = '\0';
	return b;
}

static const uint8_t *phys(uint64_t a)
{
	return a != 0 && a < 0xfff00000ULL ? (const uint8_t *)(uintptr_t)a :
	    NULL;
}

/* An ACPI table at `a` with a sane length and a zero checksum. */
static const uint8_t *sdt(uint64_t a, const char *sig)
{
	const uint8_t *t = phys(a);
	uint32_t len;

	if (t == NULL)
		return NULL;
	len = rd32(t + 4);
	if (len < 36 || len > MAX_TABLE) {
		FAIL("table at 0x%x has length %u\n", (unsigned)a, len);
		return NULL;
	}
	if (sum(t, len) != 0) {
		FAIL("%s at 0x%x: bad checksum\n", fix(t, 4), (unsigned)a);
		return NULL;
	}
	if (sig != NULL && memcmp(t, sig, 4) != 0) {
		FAIL("expected %s at 0x%x, found %s\n", sig, (unsigned)a,
		    fix(t, 4));
		return NULL;
	}
	return t;
}

static const uint8_t *scan(uint32_t from, uint32_t to, const char *anchor,
    size_t n)
{
	for (uint32_t a = from; a + n <= to; a += 16)
		if (memcmp((const void *)(uintptr_t)a, anchor, n) == 0)
			return (const uint8_t *)(uintptr_t)a;
	return NULL;
}

/* ---- ACPI ---- */

struct acpi {
	const uint8_t *fadt, *madt, *dsdt;
	int slp_typa;
};

/* One line of "APIC/UID" pairs, then a summary line.  Output is kept
 * short on purpose: every byte is a port exit. */
static void walk_madt(const uint8_t *m, int expect)
{
	uint32_t len = rd32(m + 4);
	int n = 0, x2 = 0, x1 = 0, ioapic = 0;

	printf("tables: madt ids");
	for (uint32_t off = 44; off + 2 <= len;) {
		const uint8_t *e = m + off;

		if (e[1] < 2 || e[1] > len - off) {
			printf("\n");
			FAIL("madt entry at +%u has length %u\n", off, e[1]);
			return;
		}
		if (e[0] == 0 && e[1] >= 8 && (rd32(e + 4) & 1)) {
			printf(" %u/%u", e[3], e[2]);
			n++;
			x1++;
		} else if (e[0] == 9 && e[1] >= 16 && (rd32(e + 8) & 1)) {
			printf(" %u/%u", rd32(e + 4), rd32(e + 12));
			n++;
			x2++;
		} else if (e[0] == 1 && rd32(e + 4) == 0xfec00000) {
			ioapic++;
		}
		off += e[1];
	}
	printf("\ntables: madt cpus %d xapic %d x2apic %d ioapic %d\n", n, x1,
	    x2, ioapic);
	if (expect > 0 && n != expect)
		FAIL("madt lists %d cpus, expected %d\n", n, expect);
	if (ioapic != 1)
		FAIL("madt lists %d I/O APICs at 0xfec00000\n", ioapic);
}

/* Decode an AML integer constant at p; -1 if it is not one. */
static int aml_int(const uint8_t *p, const uint8_t *end, int *v)
{
	if (p >= end)
		return -1;
	switch (p[0]) {
	case 0x00: *v = 0; return 1;
	case 0x01: *v = 1; return 1;
	case 0x0a: if (p + 2 > end) return -1; *v = p[1]; return 2;
	case 0x0b: if (p + 3 > end) return -1; *v = rd16(p + 1); return 3;
	case 0x0c: if (p + 5 > end) return -1; *v = (int)rd32(p + 1); return 5;
	default: return -1;
	}
}

/* Find Name (_S5, Package () { SLP_TYPa, ... }) in the DSDT's AML. */
static int find_s5(const uint8_t *d)
{
	uint32_t len = rd32(d + 4);
	const uint8_t *end = d + len;

	for (const uint8_t *p = d + 36; p + 8 < end; p++) {
		const uint8_t *q;
		int plen, v;

		if (memcmp(p, "_S5_", 4) != 0 || !(p[-1] == 0x08 ||
		    (p[-1] == '\\' && p[-2] == 0x08)))
			continue;
		q = p + 4;
		if (*q++ != 0x12) /* PackageOp */
			continue;
		plen = 1 + (*q >> 6); /* PkgLength bytes */
		q += plen;
		q++; /* NumElements */
		if (aml_int(q, end, &v) < 0)
			continue;
		return v;
	}
	return -1;
}

static void do_acpi(struct acpi *a, int expect)
{
	const uint8_t *rsdp = scan(0xe0000, 0x100000, "RSD PTR ", 8), *xsdt;
	int n;

	memset(a, 0, sizeof(*a));
	a->slp_typa = -1;
	if (rsdp == NULL) {
		FAIL("no RSDP in 0xE0000-0xFFFFF\n");
		return;
	}
	printf("tables: rsdp at 0x%x rev %u oem %s\n",
	    (unsigned)(uintptr_t)rsdp, rsdp[15], fix(rsdp + 9, 6));
	if (sum(rsdp, 20) != 0 || (rsdp[15] >= 2 && sum(rsdp, 36) != 0)) {
		FAIL("rsdp checksum\n");
		return;
	}
	if (rsdp[15] < 2 || (xsdt = sdt(rd64(rsdp + 24), "XSDT")) == NULL) {
		FAIL("no XSDT\n");
		return;
	}
	if (sdt(rd32(rsdp + 16), "RSDT") == NULL)
		FAIL("no RSDT\n");
	n = (int)(rd32(xsdt + 4) - 36) / 8;
	printf("tables: xsdt");
	for (int i = 0; i < n; i++) {
		uint64_t ta = rd64(xsdt + 36 + 8 * i);
		const uint8_t *t = sdt(ta, NULL);

		if (t == NULL)
			continue;
		printf(" %s", fix(t, 4));
		if (memcmp(t, "FACP", 4) == 0)
			a->fadt = t;
		else if (memcmp(t, "APIC", 4) == 0)
			a->madt = t;
	}
	printf("\n");
	if (a->madt == NULL)
		FAIL("no MADT\n");
	else
		walk_madt(a->madt, expect);
	if (a->fadt == NULL) {
		FAIL("no FADT\n");
		return;
	}
	a->dsdt = sdt(rd64(a->fadt + 140) ? rd64(a->fadt + 140) :
	    rd32(a->fadt + 40), "DSDT");
	if (a->dsdt == NULL) {
		FAIL("no DSDT\n");
		return;
	}
	a->slp_typa = find_s5(a->dsdt);
	printf("tables: fadt pm1a_cnt 0x%x smi_cmd 0x%x enable 0x%x reset "
	    "0x%x value 0x%x flags 0x%x\n",
	    (unsigned)rd64(a->fadt + 176), rd32(a->fadt + 48), a->fadt[52],
	    (unsigned)rd64(a->fadt + 120), a->fadt[128], rd32(a->fadt + 112));
	printf("tables: dsdt s5 slp_typa %d\n", a->slp_typa);
	if (a->slp_typa < 0)
		FAIL("no \\_S5 in the DSDT\n");
}

/* ---- MP ---- */

static void do_mp(int expect)
{
	const uint8_t *fp = scan(0xf0000, 0x100000, "_MP_", 4), *ch;
	uint16_t len, n;
	int cpus = 0;

	if (fp == NULL) {
		printf("tables: mp none\n");
		return;
	}
	if (sum(fp, 16) != 0 || (ch = phys(rd32(fp + 4))) == NULL ||
	    memcmp(ch, "PCMP", 4) != 0) {
		FAIL("mp floating pointer\n");
		return;
	}
	len = rd16(ch + 4);
	n = rd16(ch + 34);
	if (len < 44 || sum(ch, len) != 0) {
		FAIL("mp configuration table checksum\n");
		return;
	}
	for (uint32_t off = 44, i = 0; i < n && off < len; i++) {
		if (ch[off] == 0)
			cpus++;
		off += ch[off] == 0 ? 20 : 8;
	}
	printf("tables: mp at 0x%x cpus %d entries %u\n",
	    (unsigned)(uintptr_t)fp, cpus, n);
	if (expect > 0 && cpus != expect)
		FAIL("mp table lists %d cpus, expected %d\n", cpus, expect);
}

/* ---- SMBIOS ---- */

static const char *sm_str(const uint8_t *s, const uint8_t *end, uint8_t n)
{
	const char *c = (const char *)s + s[1];

	if (n == 0)
		return "";
	while (--n > 0 && (const uint8_t *)c < end)
		c += strnlen(c, (size_t)((const char *)end - c)) + 1;
	return (const uint8_t *)c < end ? c : "";
}

static void do_smbios(void)
{
	const uint8_t *ep3 = scan(0xf0000, 0x100000, "_SM3_", 5);
	const uint8_t *ep2 = scan(0xf0000, 0x100000, "_SM_", 4), *t, *end;

	if (ep3 == NULL || ep2 == NULL) {
		FAIL("smbios entry points: 3.x %s, 2.x %s\n",
		    ep3 ? "found" : "missing", ep2 ? "found" : "missing");
		return;
	}
	if (sum(ep3, ep3[6]) != 0 || sum(ep2, ep2[5]) != 0 ||
	    sum(ep2 + 0x10, 0x0f) != 0) {
		FAIL("smbios entry point checksum\n");
		return;
	}
	printf("tables: smbios %u.%u at 0x%x, %u.%u at 0x%x\n", ep3[7], ep3[8],
	    (unsigned)(uintptr_t)ep3, ep2[6], ep2[7],
	    (unsigned)(uintptr_t)ep2);
	t = phys(rd64(ep3 + 16));
	if (t == NULL || rd32(ep3 + 12) > MAX_TABLE) {
		FAIL("smbios table address\n");
		return;
	}
	end = t + rd32(ep3 + 12);
	while (t + 4 <= end && t[1] >= 4 && t + t[1] <= end) {
		const uint8_t *s = t + t[1];

		while (s + 1 < end && (s[0] || s[1]))
			s++;
		if (t[0] == 1 && t[1] >= 0x19) {
			const uint8_t *u = t + 8;

			printf("tables: smbios uuid %02x%02x%02x%02x-%02x%02x-"
			    "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n",
			    u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6],
			    u[8], u[9], u[10], u[11], u[12], u[13], u[14],
			    u[15]);
			printf("tables: smbios manufacturer \"%s\" serial "
			    "\"%s\"\n", sm_str(t, s, t[4]), sm_str(t, s, t[7]));
		}
		if (t[0] == 127)
			return;
		t = s + 2;
	}
	FAIL("smbios structures run past the table\n");
}

/* ---- leaving ---- */

/* Enter ACPI mode as an OS does: SMI_CMD, then wait for SCI_EN. */
static void acpi_enable(const struct acpi *a)
{
	uint16_t cnt = (uint16_t)rd64(a->fadt + 176);
	uint32_t smi = rd32(a->fadt + 48);

	if (smi != 0 && !(inw(cnt) & 1)) {
		outb((uint16_t)smi, a->fadt[52]);
		for (int i = 0; i < 100 && !(inw(cnt) & 1); i++)
			delay_ms(1);
	}
}

static NORETURN void s5(const struct acpi *a)
{
	uint16_t cnt;

	if (a->fadt == NULL || a->slp_typa < 0) {
		printf("tables: no way to power off\n");
		exit_testdev(GX_FAIL);
	}
	cnt = (uint16_t)rd64(a->fadt + 176);
	acpi_enable(a);
	printf("tables: sci_en %u; powering off with SLP_TYP %d\n",
	    inw(cnt) & 1, a->slp_typa);
	outw(cnt, (uint16_t)((a->slp_typa & 7) << 10 | 1u << 13));
	delay_ms(200);
	printf("tables: \\_S5 did not power off\n");
	exit_testdev(GX_EXITFAIL);
}

/* ---- the power button ---- */

#define IOAPIC_BASE 0xfec00000u
#define SCI_VECTOR 0x60
#define PM1_PWRBTN 0x0100u /* PWRBTN_STS in PM1_STS, PWRBTN_EN in PM1_EN */

static void ioapic_route(uint32_t gsi, uint32_t low, uint32_t dest)
{
	mmio_write32(IOAPIC_BASE, 0x10 + 2 * gsi + 1);
	mmio_write32(IOAPIC_BASE + 0x10, dest << 24);
	mmio_write32(IOAPIC_BASE, 0x10 + 2 * gsi);
	mmio_write32(IOAPIC_BASE + 0x10, low);
}

static bool vector_pending(int v)
{
	return (apic_read(0x200 + 0x10 * (uint32_t)(v / 32)) >> (v % 32)) & 1;
}

/*
 * action=pwrbtn: behave as an ACPI OS with a fixed-feature power button
 * (FADT PWR_BUTTON clear): enter ACPI mode, route the SCI (the FADT's
 * SCI_INT through the MADT's override) to a vector through the I/O APIC,
 * set PWRBTN_EN, report "pwrbtn armed" and wait with interrupts off
 * until the SCI is pending in the local APIC's IRR.  Then PWRBTN_STS
 * must be set; clearing it must drop the SCI; then power off with \_S5.
 * action=pwrbtn-ignore: enter ACPI mode, report "armed" and spin.
 */
static NORETURN void pwrbtn(const struct acpi *a, bool ignore)
{
	const uint8_t *f = a->fadt, *m = a->madt;
	uint32_t sci, gsi, evt, flags = 0, low;
	uint32_t wait = (uint32_t)cmd_num("wait", 120000);

	if (f == NULL || m == NULL || a->slp_typa < 0) {
		printf("tables: pwrbtn: no FADT, MADT or \\_S5\n");
		exit_testdev(GX_FAIL);
	}
	if (rd32(f + 112) & (1u << 4)) {
		printf("tables: pwrbtn: FADT says control-method button\n");
		exit_testdev(GX_FAIL);
	}
	sci = rd16(f + 46);
	evt = rd32(f + 56);
	gsi = sci;
	for (uint32_t off = 44; off + 2 <= rd32(m + 4) && m[off + 1] >= 2;
	     off += m[off + 1])
		if (m[off] == 2 && m[off + 1] >= 10 && m[off + 3] == sci) {
			gsi = rd32(m + off + 4);
			flags = rd16(m + off + 8);
		}
	/* ACPI's SCI default: level, active low; the override may say. */
	low = SCI_VECTOR;
	if ((flags & 3) != 1)
		low |= 1u << 13;
	if (((flags >> 2) & 3) != 1)
		low |= 1u << 15;
	acpi_enable(a);
	irq_init();
	ioapic_route(gsi, low, apic_read_id());
	outw((uint16_t)evt, PM1_PWRBTN); /* clear a stale status */
	if (!ignore)
		outw((uint16_t)(evt + 2), PM1_PWRBTN);
	printf("tables: pwrbtn armed sci %u gsi %u flags 0x%x pm1_evt 0x%x "
	    "sts 0x%x en 0x%x\n", sci, gsi, flags, evt, inw((uint16_t)evt),
	    inw((uint16_t)(evt + 2)));
	if (ignore)
		for (;;)
			delay_ms(100);
	for (uint32_t t = 0; !vector_pending(SCI_VECTOR); t++) {
		if (t >= wait) {
			printf("tables: pwrbtn: no SCI within %u ms (sts 0x%x)"
			    "\n", wait, inw((uint16_t)evt));
			exit_testdev(GX_FAIL);
		}
		delay_ms(1);
	}
	printf("tables: pwrbtn sci pending, pm1_sts 0x%x\n",
	    inw((uint16_t)evt));
	if (!(inw((uint16_t)evt) & PM1_PWRBTN)) {
		printf("tables: pwrbtn: SCI without PWRBTN_STS\n");
		exit_testdev(GX_FAIL);
	}
	outw((uint16_t)evt, PM1_PWRBTN);
	/* Take the pending interrupt once: the line is low now, so the
	 * level-triggered entry must not fire again after the EOI. */
	irq_enable();
	delay_ms(20);
	irq_disable();
	printf("tables: pwrbtn event: sts now 0x%x, sci taken %u\n",
	    inw((uint16_t)evt), irq_count[SCI_VECTOR]);
	if (irq_count[SCI_VECTOR] != 1 || (inw((uint16_t)evt) & PM1_PWRBTN)) {
		printf("tables: pwrbtn: the SCI did not go away\n");
		exit_testdev(GX_FAIL);
	}
	s5(a);
}

static NORETURN void reset(const struct acpi *a)
{
	const uint8_t *f = a->fadt;

	if (f == NULL || !(rd32(f + 112) & (1u << 10)) || f[116] != 1) {
		printf("tables: no I/O reset register\n");
		exit_testdev(GX_FAIL);
	}
	printf("tables: resetting through port 0x%x value 0x%x\n",
	    (unsigned)rd64(f + 120), f[128]);
	outb((uint16_t)rd64(f + 120), f[128]);
	delay_ms(200);
	printf("tables: the reset register did not reset\n");
	exit_testdev(GX_EXITFAIL);
}

void guest_main(void)
{
	int expect = (int)cmd_num("cpus", 0);
	char action[16] = "";
	struct acpi a;

	do_acpi(&a, expect);
	do_mp(expect);
	do_smbios();
	if (fails != 0) {
		printf("tables FAIL: %d problems\n", fails);
		exit_testdev(GX_FAIL);
	}
	printf("tables ok\n");
	cmd_get("action", action, sizeof(action));
	if (strcmp(action, "s5") == 0)
		s5(&a);
	if (strcmp(action, "reset") == 0)
		reset(&a);
	if (strcmp(action, "pwrbtn") == 0)
		pwrbtn(&a, false);
	if (strcmp(action, "pwrbtn-ignore") == 0)
		pwrbtn(&a, true);
	finish(GX_OK);
}
