/*
 * test_fwcfg.c - the two firmware interfaces at 0x510 (dev/fwcfg.h):
 * QEMU's fw_cfg through the ports and DMA (with hostile descriptors) and
 * bhyve's fwctl request/response machine, driven without KVM on a small
 * fake guest RAM.
 */
#include <errno.h>
#include <stdlib.h>

#include "dev/fwcfg.h"
#include "test.h"

#define RAM (1u << 20)

static struct guest_mem fake_mem(void)
{
	struct guest_mem m = { 0 };

	m.r[0].gpa = 0;
	m.r[0].size = RAM;
	m.r[0].host = calloc(1, RAM);
	m.nregions = 1;
	m.lowmem = RAM;
	return m;
}

static uint64_t q_in(struct fwcfg *f, uint64_t off, int size)
{
	uint64_t v = 0xdead;

	fwcfg_io(f, false, off, size, &v);
	return v;
}

static void q_out(struct fwcfg *f, uint64_t off, int size, uint64_t v)
{
	fwcfg_io(f, true, off, size, &v);
}

static void q_read(struct fwcfg *f, uint16_t key, uint8_t *buf, size_t n)
{
	q_out(f, 0, 2, key);
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)q_in(f, 1, 1);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Write a descriptor at `desc` and start it as a guest would. */
static uint32_t q_dma(struct fwcfg *f, struct guest_mem *m, uint64_t desc,
    uint32_t ctl, uint32_t len, uint64_t addr)
{
	uint8_t *d = m->r[0].host + desc;

	put_be(d, ctl, 4);
	put_be(d + 4, len, 4);
	put_be(d + 8, addr, 8);
	q_out(f, 4, 4, __builtin_bswap32((uint32_t)(desc >> 32)));
	q_out(f, 8, 4, __builtin_bswap32((uint32_t)desc));
	return be32(d);
}

TEST(fwcfg_ports)
{
	struct guest_mem m = fake_mem();
	struct fwcfg *f = fwcfg_create(&m);
	uint8_t buf[256];

	CHECK(f != NULL);
	q_read(f, FWCFG_SIGNATURE, buf, 6);
	CHECK(memcmp(buf, "QEMU\0\0", 6) == 0); /* past the end: 0 */
	q_out(f, 0, 2, FWCFG_ID);
	CHECK_EQ(q_in(f, 1, 1), FWCFG_ID_TRAD | FWCFG_ID_DMA);
	CHECK_EQ(q_in(f, 0, 2), FWCFG_ID); /* the selector reads back */
	/* The DMA register reads "QEMU CFG". */
	CHECK_EQ(q_in(f, 4, 4), 0x554d4551); /* "QEMU" */
	CHECK_EQ(q_in(f, 8, 4), 0x47464320); /* " CFG" */
	/* Files: sorted by name in FILE_DIR, keys from 0x20. */
	CHECK_EQ(fwcfg_add_file(f, "opt/b", "bee", 4), 0);
	CHECK_EQ(fwcfg_add_file(f, "etc/a", "a", 2), 0);
	CHECK_EQ(fwcfg_add_file(f, "opt/b", "x", 2), -EEXIST);
	CHECK_EQ(fwcfg_add_file(f, "", "x", 2), -EINVAL);
	memset(buf, 'n', 60);
	buf[60] = '\0';
	CHECK_EQ(fwcfg_add_file(f, (char *)buf, "x", 2), -EINVAL);
	buf[55] = '\0';
	CHECK_EQ(fwcfg_add_file(f, (char *)buf, "x", 2), 0); /* 55 fits */
	CHECK_EQ(fwcfg_add_item(f, FWCFG_FILE_DIR, "x", 1), -EINVAL);
	CHECK_EQ(fwcfg_add_item(f, FWCFG_SIGNATURE, "x", 1), -EEXIST);
	q_read(f, FWCFG_FILE_DIR, buf, 4 + 64 * 2);
	CHECK_EQ(be32(buf), 3);
	CHECK_EQ(be32(buf + 4), 2);                    /* etc/a size */
	CHECK_EQ(buf[8] << 8 | buf[9], 0x21);         /* etc/a key */
	CHECK_STR((char *)buf + 12, "etc/a");
	CHECK_EQ(buf[76], 'n');                        /* nnn... second */
	q_read(f, 0x20, buf, 4);
	CHECK_STR((char *)buf, "bee");
	/* Data writes and odd widths change nothing. */
	q_out(f, 0, 2, 0x20);
	q_out(f, 1, 1, 0x55);
	q_out(f, 0, 1, 0x21);
	CHECK_EQ(q_in(f, 1, 1), 'b');
	/* An unknown key reads zeros. */
	q_out(f, 0, 2, 0x1234);
	CHECK_EQ(q_in(f, 1, 4), 0);
	fwcfg_destroy(f);
	free(m.r[0].host);
}

TEST(fwcfg_dma)
{
	struct guest_mem m = fake_mem();
	struct fwcfg *f = fwcfg_create(&m);
	uint8_t *ram = m.r[0].host;

	CHECK_EQ(fwcfg_add_file(f, "opt/x", "0123456789", 11), 0);
	/* Select and read the whole file, plus 5 bytes that read 0. */
	memset(ram + 0x2000, 0xaa, 32);
	CHECK_EQ(q_dma(f, &m, 0x1000, 0x20u << 16 | FWCFG_DMA_SELECT |
	    FWCFG_DMA_READ, 16, 0x2000), 0);
	CHECK(memcmp(ram + 0x2000, "0123456789\0\0\0\0\0\0", 16) == 0);
	CHECK_EQ(ram[0x2010], 0xaa);
	/* Skip, then read on from the same offset (the port shares it). */
	CHECK_EQ(q_dma(f, &m, 0x1000, 0x20u << 16 | FWCFG_DMA_SELECT |
	    FWCFG_DMA_SKIP, 3, 0), 0);
	CHECK_EQ(q_in(f, 1, 1), '3');
	CHECK_EQ(q_dma(f, &m, 0x1000, FWCFG_DMA_READ, 2, 0x3000), 0);
	CHECK(memcmp(ram + 0x3000, "45", 2) == 0);
	/* Writes are refused. */
	CHECK_EQ(q_dma(f, &m, 0x1000, FWCFG_DMA_WRITE, 2, 0x3000),
	    FWCFG_DMA_ERROR);
	fwcfg_destroy(f);
	free(m.r[0].host);
}

TEST(fwcfg_dma_hostile)
{
	struct guest_mem m = fake_mem();
	struct fwcfg *f = fwcfg_create(&m);
	uint8_t *ram = m.r[0].host;
	static const struct {
		uint32_t len;
		uint64_t addr;
	} bad[] = {
		{ 16, RAM },                      /* just past RAM */
		{ 16, RAM - 8 },                  /* straddles the end */
		{ 0xffffffffu, 0 },               /* longer than RAM */
		{ 0x200, 0xffffffffffffff00ULL }, /* wraps around */
		{ 16, 0xfee00000 },               /* the LAPIC, not RAM */
	};

	CHECK_EQ(fwcfg_add_file(f, "opt/x", "0123456789", 11), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(q_dma(f, &m, 0x1000, 0x20u << 16 | FWCFG_DMA_SELECT |
		    FWCFG_DMA_READ, bad[i].len, bad[i].addr),
		    FWCFG_DMA_ERROR);
	}
	/* Descriptors outside RAM or across its end are ignored. */
	q_out(f, 4, 4, 0);
	q_out(f, 8, 4, __builtin_bswap32(RAM - 8));
	q_out(f, 4, 4, __builtin_bswap32(0xffffffffu));
	q_out(f, 8, 4, __builtin_bswap32(0xfffffff8u));
	/* The high half does not stick to the next transfer. */
	q_out(f, 4, 4, __builtin_bswap32(1));
	q_out(f, 8, 4, __builtin_bswap32(0x1000));
	CHECK_EQ(q_dma(f, &m, 0x1000, 0x20u << 16 | FWCFG_DMA_SELECT |
	    FWCFG_DMA_READ, 4, 0x2000), 0);
	CHECK(memcmp(ram + 0x2000, "0123", 4) == 0);
	/* A zero-length read touches nothing, even at a bad address. */
	CHECK_EQ(q_dma(f, &m, 0x1000, FWCFG_DMA_READ, 0, ~0ULL), 0);
	/* No RAM at all: nothing happens. */
	fwcfg_destroy(f);
	f = fwcfg_create(NULL);
	q_out(f, 4, 4, 0);
	q_out(f, 8, 4, __builtin_bswap32(0x1000));
	fwcfg_destroy(f);
	free(m.r[0].host);
}

static uint64_t c_io(struct fwctl *c, bool write, int size, uint64_t v)
{
	fwctl_io(c, write, write ? 0 : 1, size, &v);
	return v;
}

/* Send a request with `name` (NUL-padded) and read the response words. */
static int fwctl_req(struct fwctl *c, uint32_t op, const char *name,
    uint32_t *resp, int max)
{
	uint32_t words[32] = { 0 };
	size_t nlen = strlen(name) + 1, nw = (nlen + 3) / 4;
	int n;

	memcpy(words, name, nlen);
	c_io(c, true, 4, 12 + nlen);
	c_io(c, true, 4, op);
	c_io(c, true, 4, 0x1234);
	for (size_t i = 0; i < nw; i++)
		c_io(c, true, 4, words[i]);
	resp[0] = (uint32_t)c_io(c, false, 4, 0);
	for (n = 1; n < max && (uint32_t)n * 4 < resp[0]; n++)
		resp[n] = (uint32_t)c_io(c, false, 4, 0);
	return n;
}

TEST(fwctl_protocol)
{
	struct fwctl *c = fwctl_create(6);
	uint32_t r[16];
	char sig[5] = { 0 }, longname[100];

	/* Before the identify step nothing answers. */
	CHECK_EQ(c_io(c, false, 1, 0), 0xff);
	c_io(c, true, 2, 0);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)c_io(c, false, 1, 0);
	CHECK_STR(sig, "BHYV");
	CHECK_EQ(fwctl_req(c, 3, "hw.ncpu", r, 16), 7);
	CHECK_EQ(r[0], 28);
	CHECK_EQ(r[1], 3);
	CHECK_EQ(r[2], 0x1234);
	CHECK_EQ(r[3], 0);     /* no error */
	CHECK_EQ(r[4], 4);     /* size_t size, low and high */
	CHECK_EQ(r[5], 0);
	CHECK_EQ(r[6], 6);     /* the value */
	CHECK_EQ(fwctl_req(c, 4, "hw.ncpu", r, 16), 6);
	CHECK_EQ(r[4], 4);
	CHECK_EQ(fwctl_req(c, 3, "hw.nope", r, 16), 4);
	CHECK_EQ(r[3], 2);     /* ENOENT */
	CHECK_EQ(fwctl_req(c, 9, "hw.ncpu", r, 16), 4);
	CHECK_EQ(r[3], 2);
	memset(longname, 'a', 99);
	longname[99] = '\0';
	CHECK_EQ(fwctl_req(c, 3, longname, r, 16), 4);
	CHECK_EQ(r[3], 7);     /* E2BIG */
	/* A size under the header is dropped; the next request works. */
	c_io(c, true, 4, 3);
	CHECK_EQ(fwctl_req(c, 3, "hw.ncpu", r, 16), 7);
	CHECK_EQ(r[6], 6);
	/* Past the response: nothing more to read. */
	CHECK_EQ(c_io(c, false, 4, 0), 0xffffffff);
	/* outw 0 restarts from any state, even mid-request. */
	c_io(c, true, 4, 24);
	c_io(c, true, 2, 0);
	CHECK_EQ(c_io(c, false, 1, 0), 'B');
	fwctl_destroy(c);
}
