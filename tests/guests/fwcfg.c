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
