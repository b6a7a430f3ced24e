/*
 * fwcfg.elf - the firmware interface at 0x510, as firmware would use it.
 *
 *   mode=qemu (default): QEMU's fw_cfg.  Reads the signature and ID (the
 *   DMA bit must be set), FILE_DIR, the file `file=` (default
 *   opt/org.khyve/greeting) and etc/e820 through the selector/data ports
 *   and again through DMA (both must agree), RAM_SIZE and NB_CPUS; the
 *   e820 entries must equal the multiboot memory map.  A DMA read into a
 *   non-RAM address must come back with the ERROR bit.  Prints
 *   `fwcfg file NAME = "TEXT"`, `fwcfg e820 N: ADDR SIZE TYPE` lines.
 *   Then it does what firmware does with etc/table-loader: reads the
 *   script by DMA and runs it (ALLOCATE: the file read by DMA to a fresh
 *   aligned buffer; ADD_POINTER; ADD_CHECKSUM), walks its own copy
 *   RSDP -> XSDT -> every table (checksums, pointers inside the copy),
 *   FADT -> DSDT (which must list QEMU0002), counts the MADT's enabled
 *   processors (`fwcfg acpi madt cpus N`, must equal NB_CPUS), and checks
 *   the SMBIOS anchor against etc/smbios/smbios-tables.
 *   mode=bhyve: bhyve's fwctl.  Reads the "BHYV" signature and GET
 *   hw.ncpu; prints `fwctl hw.ncpu = N`.
 *
 * Ends with `fwcfg ok` (status 33) or `fwcfg FAIL: ...` (35).
 */
#include "guest.h"

#define SEL 0x510
#define DATA 0x511
#define DMA_HI 0x514
#define DMA_LO 0x518
#define DMA_ERROR 0x01
#define DMA_READ 0x02
#define DMA_SELECT 0x08

static int fails;
#define FAIL(...)                                                             \
	do {                                                                  \
		printf("fwcfg FAIL: " __VA_ARGS__);                           \
		fails++;                                                      \
	} while (0)

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void port_read(uint16_t key, void *buf, uint32_t n)
{
	outw(SEL, key);
	for (uint32_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = inb(DATA);
}

static struct {
	uint32_t control, length;
	uint64_t address;
} __attribute__((aligned(16))) desc;

/* One DMA transfer; returns the control word after it (0 = done). */
static uint32_t dma(uint32_t control, void *buf, uint32_t n, uint64_t addr)
{
	desc.control = __builtin_bswap32(control);
	desc.length = __builtin_bswap32(n);
	desc.address = __builtin_bswap64(buf ? (uint64_t)(uintptr_t)buf : addr);
	outl(DMA_HI, 0);
	outl(DMA_LO, __builtin_bswap32((uint32_t)(uintptr_t)&desc));
	return __builtin_bswap32(*(volatile uint32_t *)&desc.control);
}

static uint8_t dir[4 + 64 * 64], dir2[sizeof(dir)];

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint8_t sum8(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;

	while (n-- > 0)
		s = (uint8_t)(s + *p++);
	return s;
}
static uint8_t item[4096], item2[4096];

/* Find NAME in FILE_DIR: its key and size, or false. */
static bool find_file(const char *name, uint16_t *key, uint32_t *size)
{
	uint32_t n = be32(dir);

	for (uint32_t i = 0; i < n && i < 64; i++) {
		const uint8_t *e = dir + 4 + 64 * i;

		if (strncmp((const char *)e + 8, name, 56) == 0) {
			*key = (uint16_t)(e[4] << 8 | e[5]);
			*size = be32(e);
			return true;
		}
	}
	return false;
}

/* Read an item both ways into item[]; false (after FAIL) on mismatch. */
static bool read_both(const char *what, uint16_t key, uint32_t size)
{
	uint32_t ctl;

	if (size > sizeof(item)) {
		FAIL("%s: %u bytes is too big for this test\n", what, size);
		return false;
	}
	port_read(key, item, size);
	memset(item2, 0x5a, sizeof(item2));
	ctl = dma((uint32_t)key << 16 | DMA_SELECT | DMA_READ, item2, size, 0);
	if (ctl != 0) {
		FAIL("%s: DMA control 0x%x\n", what, ctl);
		return false;
	}
	if (memcmp(item, item2, size) != 0) {
		FAIL("%s: port and DMA reads differ\n", what);
		return false;
	}
	return true;
}

/* ---- etc/table-loader, as firmware runs it ---- */

#define MAX_LFILES 8
static struct lfile {
	char name[57];
	uint8_t *data;
	uint32_t len;
} lfiles[MAX_LFILES];
static int nlfiles;

/* A file by DMA into a fresh buffer (NULL after FAIL). */
static uint8_t *dma_file(const char *name, uint32_t align, uint32_t *len)
{
	uint16_t key;
	uint8_t *buf;
	uint32_t ctl;

	if (!find_file(name, &key, len)) {
		FAIL("no file %s\n", name);
		return NULL;
	}
	if (*len == 0 || *len > (1u << 20)) {
		FAIL("%s: %u bytes\n", name, *len);
		return NULL;
	}
	buf = palloc(*len, align);
	ctl = dma((uint32_t)key << 16 | DMA_SELECT | DMA_READ, buf, *len, 0);
	if (ctl != 0) {
		FAIL("%s: DMA control 0x%x\n", name, ctl);
		return NULL;
	}
	return buf;
}

/* printf here has no precision: NUL-terminated copies of fixed fields. */
static const char *field(const uint8_t *p, int n)
{
	static char buf[2][57];
	static int which;
	char *b = buf[which++ & 1];

	memcpy(b, p, (size_t)n);
	b[n] = '\0';
	return b;
}

static struct lfile *lfile(const uint8_t *name)
{
	for (int i = 0; i < nlfiles; i++)
		if (strncmp(lfiles[i].name, (const char *)name, 56) == 0)
			return &lfiles[i];
	return NULL;
}

/* Run the script; false (after FAIL) on any bad command. */
static bool run_loader(const uint8_t *cmd, uint32_t len)
{
	int nalloc = 0, nptr = 0, ncsum = 0;

	if (len % 128 != 0) {
		FAIL("table-loader is %u bytes\n", len);
		return false;
	}
	for (uint32_t at = 0; at < len; at += 128) {
		const uint8_t *e = cmd + at;
		struct lfile *d = lfile(e + 4), *src;
		uint32_t type = le32(e), off, start, n;
		uint64_t v = 0;
		uint8_t size;

		if (type == 1) { /* ALLOCATE: align, zone (ignored here) */
			if (d != NULL || nlfiles == MAX_LFILES ||
			    le32(e + 60) == 0 || le32(e + 60) > 4096 ||
			    (le32(e + 60) & (le32(e + 60) - 1)) != 0) {
				FAIL("ALLOCATE %s\n", field(e + 4, 56));
				return false;
			}
			d = &lfiles[nlfiles];
			memcpy(d->name, e + 4, 56);
			d->data = dma_file(d->name, le32(e + 60), &d->len);
			if (d->data == NULL)
				return false;
			if (((uintptr_t)d->data & (le32(e + 60) - 1)) != 0)
				FAIL("ALLOCATE %s: misaligned\n", d->name);
			nlfiles++;
			nalloc++;
		} else if (type == 2) { /* ADD_POINTER */
			src = lfile(e + 60);
			off = le32(e + 116);
			size = e[120];
			if (d == NULL || src == NULL || (size != 1 && size != 2 &&
			    size != 4 && size != 8) || off > d->len ||
			    size > d->len - off) {
				FAIL("ADD_POINTER %s <- %s at %u size %u\n",
				    field(e + 4, 56), field(e + 60, 56), off,
				    size);
				return false;
			}
			for (int b = 0; b < size; b++)
				v |= (uint64_t)d->data[off + b] << (8 * b);
			if (v >= src->len)
				FAIL("ADD_POINTER %s+%u: offset %u past %s\n",
				    d->name, off, (uint32_t)v, src->name);
			v += (uintptr_t)src->data;
			for (int b = 0; b < size; b++)
				d->data[off + b] = (uint8_t)(v >> (8 * b));
			nptr++;
		} else if (type == 3) { /* ADD_CHECKSUM */
			off = le32(e + 60);
			start = le32(e + 64);
			n = le32(e + 68);
			if (d == NULL || off >= d->len || start > d->len ||
			    n > d->len - start) {
				FAIL("ADD_CHECKSUM %s\n", field(e + 4, 56));
				return false;
			}
			d->data[off] = (uint8_t)(d->data[off] -
			    sum8(d->data + start, n));
			ncsum++;
		} else {
			FAIL("loader command %u\n", type);
			return false;
		}
	}
	printf("fwcfg loader: %d allocate, %d add_pointer, %d add_checksum\n",
	    nalloc, nptr, ncsum);
	return true;
}

/* A table at a 32-bit address inside the loaded tables file. */
static const uint8_t *acpi_at(uint64_t a, const char *want)
{
	const struct lfile *t = lfile((const uint8_t *)"etc/acpi/tables");
	uintptr_t base = (uintptr_t)t->data;
	const uint8_t *h;

	if (a < base || a + 36 > base + t->len) {
		FAIL("table at 0x%x is outside etc/acpi/tables\n", (uint32_t)a);
		return NULL;
	}
	h = (const uint8_t *)(uintptr_t)a;
	if (a + le32(h + 4) > base + t->len ||
	    (want != NULL && memcmp(h, want, 4) != 0) ||
	    sum8(h, le32(h + 4)) != 0) {
		FAIL("table %s at 0x%x: bad length, signature or checksum\n",
		    field(h, 4), (uint32_t)a);
		return NULL;
	}
	return h;
}

/* The table `sig` of the copy khyve wrote into the BIOS area (RSDP scan
 * of 0xE0000-0xFFFFF, XSDT; the DSDT through the FADT), or NULL. */
static const uint8_t *bios_table(const char *sig)
{
	const uint8_t *rsdp = NULL, *xsdt, *h;
	uint64_t a;

	for (uintptr_t p = 0xe0000; p < 0x100000 && rsdp == NULL; p += 16)
		if (memcmp((const void *)p, "RSD PTR ", 8) == 0)
			rsdp = (const uint8_t *)p;
	if (rsdp == NULL)
		return NULL;
	memcpy(&a, rsdp + 24, 8);
	xsdt = (const uint8_t *)(uintptr_t)a;
	for (uint32_t i = 0; i < (le32(xsdt + 4) - 36) / 8; i++) {
		memcpy(&a, xsdt + 36 + 8 * i, 8);
		h = (const uint8_t *)(uintptr_t)a;
		if (memcmp(h, sig, 4) == 0)
			return h;
		if (memcmp(sig, "DSDT", 4) == 0 && memcmp(h, "FACP", 4) == 0)
			return (const uint8_t *)(uintptr_t)le32(h + 40);
	}
	return NULL;
}

/* fw_cfg's table equals the BIOS area's (those hold no addresses). */
static void same_as_bios(const uint8_t *t, const char *sig)
{
	const uint8_t *b = bios_table(sig);

	if (t == NULL || b == NULL || le32(t + 4) != le32(b + 4) ||
	    memcmp(t, b, le32(t + 4)) != 0)
		FAIL("the %s from fw_cfg differs from the BIOS area's\n", sig);
	else
		printf("fwcfg acpi %s equals the BIOS area's\n", sig);
}

static void check_acpi(uint16_t ncpus)
{
	const struct lfile *r = lfile((const uint8_t *)"etc/acpi/rsdp");
	const uint8_t *rsdp, *xsdt, *rsdt, *h, *madt = NULL, *fadt = NULL;
	const uint8_t *dsdt;
	uint32_t n, cpus = 0;
	uint64_t a;

	if (r == NULL || lfile((const uint8_t *)"etc/acpi/tables") == NULL) {
		FAIL("the loader did not allocate the ACPI files\n");
		return;
	}
	rsdp = r->data;
	if (r->len != 36 || memcmp(rsdp, "RSD PTR ", 8) != 0 ||
	    sum8(rsdp, 20) != 0 || sum8(rsdp, 36) != 0) {
		FAIL("RSDP signature, length or checksums\n");
		return;
	}
	memcpy(&a, rsdp + 24, 8);
	xsdt = acpi_at(a, "XSDT");
	rsdt = acpi_at(le32(rsdp + 16), "RSDT");
	if (xsdt == NULL || rsdt == NULL)
		return;
	n = (le32(xsdt + 4) - 36) / 8;
	printf("fwcfg acpi rsdp at 0x%x xsdt at 0x%x, %u tables:",
	    (uint32_t)(uintptr_t)rsdp, (uint32_t)a, n);
	for (uint32_t i = 0; i < n; i++) {
		memcpy(&a, xsdt + 36 + 8 * i, 8);
		if (le32(rsdt + 36 + 4 * i) != a)
			FAIL("RSDT and XSDT entry %u differ\n", i);
		if ((h = acpi_at(a, NULL)) == NULL)
			continue;
		printf(" %s", field(h, 4));
		if (memcmp(h, "APIC", 4) == 0)
			madt = h;
		if (memcmp(h, "FACP", 4) == 0)
			fadt = h;
	}
	printf("\n");
	if (madt == NULL) {
		FAIL("no MADT\n");
	} else {
		for (uint32_t off = 44; off + 2 <= le32(madt + 4) &&
		     madt[off + 1]; off += madt[off + 1]) {
			if (madt[off] == 0 && (madt[off + 4] & 1))
				cpus++;
			if (madt[off] == 9 && (madt[off + 8] & 1))
				cpus++;
		}
		printf("fwcfg acpi madt cpus %u\n", cpus);
		same_as_bios(madt, "APIC");
		if (cpus != ncpus)
			FAIL("the MADT lists %u CPUs, NB_CPUS says %u\n",
			    cpus, ncpus);
	}
	if (fadt == NULL) {
		FAIL("no FADT\n");
		return;
	}
	memcpy(&a, fadt + 140, 8);
	if (a != le32(fadt + 40))
		FAIL("FADT DSDT 0x%x, X_DSDT 0x%x\n", le32(fadt + 40),
		    (uint32_t)a);
	if ((dsdt = acpi_at(a, "DSDT")) != NULL) {
		bool qemu = false;

		for (uint32_t i = 36; i + 8 <= le32(dsdt + 4); i++)
			qemu |= memcmp(dsdt + i, "QEMU0002", 8) == 0;
		printf("fwcfg acpi dsdt %u bytes, fw_cfg device %s\n",
		    le32(dsdt + 4), qemu ? "QEMU0002" : "missing");
		if (!qemu)
			FAIL("the DSDT has no QEMU0002 device\n");
		same_as_bios(dsdt, "DSDT");
	}
	/* The FACS has no checksum: inside the copy, signed, aligned. */
	memcpy(&a, fadt + 132, 8);
	h = (const uint8_t *)(uintptr_t)a;
	if (a != le32(fadt + 36) || a % 64 != 0 ||
	    a < (uintptr_t)lfile((const uint8_t *)"etc/acpi/tables")->data ||
	    a + 64 > (uintptr_t)lfile((const uint8_t *)"etc/acpi/tables")->data +
	    lfile((const uint8_t *)"etc/acpi/tables")->len ||
	    memcmp(h, "FACS", 4) != 0)
		FAIL("FADT FACS 0x%x / X_FACS 0x%x\n", le32(fadt + 36),
		    (uint32_t)a);
}

static void check_smbios(void)
{
	uint32_t alen, tlen, nstruct = 0, off = 0;
	uint8_t *anchor = dma_file("etc/smbios/smbios-anchor", 16, &alen);
	uint8_t *t = dma_file("etc/smbios/smbios-tables", 16, &tlen);

	if (anchor == NULL || t == NULL)
		return;
	if (alen != 31 || memcmp(anchor, "_SM_", 4) != 0 ||
	    sum8(anchor, 31) != 0 || memcmp(anchor + 0x10, "_DMI_", 5) != 0 ||
	    sum8(anchor + 0x10, 15) != 0) {
		FAIL("SMBIOS anchor (%u bytes)\n", alen);
		return;
	}
	while (off + 4 <= tlen) {
		nstruct++;
		off += t[off + 1];
		while (off + 1 < tlen && (t[off] != 0 || t[off + 1] != 0))
			off++;
		off += 2;
	}
	printf("fwcfg smbios anchor %u.%u tables %u bytes, %u structures, "
	    "first type %u\n", anchor[6], anchor[7], tlen, nstruct, t[0]);
	if (anchor[0x16] != (tlen & 0xff) || anchor[0x17] != tlen >> 8 ||
	    anchor[0x1c] != nstruct || off != tlen || t[0] != 0)
		FAIL("SMBIOS anchor and tables disagree\n");
}

static void do_qemu(void)
{
	char sig[5] = { 0 }, name[64] = "opt/org.khyve/greeting";
	uint32_t id = 0, ndir, size, ctl, nmap;
	uint64_t ram = 0;
	uint16_t key, ncpus = 0;

	port_read(0x00, sig, 4);
	port_read(0x01, &id, 4);
	printf("fwcfg signature \"%s\" id 0x%x\n", sig, id);
	if (strcmp(sig, "QEMU") != 0 || (id & 3) != 3) {
		FAIL("signature or ID\n");
		return;
	}
	port_read(0x03, &ram, 8);
	port_read(0x05, &ncpus, 2);
	printf("fwcfg ram 0x%x%08x cpus %u\n", (uint32_t)(ram >> 32),
	    (uint32_t)ram, ncpus);
	/* FILE_DIR: count first, then the whole directory both ways. */
	port_read(0x19, dir, 4);
	ndir = be32(dir);
	if (ndir == 0 || ndir > 64) {
		FAIL("FILE_DIR lists %u files\n", ndir);
		return;
	}
	port_read(0x19, dir, 4 + 64 * ndir);
	ctl = dma(0x19u << 16 | DMA_SELECT | DMA_READ, dir2, 4 + 64 * ndir, 0);
	if (ctl != 0 || memcmp(dir, dir2, 4 + 64 * ndir) != 0)
		FAIL("FILE_DIR by DMA (control 0x%x) differs\n", ctl);
	printf("fwcfg dir %u files:", ndir);
	for (uint32_t i = 0; i < ndir; i++)
		printf(" %s", (const char *)dir + 4 + 64 * i + 8);
	printf("\n");

	cmd_get("file", name, sizeof(name));
	if (!find_file(name, &key, &size))
		FAIL("no file %s\n", name);
	else if (read_both(name, key, size)) {
		item[size < sizeof(item) ? size : sizeof(item) - 1] = 0;
		printf("fwcfg file %s = \"%s\" (%u bytes, key 0x%x)\n", name,
		    (const char *)item, size, key);
	}

	if (!find_file("etc/e820", &key, &size) || size % 20 != 0)
		FAIL("no etc/e820\n");
	else if (read_both("etc/e820", key, size)) {
		nmap = size / 20;
		for (uint32_t i = 0; i < nmap; i++) {
			uint64_t a, l;
			uint32_t t;
			const struct mem_range *b = &boot.mmap[i];

			memcpy(&a, item + 20 * i, 8);
			memcpy(&l, item + 20 * i + 8, 8);
			memcpy(&t, item + 20 * i + 16, 4);
			printf("fwcfg e820 %u: 0x%x%08x 0x%x%08x %u\n", i,
			    (uint32_t)(a >> 32), (uint32_t)a,
			    (uint32_t)(l >> 32), (uint32_t)l, t);
			if ((int)i >= boot.nmmap || b->addr != a ||
			    b->len != l || b->type != t)
				FAIL("e820 entry %u differs from the multiboot "
				    "map\n", i);
		}
		if ((int)nmap != boot.nmmap)
			FAIL("e820 has %u entries, multiboot %d\n", nmap,
			    boot.nmmap);
	}

	/* bootorder: one OpenFirmware path a line. */
	if (find_file("bootorder", &key, &size) &&
	    read_both("bootorder", key, size)) {
		char *line = (char *)item;

		item[size < sizeof(item) ? size : sizeof(item) - 1] = 0;
		for (char *c = line; *c != '\0'; c++)
			if (*c == '\n') {
				*c = '\0';
				printf("fwcfg bootorder: %s\n", line);
				line = c + 1;
			}
		if (*line != '\0' || size == 0 || item[size - 1] != 0)
			FAIL("bootorder: not newline-ended lines and a NUL\n");
	}

	if (find_file("etc/table-loader", &key, &size)) {
		uint32_t llen;
		uint8_t *l = dma_file("etc/table-loader", 16, &llen);

		if (l != NULL && run_loader(l, llen))
			check_acpi(ncpus);
		check_smbios();
	} else {
		printf("fwcfg no table-loader\n");
	}

	/* Hostile: a DMA read to the I/O APIC's address, not RAM. */
	ctl = dma(0x19u << 16 | DMA_SELECT | DMA_READ, NULL, 16, 0xfec00000);
	printf("fwcfg dma to non-RAM: control 0x%x\n", ctl);
	if (ctl != DMA_ERROR)
		FAIL("a DMA read to non-RAM did not fail\n");
}

static uint32_t fwctl_word(void)
{
	return inl(DATA);
}

static void do_bhyve(void)
{
	char sig[5] = { 0 };
	uint32_t name[2], r[8];

	outw(SEL, 0);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(DATA);
	printf("fwctl signature \"%s\"\n", sig);
	if (strcmp(sig, "BHYV") != 0) {
		FAIL("fwctl signature\n");
		return;
	}
	memcpy(name, "hw.ncpu", 8);
	outl(SEL, 12 + 8); /* size, op GET, txid, name */
	outl(SEL, 3);
	outl(SEL, 42);
	outl(SEL, name[0]);
	outl(SEL, name[1]);
	r[0] = fwctl_word();
	for (int i = 1; i < 8 && (uint32_t)i * 4 < r[0]; i++)
		r[i] = fwctl_word();
	printf("fwctl response size %u op %u txid %u error %u len %u value "
	    "%u\n", r[0], r[1], r[2], r[3], r[4], r[6]);
	if (r[0] != 28 || r[1] != 3 || r[2] != 42 || r[3] != 0 || r[4] != 4)
		FAIL("fwctl response\n");
	else
		printf("fwctl hw.ncpu = %u\n", r[6]);
}

void guest_main(void)
{
	char mode[16] = "qemu";

	cmd_get("mode", mode, sizeof(mode));
	if (strcmp(mode, "bhyve") == 0)
		do_bhyve();
	else
		do_qemu();
	if (fails != 0) {
		printf("fwcfg FAIL: %d problems\n", fails);
		exit_testdev(GX_FAIL);
	}
	printf("fwcfg ok\n");
	finish(GX_OK);
}
