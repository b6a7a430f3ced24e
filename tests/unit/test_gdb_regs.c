/* test_gdb_regs.c - register layouts, their wire encoding and the target
 * description (gdb/gdb_regs.c), and the x87 tag word conversion. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "gdb/gdb_regs.h"
#include "test.h"

static void sample(struct gdb_regs *r)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 16; i++)
		r->gpr[i] = 0x0101010101010101ULL * (uint64_t)(i + 1);
	r->rip = 0xffffffff81000123ULL;
	r->rflags = 0x246;
	for (int i = 0; i < 6; i++)
		r->seg[i] = 0x10 + 8 * (uint64_t)i;
	r->fs_base = 0x7000;
	r->gs_base = 0x8000;
	r->k_gs_base = 0x9000;
	r->cr0 = 0x80050033;
	r->cr2 = 0xdead;
	r->cr3 = 0x1000;
	r->cr4 = 0x20;
	r->cr8 = 0xf;
	r->efer = 0x501;
	for (int i = 0; i < 8; i++)
		memset(r->st[i], 0xa0 + i, 10);
	r->fctrl = 0x37f;
	r->fstat = 0x3800;
	r->ftag = 0xffff;
	r->fop = 0x7ff;
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	memcpy(&v, p, (size_t)n);
	return v;
}

TEST(gdb_regs_amd64_layout)
{
	size_t n = gdb_regs_size(GDB_ARCH_AMD64);
	uint8_t *b = calloc(1, n), one[16];
	struct gdb_regs r, back;

	CHECK_EQ(n, 348);
	CHECK_EQ(gdb_regs_count(GDB_ARCH_AMD64), 49);
	CHECK_EQ(gdb_regs_pc(GDB_ARCH_AMD64), 16);
	sample(&r);
	gdb_regs_encode(GDB_ARCH_AMD64, &r, b);
	CHECK(le(b + 0, 8) == r.gpr[GDB_RAX]);
	CHECK(le(b + 8, 8) == r.gpr[GDB_RBX]);
	CHECK(le(b + 7 * 8, 8) == r.gpr[GDB_RSP]);
	CHECK(le(b + 15 * 8, 8) == r.gpr[15]);
	CHECK(le(b + 128, 8) == r.rip);
	CHECK_EQ(le(b + 136, 4), 0x246);          /* eflags: 32 bits */
	CHECK_EQ(le(b + 140, 4), 0x10);           /* cs */
	CHECK_EQ(le(b + 160, 4), 0x38);           /* gs */
	CHECK_EQ(le(b + 164, 8), 0x7000);         /* fs_base */
	CHECK_EQ(le(b + 180, 8), 0x9000);         /* k_gs_base */
	CHECK_EQ(le(b + 188, 8), 0x80050033);     /* cr0 */
	CHECK_EQ(le(b + 228, 8), 0x501);          /* efer */
	CHECK_EQ(b[236], 0xa0);                   /* st0 */
	CHECK_EQ(b[236 + 79], 0xa7);              /* st7's last byte */
	CHECK_EQ(le(b + 316, 4), 0x37f);          /* fctrl */
	CHECK_EQ(le(b + 344, 4), 0x7ff);          /* fop */

	memset(&back, 0x5a, sizeof(back));
	CHECK_EQ(gdb_regs_decode(GDB_ARCH_AMD64, &back, b, n), 0);
	CHECK(memcmp(&back, &r, sizeof(r)) == 0);
	CHECK_EQ(gdb_regs_decode(GDB_ARCH_AMD64, &back, b, n - 1), -EINVAL);
	CHECK_EQ(gdb_regs_decode(GDB_ARCH_AMD64, &back, b, n + 1), -EINVAL);

	CHECK_EQ(gdb_reg_get(GDB_ARCH_AMD64, &r, 16, one), 8);
	CHECK(le(one, 8) == r.rip);
	CHECK_EQ(gdb_reg_get(GDB_ARCH_AMD64, &r, 17, one), 4);
	CHECK_EQ(gdb_reg_get(GDB_ARCH_AMD64, &r, 33, one), 10); /* st0 */
	CHECK_EQ(gdb_reg_get(GDB_ARCH_AMD64, &r, 49, one), -EINVAL);
	CHECK_EQ(gdb_reg_get(GDB_ARCH_AMD64, &r, -1, one), -EINVAL);
	CHECK_EQ(gdb_reg_set(GDB_ARCH_AMD64, &r, 0,
	    (const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08", 8), 0);
	CHECK(r.gpr[GDB_RAX] == 0x0807060504030201ULL);
	CHECK_EQ(gdb_reg_set(GDB_ARCH_AMD64, &r, 0,
	    (const uint8_t *)"\x01\x02\x03\x04", 4), -EINVAL);
	CHECK_EQ(gdb_reg_set(GDB_ARCH_AMD64, &r, 49, one, 4), -EINVAL);
	free(b);
}

TEST(gdb_regs_i386_layout)
{
	size_t n = gdb_regs_size(GDB_ARCH_I386);
	uint8_t *b = calloc(1, n), one[16];
	struct gdb_regs r, back;

	CHECK_EQ(n, 200);
	CHECK_EQ(gdb_regs_count(GDB_ARCH_I386), 37);
	CHECK_EQ(gdb_regs_pc(GDB_ARCH_I386), 8);
	sample(&r);
	gdb_regs_encode(GDB_ARCH_I386, &r, b);
	/* gdb's i386 order: eax ecx edx ebx esp ebp esi edi eip. */
	CHECK_EQ(le(b + 0, 4), (uint32_t)r.gpr[GDB_RAX]);
	CHECK_EQ(le(b + 4, 4), (uint32_t)r.gpr[GDB_RCX]);
	CHECK_EQ(le(b + 8, 4), (uint32_t)r.gpr[GDB_RDX]);
	CHECK_EQ(le(b + 12, 4), (uint32_t)r.gpr[GDB_RBX]);
	CHECK_EQ(le(b + 16, 4), (uint32_t)r.gpr[GDB_RSP]);
	CHECK_EQ(le(b + 20, 4), (uint32_t)r.gpr[GDB_RBP]);
	CHECK_EQ(le(b + 24, 4), (uint32_t)r.gpr[GDB_RSI]);
	CHECK_EQ(le(b + 28, 4), (uint32_t)r.gpr[GDB_RDI]);
	CHECK_EQ(le(b + 32, 4), 0x81000123);      /* eip: low half */
	CHECK_EQ(le(b + 36, 4), 0x246);
	CHECK_EQ(b[64], 0xa0);                    /* st0 */
	CHECK_EQ(le(b + 144, 4), 0x37f);          /* fctrl */
	CHECK_EQ(le(b + 176, 4), 0x80050033);     /* cr0 */
	CHECK_EQ(le(b + 192, 8), 0x501);          /* efer */

	/* Decoding sets what the layout has and keeps the rest. */
	back = r;
	memset(b, 0, 8);
	CHECK_EQ(gdb_regs_decode(GDB_ARCH_I386, &back, b, n), 0);
	CHECK_EQ(back.gpr[GDB_RAX], 0);
	CHECK_EQ(back.gpr[GDB_RCX], 0);  /* zero-extended */
	CHECK(back.gpr[8] == r.gpr[8]);  /* r8: not in the layout */
	CHECK(back.rip == 0x81000123);
	CHECK_EQ(gdb_reg_get(GDB_ARCH_I386, &r, 8, one), 4);
	CHECK_EQ(gdb_reg_set(GDB_ARCH_I386, &back, 8,
	    (const uint8_t *)"\x00\x10\x10\x00", 4), 0);
	CHECK_EQ(back.rip, 0x101000);
	free(b);
}

TEST(gdb_regs_changed)
{
	struct gdb_regs a, b;

	sample(&a);
	b = a;
	CHECK_EQ(gdb_regs_changed(&a, &b), 0);
	b.rip++;
	CHECK_EQ(gdb_regs_changed(&a, &b), GDB_GRP_REGS);
	b = a;
	b.seg[2] = 0;
	b.cr3 = 0;
	CHECK_EQ(gdb_regs_changed(&a, &b), GDB_GRP_SREGS);
	b = a;
	b.st[7][9] ^= 1;
	CHECK_EQ(gdb_regs_changed(&a, &b), GDB_GRP_FPU);
	b.k_gs_base = 1;
	b.gpr[3] = 1;
	CHECK_EQ(gdb_regs_changed(&a, &b),
	    GDB_GRP_FPU | GDB_GRP_MSRS | GDB_GRP_REGS);
}

/* The XML names every register of the wire layout, in order, with its
 * size; a short buffer is cut but terminated. */
static void check_xml(enum gdb_arch a, const char *arch, const char *first,
    int *failed)
{
	size_t len = gdb_regs_xml(a, NULL, 0), bits = 0;
	char *x = malloc(len + 1), small[32];
	const char *p;
	int regs = 0;

	CHECK_EQ(gdb_regs_xml(a, x, len + 1), len);
	CHECK_EQ(strlen(x), len);
	CHECK(strstr(x, arch) != NULL);
	CHECK(strstr(x, "<feature name=\"org.gnu.gdb.i386.core\">") != NULL);
	CHECK(strstr(x, "</target>") != NULL);
	CHECK(strchr(x, '#') == NULL && strchr(x, '$') == NULL);
	p = strstr(x, "<reg ");
	CHECK(p != NULL && strncmp(p + 10, first, strlen(first)) == 0);
	for (; p != NULL; p = strstr(p + 1, "<reg ")) {
		const char *bs = strstr(p, "bitsize=\"");

		regs++;
		if (bs != NULL)
			bits += strtoul(bs + 9, NULL, 10);
	}
	CHECK_EQ(regs, gdb_regs_count(a));
	CHECK_EQ(bits, 8 * gdb_regs_size(a));
	CHECK_EQ(gdb_regs_xml(a, small, sizeof(small)), len);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	free(x);
}

TEST(gdb_regs_xml)
{
	check_xml(GDB_ARCH_AMD64, "<architecture>i386:x86-64</architecture>",
	    "\"rax\"", failed);
	check_xml(GDB_ARCH_I386, "<architecture>i386</architecture>",
	    "\"eax\"", failed);
}

TEST(gdb_regs_ftag)
{
	uint8_t st[8][10];
	uint16_t full;

	memset(st, 0, sizeof(st));
	CHECK_EQ(gdb_ftag_full(0, 0, st), 0xffff); /* all empty */
	CHECK_EQ(gdb_ftag_abridged(0xffff), 0);
	/* top = 6: ST0 is physical 6, ST1 physical 7. */
	memcpy(st[0], "\x00\x00\x00\x00\x00\x00\x00\x80\xff\x3f", 10); /* 1.0 */
	memset(st[1], 0, 10);                                         /* 0.0 */
	memcpy(st[2], "\x00\x00\x00\x00\x00\x00\x00\xc0\xff\x7f", 10); /* NaN */
	full = gdb_ftag_full(0xc1, 6 << 11, st);
	CHECK_EQ((full >> 12) & 3, 0); /* physical 6 = ST0: valid */
	CHECK_EQ((full >> 14) & 3, 1); /* physical 7 = ST1: zero */
	CHECK_EQ(full & 3, 2);         /* physical 0 = ST2: special */
	CHECK_EQ((full >> 2) & 3, 3);  /* physical 1: empty */
	CHECK_EQ(gdb_ftag_abridged(full), 0xc1);
	/* An unnormal (integer bit clear) is special. */
	memcpy(st[0], "\x00\x00\x00\x00\x00\x00\x00\x40\xff\x3f", 10);
	CHECK_EQ((gdb_ftag_full(0x40, 6 << 11, st) >> 12) & 3, 2);
}
