/*
 * test_virtio_blk.c - virtio-blk request parsing (src/virtio/
 * virtio_blk_req.c) over fake guest RAM fenced by guard pages: good
 * requests of every type, odd but legal framings, and hostile chains.
 * Buffers the parser must read are put flush against the end of RAM, so
 * reading one byte too many faults the test run.
 */
#include <errno.h>
#include <string.h>

#include "loader_fixture.h"
#include "test.h"
#include "virtio/virtio_blk.h"

#define RAM (1 * MiB)
#define CAP 2048 /* sectors: a 1 MiB disk */
#define END(len) (RAM - (len)) /* gpa of a buffer ending at the guard */

struct fx {
	struct fx_mem mem;
	struct vq_seg s[VQ_MAX_SIZE];
	int n;
	struct iovec iov[BLOCKIF_IOV_MAX];
	struct vtblk_req r;
	struct vtblk_limits lim;
};

static int fx_setup(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->lim = (struct vtblk_limits){
		.capacity = CAP,
		.discard = true,
		.write_zeroes = true,
		.may_unmap = true,
		.max_discard_sectors = 32768,
		.max_discard_seg = 1,
		.max_write_zeroes_sectors = 32768,
		.max_write_zeroes_seg = 1,
	};
	return fx_init(&f->mem, RAM, 0);
}

static uint8_t *gp(struct fx *f, uint64_t gpa)
{
	return f->mem.m.r[0].host + gpa;
}

static void seg(struct fx *f, uint64_t gpa, uint32_t len, bool write)
{
	f->s[f->n].base = gmem_ptr(&f->mem.m, gpa, len);
	f->s[f->n].len = len;
	f->s[f->n].write = write;
	f->n++;
}

/* A 16-byte header at `gpa`. */
static void hdr(struct fx *f, uint64_t gpa, uint32_t type, uint64_t sector)
{
	fx_w32(gp(f, gpa), type);
	fx_w32(gp(f, gpa + 4), 0);
	fx_w64(gp(f, gpa + 8), sector);
}

static void dwz(struct fx *f, uint64_t gpa, uint64_t sector, uint32_t num,
    uint32_t flags)
{
	fx_w64(gp(f, gpa), sector);
	fx_w32(gp(f, gpa + 8), num);
	fx_w32(gp(f, gpa + 12), flags);
}

static void parse(struct fx *f)
{
	vtblk_req_parse(f->s, f->n, &f->lim, f->iov, BLOCKIF_IOV_MAX, &f->r);
}

/* Expect an immediate answer `st` written to the byte at `status_gpa`. */
#define CHECK_DONE(f, st, status_gpa)                                         \
	do {                                                                  \
		CHECK_EQ((f)->r.action, VTBLK_DONE);                          \
		CHECK_EQ((f)->r.result, (st));                                \
		CHECK((f)->r.status == gp((f), (status_gpa)));                \
		CHECK_EQ((f)->r.used_len, 1);                                 \
	} while (0)

/* ---- good requests ---------------------------------------------------- */

TEST(vtblk_parse_read)
{
	struct fx f;

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	/* Linux's layout: header | data (2 segments) | status. */
	hdr(&f, END(16), VIRTIO_BLK_T_IN, 8);
	seg(&f, END(16), 16, false);
	seg(&f, 0x1000, 4096, true);
	seg(&f, 0x3000, 512, true);
	seg(&f, END(17), 1, true);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.op, BLOCKIF_OP_READ);
	CHECK_EQ(f.r.offset, 8 * 512);
	CHECK_EQ(f.r.len, 4608);
	CHECK_EQ(f.r.iovcnt, 2);
	CHECK(f.iov[0].iov_base == gp(&f, 0x1000) && f.iov[0].iov_len == 4096);
	CHECK(f.iov[1].iov_base == gp(&f, 0x3000) && f.iov[1].iov_len == 512);
	CHECK(f.r.status == gp(&f, END(17)));
	CHECK_EQ(f.r.used_len, 4608 + 1);
	CHECK_EQ(f.r.type, VIRTIO_BLK_T_IN);
	CHECK_EQ(f.r.sector, 8);
	fx_fini(&f.mem);
}

TEST(vtblk_parse_write)
{
	struct fx f;

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	/* The last sectors of the disk, exactly up to capacity. */
	hdr(&f, 0x100, VIRTIO_BLK_T_OUT, CAP - 3);
	seg(&f, 0x100, 16, false);
	seg(&f, 0x2000, 1024, false);
	seg(&f, 0x4000, 512, false);
	seg(&f, END(1), 1, true);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.op, BLOCKIF_OP_WRITE);
	CHECK_EQ(f.r.offset, (CAP - 3) * 512ULL);
	CHECK_EQ(f.r.len, 1536);
	CHECK_EQ(f.r.iovcnt, 2);
	CHECK(f.iov[0].iov_base == gp(&f, 0x2000) && f.iov[0].iov_len == 1024);
	CHECK_EQ(f.r.used_len, 1);
	CHECK(f.r.status == gp(&f, END(1)));
	fx_fini(&f.mem);
}

/* Framing is free (2.6.4): split headers, merged header+data, data+status. */
TEST(vtblk_parse_any_layout)
{
	struct fx f;

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	/* Header in two pieces of 8, the second at the end of RAM. */
	fx_w32(gp(&f, 0x200), VIRTIO_BLK_T_IN);
	fx_w32(gp(&f, 0x204), 0);
	fx_w64(gp(&f, END(8)), 5);
	seg(&f, 0x200, 8, false);
	seg(&f, END(8), 8, false);
	/* Data and status in one writable buffer. */
	seg(&f, 0x1000, 1024 + 1, true);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.offset, 5 * 512);
	CHECK_EQ(f.r.len, 1024);
	CHECK_EQ(f.r.iovcnt, 1);
	CHECK(f.iov[0].iov_base == gp(&f, 0x1000) && f.iov[0].iov_len == 1024);
	CHECK(f.r.status == gp(&f, 0x1000 + 1024));
	CHECK_EQ(f.r.used_len, 1025);

	/* A write with header and data in one readable buffer. */
	f.n = 0;
	hdr(&f, 0x2000, VIRTIO_BLK_T_OUT, 1);
	seg(&f, 0x2000, 16 + 512, false);
	seg(&f, END(1), 1, true);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.op, BLOCKIF_OP_WRITE);
	CHECK_EQ(f.r.offset, 512);
	CHECK_EQ(f.r.iovcnt, 1);
	CHECK(f.iov[0].iov_base == gp(&f, 0x2010) && f.iov[0].iov_len == 512);
	fx_fini(&f.mem);
}

TEST(vtblk_parse_flush_getid)
{
	struct fx f;

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	hdr(&f, END(16), VIRTIO_BLK_T_FLUSH, 0);
	seg(&f, END(16), 16, false);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.op, BLOCKIF_OP_FLUSH);
	CHECK_EQ(f.r.used_len, 1);

	f.n = 0;
	hdr(&f, END(16), VIRTIO_BLK_T_GET_ID, 0);
	seg(&f, END(16), 16, false);
	seg(&f, 0x100, 20, true);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_GET_ID);
	CHECK_EQ(f.r.data_len, 20);
	CHECK_EQ(f.r.iovcnt, 1);
	CHECK(f.iov[0].iov_base == gp(&f, 0x100));
	CHECK_EQ(f.r.used_len, 21);
	/* A short buffer gets what fits; a long one 20 bytes. */
	f.s[1].len = 8;
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_GET_ID);
	CHECK_EQ(f.r.data_len, 8);
	CHECK_EQ(f.r.used_len, 9);
	f.s[1].len = 64;
	parse(&f);
	CHECK_EQ(f.r.data_len, 20);
	/* No room at all: IOERR. */
	f.n = 0;
	seg(&f, END(16), 16, false);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	fx_fini(&f.mem);
}

TEST(vtblk_parse_discard_write_zeroes)
{
	struct fx f;

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	hdr(&f, 0x100, VIRTIO_BLK_T_DISCARD, 0);
	dwz(&f, END(16), 16, 64, 0);
	seg(&f, 0x100, 16, false);
	seg(&f, END(16), 16, false);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.op, BLOCKIF_OP_DISCARD);
	CHECK_EQ(f.r.offset, 16 * 512);
	CHECK_EQ(f.r.len, 64 * 512);
	CHECK_EQ(f.r.flags, 0);
	/* Write zeroes up to the end, with UNMAP. */
	hdr(&f, 0x100, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	dwz(&f, END(16), CAP - 8, 8, VIRTIO_BLK_WZ_FLAG_UNMAP);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.op, BLOCKIF_OP_WRITE_ZEROES);
	CHECK_EQ(f.r.offset, (CAP - 8) * 512ULL);
	CHECK_EQ(f.r.len, 8 * 512);
	CHECK_EQ(f.r.flags, BLOCKIF_F_UNMAP);
	/* UNMAP is only passed on when the disk may deallocate. */
	f.lim.may_unmap = false;
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.flags, 0);
	f.lim.may_unmap = true;
	/* The segment merged into the header's buffer. */
	f.n = 0;
	hdr(&f, 0x400, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	dwz(&f, 0x410, 3, 5, 0);
	seg(&f, 0x400, 32, false);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.offset, 3 * 512);
	CHECK_EQ(f.r.len, 5 * 512);
	fx_fini(&f.mem);
}

/* ---- hostile requests ------------------------------------------------- */

TEST(vtblk_parse_bad_header_status)
{
	struct fx f;

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	/* Header one byte short. */
	hdr(&f, END(16), VIRTIO_BLK_T_IN, 0);
	seg(&f, END(15), 15, false);
	seg(&f, 0x1000, 512, true);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	/* Header in a device-writable buffer: IOERR in the last byte. */
	f.n = 0;
	seg(&f, END(16), 16, true);
	seg(&f, 0x1000, 512, true);
	seg(&f, 0x20, 1, true);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x20);
	/* Nothing writable: the status has nowhere to go. */
	f.n = 0;
	seg(&f, END(16), 16, false);
	seg(&f, 0x1000, 512, false);
	seg(&f, 0x10, 1, false); /* "status" readable */
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_DROP);
	CHECK(f.r.status == NULL);
	CHECK_EQ(f.r.used_len, 0);
	/* An empty chain. */
	f.n = 0;
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_DROP);
	vtblk_req_parse(f.s, -5, &f.lim, f.iov, BLOCKIF_IOV_MAX, &f.r);
	CHECK_EQ(f.r.action, VTBLK_DROP);
	fx_fini(&f.mem);
}

TEST(vtblk_parse_bad_rw)
{
	struct fx f;

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	hdr(&f, END(16), VIRTIO_BLK_T_IN, 0);
	seg(&f, END(16), 16, false);
	seg(&f, 0x1000, 513, true); /* not a whole sector */
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	f.s[1].len = 511;
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	f.s[1].len = 512;
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	/* Beyond capacity: last sector + 1, and one sector too many. */
	hdr(&f, END(16), VIRTIO_BLK_T_IN, CAP);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	hdr(&f, END(16), VIRTIO_BLK_T_IN, CAP - 1);
	f.s[1].len = 1024;
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	/* sector * 512 overflows, and offset + len wraps. */
	hdr(&f, END(16), VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1);
	f.s[1].len = 512;
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	hdr(&f, END(16), VIRTIO_BLK_T_IN, UINT64_MAX / 512);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	/* A read carrying device-readable data. */
	f.n = 0;
	hdr(&f, END(16), VIRTIO_BLK_T_IN, 0);
	seg(&f, END(16), 16, false);
	seg(&f, 0x2000, 512, false);
	seg(&f, 0x1000, 512, true);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	/* A write with device-writable data. */
	hdr(&f, END(16), VIRTIO_BLK_T_OUT, 0);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	/* A write on a read-only disk. */
	f.n = 0;
	seg(&f, END(16), 16, false);
	seg(&f, 0x2000, 512, false);
	seg(&f, 0x10, 1, true);
	f.lim.ro = true;
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	f.lim.ro = false;
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	fx_fini(&f.mem);
}

/* More data segments than blockif takes (seg_max), and a huge total. */
TEST(vtblk_parse_too_many_segments)
{
	struct fx f;

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	hdr(&f, END(16), VIRTIO_BLK_T_IN, 0);
	seg(&f, END(16), 16, false);
	for (int i = 0; i < BLOCKIF_IOV_MAX; i++)
		seg(&f, 0x1000 + (uint64_t)i * 512, 512, true);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.iovcnt, BLOCKIF_IOV_MAX);
	f.n--;
	seg(&f, 0x1000, 512, true);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	/*
	 * 4 GiB of data (the parser never touches data buffers, so the
	 * lengths may exceed the fake RAM): the used length cannot be told.
	 */
	f.lim.capacity = 1ULL << 40;
	f.n = 0;
	seg(&f, END(16), 16, false);
	f.s[f.n++] = (struct vq_seg){ gp(&f, 0x1000), 0xfffffe00u, true };
	f.s[f.n++] = (struct vq_seg){ gp(&f, 0x1000), 0x200u, true };
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	f.s[2].len = 0; /* 4 GiB - 512: fits */
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	CHECK_EQ(f.r.used_len, 0xfffffe01u);
	fx_fini(&f.mem);
}

TEST(vtblk_parse_bad_discard)
{
	struct fx f;

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	hdr(&f, 0x100, VIRTIO_BLK_T_DISCARD, 0);
	seg(&f, 0x100, 16, false);
	seg(&f, END(32), 32, false); /* two segments */
	seg(&f, 0x10, 1, true);
	dwz(&f, END(32), 0, 8, 0);
	dwz(&f, END(16), 64, 8, 0);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_UNSUPP, 0x10);
	/* Not a whole number of segments, or none. */
	f.s[1].len = 17;
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	f.n = 0;
	seg(&f, 0x100, 16, false);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	/* One segment at the end of RAM, with bad ranges. */
	f.n = 0;
	seg(&f, 0x100, 16, false);
	seg(&f, END(16), 16, false);
	seg(&f, 0x10, 1, true);
	dwz(&f, END(16), CAP - 4, 8, 0); /* past capacity */
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	dwz(&f, END(16), UINT64_MAX, 1, 0); /* sector wraps */
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	dwz(&f, END(16), CAP, 0, 0); /* empty, at the end: fine */
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	dwz(&f, END(16), CAP + 1, 0, 0);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	f.lim.capacity = 1ULL << 40;
	dwz(&f, END(16), 0, 32769, 0); /* more than max_discard_sectors */
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	dwz(&f, END(16), 0, 32768, 0);
	parse(&f);
	CHECK_EQ(f.r.action, VTBLK_IO);
	f.lim.capacity = CAP;
	/* Flags: unmap on a discard, unknown bits on either. */
	dwz(&f, END(16), 0, 8, VIRTIO_BLK_WZ_FLAG_UNMAP);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_UNSUPP, 0x10);
	hdr(&f, 0x100, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	dwz(&f, END(16), 0, 8, 2);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_UNSUPP, 0x10);
	dwz(&f, END(16), 0, 8, 0x80000001u);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_UNSUPP, 0x10);
	/* Device-writable data with a write zeroes. */
	dwz(&f, END(16), 0, 8, 0);
	f.n = 0;
	seg(&f, 0x100, 16, false);
	seg(&f, END(16), 16, false);
	seg(&f, 0x200, 16, true);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	/* Not offered (nodelete, ro): UNSUPP, the guest was not told. */
	f.n = 0;
	seg(&f, 0x100, 16, false);
	seg(&f, END(16), 16, false);
	seg(&f, 0x10, 1, true);
	f.lim.write_zeroes = false;
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_UNSUPP, 0x10);
	hdr(&f, 0x100, VIRTIO_BLK_T_DISCARD, 0);
	f.lim.discard = false;
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_UNSUPP, 0x10);
	fx_fini(&f.mem);
}

TEST(vtblk_parse_other_types)
{
	static const uint32_t types[] = { 2, 3, 5, 7, 10, 12, 14, 99,
		0x80000000u, 0x80000001u, 0xffffffffu };
	struct fx f;

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	seg(&f, END(16), 16, false);
	seg(&f, 0x1000, 512, true);
	seg(&f, 0x10, 1, true);
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		hdr(&f, END(16), types[i], 0);
		parse(&f);
		CHECK_DONE(&f, VIRTIO_BLK_S_UNSUPP, 0x10);
	}
	/* A flush with data. */
	hdr(&f, END(16), VIRTIO_BLK_T_FLUSH, 0);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	/* GET_ID with device-readable data. */
	f.n = 0;
	hdr(&f, END(16), VIRTIO_BLK_T_GET_ID, 0);
	seg(&f, END(16), 16, false);
	seg(&f, 0x2000, 4, false);
	seg(&f, 0x1000, 20, true);
	seg(&f, 0x10, 1, true);
	parse(&f);
	CHECK_DONE(&f, VIRTIO_BLK_S_IOERR, 0x10);
	fx_fini(&f.mem);
}

/*
 * Random chains over a small RAM: whatever the parser decides must stay
 * inside the segments it was given (the guard pages catch reads; this
 * checks what it hands on).
 */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static bool inside(const struct fx *f, const void *p, size_t len, bool write)
{
	for (int i = 0; i < f->n; i++) {
		const uint8_t *b = f->s[i].base;

		if (f->s[i].write == write && (const uint8_t *)p >= b &&
		    (const uint8_t *)p + len <= b + f->s[i].len)
			return true;
	}
	return false;
}

TEST(vtblk_parse_fuzz)
{
	static const uint32_t types[] = { 0, 1, 4, 8, 11, 13, 2 };
	struct fx f;
	int bad = 0, seen[4] = { 0 };

	if (fx_setup(&f) != 0) {
		CHECK(0);
		return;
	}
	for (int iter = 0; iter < 20000 && !bad; iter++) {
		int nr = (int)(rnd() % 4), nw = (int)(rnd() % 4);

		f.n = 0;
		for (int i = 0; i < nr + nw; i++) {
			/* Mostly plausible shapes, sometimes odd ones. */
			uint32_t len = (uint32_t)(i == 0 && rnd() % 4 ? 16 :
			    i == nr + nw - 1 && rnd() % 4 ? 1 : rnd() % 3 == 0 ?
			    rnd() % 64 + 1 : (rnd() % 4 + 1) * 512 +
			    (rnd() % 8 == 0));
			uint64_t gpa = RAM - len - (rnd() % 2 ? 0 :
			    (rnd() % (RAM / 2)));

			seg(&f, gpa, len, i >= nr);
			if (f.s[f.n - 1].base == NULL)
				f.n--;
		}
		for (int i = 0; i < f.n; i++)
			if (!f.s[i].write && f.s[i].len >= 16) {
				uint8_t *b = f.s[i].base;

				fx_w32(b, types[rnd() % ARRAY_SIZE(types)]);
				fx_w64(b + 8, rnd() % (CAP + 4));
				if (f.s[i].len >= 32)
					dwz(&f, (uint64_t)(b + 16 -
					    f.mem.m.r[0].host), rnd() % CAP,
					    (uint32_t)(rnd() % 64),
					    (uint32_t)(rnd() % 3 == 0));
			}
		parse(&f);
		seen[f.r.action]++;
		switch (f.r.action) {
		case VTBLK_DROP:
			bad |= f.r.status != NULL || f.r.used_len != 0;
			break;
		case VTBLK_DONE:
			bad |= !inside(&f, f.r.status, 1, true);
			bad |= f.r.result > VIRTIO_BLK_S_UNSUPP;
			break;
		case VTBLK_GET_ID:
		case VTBLK_IO:
			bad |= !inside(&f, f.r.status, 1, true);
			for (int i = 0; i < f.r.iovcnt; i++)
				bad |= !inside(&f, f.iov[i].iov_base,
				    f.iov[i].iov_len, f.r.op ==
				    BLOCKIF_OP_READ ||
				    f.r.action == VTBLK_GET_ID);
			if (f.r.action == VTBLK_IO &&
			    f.r.op != BLOCKIF_OP_FLUSH)
				bad |= f.r.offset + f.r.len > CAP * 512ULL ||
				    f.r.offset % 512 != 0 || f.r.len % 512 != 0;
			break;
		}
		if (bad)
			printf("  iteration %d broke the parser's promises\n",
			    iter);
	}
	CHECK(!bad);
	/* The run reached every outcome, not just the easy ones. */
	for (int i = 0; i < 4; i++)
		if (seen[i] < 50) {
			printf("  action %d seen %d times\n", i, seen[i]);
			*failed = 1;
		}
	fx_fini(&f.mem);
}

TEST(vtblk_default_serial)
{
	char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };

	/* md5("abc") = 900150983cd24fb0..., as bhyve formats it. */
	vtblk_default_ident("abc", id);
	CHECK_STR(id, "BHYVE-9001-5098-3CD2");
	vtblk_default_ident("/dev/zvol/tank/vm0", id);
	CHECK(strncmp(id, "BHYVE-", 6) == 0 && strlen(id) == 20);
}

/* ---- the device over a real ring and a real image --------------------- */

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bus/pci_emul.h"
#include "event/mevent.h"
#include "config.h"
#include "virtio/virtio.h"
#include "virtio_fixture.h"

#define QSZ 128
#define IMG (1024 * 1024)

struct dfx {
	struct vfx t;
	struct pci_devinst pi; /* no MSI, no pin: interrupts go nowhere */
	struct vtblk_softc *sc;
	struct virtio_dev *vd;
	struct vqueue *vq;
	char path[64];
	uint16_t seen; /* used entries checked so far */
};

static uint8_t ipat(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) + 3);
}

/*
 * A 1 MiB image, the device on it, and the transport's part done by hand:
 * lock, negotiated features, DRIVER_OK, queue 0 on the fixture's ring.
 */
static int dfx_init(struct dfx *d, const char *opts_ser, bool flush)
{
	static uint8_t buf[IMG];
	struct config_node *dev;
	int fd, rc;

	memset(d, 0, sizeof(*d));
	if (vfx_init(&d->t, QSZ, true, true) != 0)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/khyve-vblk-XXXXXX");
	fd = mkstemp(d->path);
	if (fd < 0)
		return -1;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = ipat(i);
	rc = pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) ? 0 : -1;
	close(fd);
	if (rc != 0)
		return -1;
	config_init();
	dev = config_create(NULL, "pci.0.4.0");
	config_set(dev, "path", d->path);
	if (opts_ser != NULL)
		config_set(dev, "ser", opts_ser);
	if (vtblk_create(dev, "virtio-blk test", "t", &d->sc) != 0)
		return -1;
	d->vd = vtblk_vdev(d->sc);
	d->vd->ops = vtblk_ops(d->sc);
	d->vd->sc = d->sc;
	pthread_mutex_init(&d->pi.lock, NULL);
	d->vd->pi = &d->pi;
	pthread_mutex_init(&d->vd->lock, NULL);
	d->vd->negotiated = d->vd->ops->features;
	if (!flush)
		d->vd->negotiated &= ~(1ULL << VIRTIO_BLK_F_FLUSH);
	d->vd->status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
	d->vd->vq[0] = d->t.vq;
	d->vq = &d->vd->vq[0];
	return 0;
}

static void dfx_fini(struct dfx *d)
{
	vtblk_destroy(d->sc);
	d->sc = NULL;
	config_fini();
	unlink(d->path);
	vfx_fini(&d->t);
}

static void kick(struct dfx *d)
{
	virtio_lock(d->vd);
	d->vd->ops->notify(d->vd->sc, d->vq);
	virtio_unlock(d->vd);
}

/* Wait until the used index reaches `n` (10 s at most). */
static uint16_t wait_used(struct dfx *d, uint16_t n)
{
	for (int i = 0; i < 10000 && (uint16_t)(vfx_used_idx(&d->t) - n) >
	     0x8000; i++)
		usleep(1000);
	return vfx_used_idx(&d->t);
}

/*
 * A three-part request on descriptors base..base+2: header, optional
 * data (`dlen` bytes at `data`, device-writable if `din`), status (0xee
 * until the device writes it).  Returns the status byte's gpa.
 */
static uint64_t req3(struct dfx *d, uint16_t base, uint32_t type,
    uint64_t sector, uint64_t data, uint32_t dlen, bool din)
{
	uint64_t h = vfx_buf(&d->t, 16, 0), st = vfx_buf(&d->t, 1, 0xee);
	uint16_t i = base;

	fx_w32(vfx_host(&d->t, h, 4), type);
	fx_w64(vfx_host(&d->t, h + 8, 8), sector);
	vfx_desc(&d->t, i, h, 16, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	if (dlen != 0) {
		i++;
		vfx_desc(&d->t, i, data, dlen, VRING_DESC_F_NEXT |
		    (din ? VRING_DESC_F_WRITE : 0), (uint16_t)(i + 1));
	}
	i++;
	vfx_desc(&d->t, i, st, 1, VRING_DESC_F_WRITE, 0);
	vfx_push(&d->t, base);
	return st;
}

/* The next used entry is `head` with `len`, and its status is `status`. */
static void expect_used(struct dfx *d, uint16_t head, uint32_t len,
    uint64_t st, uint8_t status, int *failed)
{
	uint16_t slot = d->seen++;

	CHECK_EQ(vfx_used_id(&d->t, slot), head);
	CHECK_EQ(vfx_used_len(&d->t, slot), len);
	CHECK_EQ(FX_G8(&d->t.fx, st), status);
}

TEST(vtblk_device_requests)
{
	struct dfx d;
	uint64_t data, rd, st, id;
	uint8_t *p;
	const uint8_t *cfg;

	if (dfx_init(&d, "KHYVE-SERIAL-0123456", true) != 0) {
		CHECK(0);
		return;
	}
	/* Configuration space: capacity, seg_max, blk_size, discard. */
	cfg = vtblk_config_space(d.sc);
	CHECK_EQ(cfg[0] | cfg[1] << 8 | cfg[2] << 16, IMG / 512);
	CHECK_EQ(cfg[VTBLK_CFG_SEG_MAX], QSZ - 2);
	CHECK_EQ(cfg[VTBLK_CFG_BLK_SIZE] | cfg[VTBLK_CFG_BLK_SIZE + 1] << 8,
	    512);
	CHECK_EQ(cfg[VTBLK_CFG_MAX_DISCARD_SEG], 1);
	CHECK_EQ(cfg[VTBLK_CFG_WZ_MAY_UNMAP], 1);
	CHECK((d.vd->ops->features >> VIRTIO_BLK_F_DISCARD) & 1);
	CHECK((d.vd->ops->features >> VIRTIO_BLK_F_WRITE_ZEROES) & 1);
	CHECK(!((d.vd->ops->features >> VIRTIO_BLK_F_RO) & 1));
	CHECK((d.vd->ops->features >> VIRTIO_RING_F_EVENT_IDX) & 1);
	CHECK((d.vd->ops->features >> VIRTIO_RING_F_INDIRECT_DESC) & 1);
	CHECK((d.vd->ops->features >> VIRTIO_F_ANY_LAYOUT) & 1);
	CHECK((d.vd->ops->features >> VIRTIO_BLK_F_FLUSH) & 1);
	CHECK((d.vd->ops->features >> VIRTIO_BLK_F_SEG_MAX) & 1);
	CHECK((d.vd->ops->features >> VIRTIO_BLK_F_SIZE_MAX) & 1);
	CHECK((d.vd->ops->features >> VIRTIO_BLK_F_BLK_SIZE) & 1);
	CHECK((d.vd->ops->features >> VIRTIO_BLK_F_TOPOLOGY) & 1);
	CHECK_EQ(d.vd->ops->device_type, VIRTIO_ID_BLOCK);
	CHECK_EQ(d.vd->ops->nqueues, 1);
	CHECK_EQ(d.vd->ops->cfgsize, VTBLK_CFG_SIZE);
	/* Topology: st_blksize 4096 over 512-byte sectors = 2^3. */
	CHECK_EQ(cfg[VTBLK_CFG_PHYS_BLOCK_EXP], 3);
	/* cfgread assembles little-endian values at any offset. */
	{
		uint32_t v = 0;

		d.vd->ops->cfgread(d.vd->sc, VTBLK_CFG_CAPACITY, 4, &v);
		CHECK_EQ(v, IMG / 512);
		d.vd->ops->cfgread(d.vd->sc, VTBLK_CFG_SEG_MAX, 2, &v);
		CHECK_EQ(v, QSZ - 2);
		d.vd->ops->cfgread(d.vd->sc, VTBLK_CFG_CAPACITY + 1, 1, &v);
		CHECK_EQ(v, (IMG / 512) >> 8);
	}

	/* Write 1 KiB at sector 4. */
	data = vfx_buf(&d.t, 1024, 0);
	p = vfx_host(&d.t, data, 1024);
	for (int i = 0; i < 1024; i++)
		p[i] = (uint8_t)(i ^ 0xa5);
	st = req3(&d, 0, VIRTIO_BLK_T_OUT, 4, data, 1024, false);
	kick(&d);
	CHECK_EQ(wait_used(&d, 1), 1);
	expect_used(&d, 0, 1, st, VIRTIO_BLK_S_OK, failed);
	CHECK_EQ(vfx_used_flags(&d.t) & VRING_USED_F_NO_NOTIFY, 0);
	/* Read it back. */
	rd = vfx_buf(&d.t, 1024, 0x11);
	st = req3(&d, 3, VIRTIO_BLK_T_IN, 4, rd, 1024, true);
	kick(&d);
	CHECK_EQ(wait_used(&d, 2), 2);
	expect_used(&d, 3, 1025, st, VIRTIO_BLK_S_OK, failed);
	CHECK(memcmp(vfx_host(&d.t, rd, 1024), p, 1024) == 0);
	/* GET_ID and an unknown type are answered in the kick itself. */
	id = vfx_buf(&d.t, 20, 0);
	st = req3(&d, 6, VIRTIO_BLK_T_GET_ID, 0, id, 20, true);
	kick(&d);
	CHECK_EQ(vfx_used_idx(&d.t), 3);
	expect_used(&d, 6, 21, st, VIRTIO_BLK_S_OK, failed);
	CHECK(memcmp(vfx_host(&d.t, id, 20), "KHYVE-SERIAL-0123456", 20) == 0);
	st = req3(&d, 9, 77, 0, 0, 0, false);
	kick(&d);
	CHECK_EQ(vfx_used_idx(&d.t), 4);
	expect_used(&d, 9, 1, st, VIRTIO_BLK_S_UNSUPP, failed);
	/* Flush. */
	st = req3(&d, 12, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	kick(&d);
	CHECK_EQ(wait_used(&d, 5), 5);
	expect_used(&d, 12, 1, st, VIRTIO_BLK_S_OK, failed);
	/* Beyond the end: IOERR, at once. */
	rd = vfx_buf(&d.t, 1024, 0x11);
	st = req3(&d, 15, VIRTIO_BLK_T_IN, IMG / 512 - 1, rd, 1024, true);
	kick(&d);
	CHECK_EQ(vfx_used_idx(&d.t), 6);
	expect_used(&d, 15, 1, st, VIRTIO_BLK_S_IOERR, failed);
	CHECK_EQ(FX_G8(&d.t.fx, rd), 0x11); /* nothing read into it */
	/* Write zeroes over 2 sectors, discard 8 (one segment each). */
	data = vfx_buf(&d.t, 16, 0);
	fx_w64(vfx_host(&d.t, data, 8), 4);
	fx_w32(vfx_host(&d.t, data + 8, 4), 2);
	st = req3(&d, 18, VIRTIO_BLK_T_WRITE_ZEROES, 0, data, 16, false);
	kick(&d);
	CHECK_EQ(wait_used(&d, 7), 7);
	expect_used(&d, 18, 1, st, VIRTIO_BLK_S_OK, failed);
	rd = vfx_buf(&d.t, 1536, 0x11);
	st = req3(&d, 21, VIRTIO_BLK_T_IN, 4, rd, 1536, true);
	kick(&d);
	CHECK_EQ(wait_used(&d, 8), 8);
	expect_used(&d, 21, 1537, st, VIRTIO_BLK_S_OK, failed);
	p = vfx_host(&d.t, rd, 1536);
	CHECK(p[0] == 0 && p[1023] == 0 && p[1024] == ipat(6 * 512));
	dfx_fini(&d);
}

/* Eight reads in one kick: all in flight together, all answered. */
TEST(vtblk_device_many_in_flight)
{
	struct dfx d;
	uint64_t st[8], buf[8];
	int ok = 0;

	if (dfx_init(&d, NULL, true) != 0) {
		CHECK(0);
		return;
	}
	for (int i = 0; i < 8; i++) {
		buf[i] = vfx_buf(&d.t, 4096, 0);
		st[i] = req3(&d, (uint16_t)(3 * i), VIRTIO_BLK_T_IN,
		    (uint64_t)i * 64, buf[i], 4096, true);
	}
	kick(&d);
	CHECK_EQ(wait_used(&d, 8), 8);
	for (int i = 0; i < 8; i++) {
		ok += FX_G8(&d.t.fx, st[i]) == VIRTIO_BLK_S_OK;
		CHECK_EQ(FX_G8(&d.t.fx, buf[i]), ipat((uint64_t)i * 64 * 512));
		CHECK_EQ(FX_G8(&d.t.fx, buf[i] + 4095),
		    ipat((uint64_t)i * 64 * 512 + 4095));
	}
	CHECK_EQ(ok, 8);
	/* The default serial is bhyve's, from the path. */
	{
		char want[VIRTIO_BLK_ID_BYTES];
		uint64_t id = vfx_buf(&d.t, 20, 0), s;

		vtblk_default_ident(d.path, want);
		s = req3(&d, 30, VIRTIO_BLK_T_GET_ID, 0, id, 20, true);
		kick(&d);
		CHECK_EQ(FX_G8(&d.t.fx, s), VIRTIO_BLK_S_OK);
		CHECK(memcmp(vfx_host(&d.t, id, 20), want, 20) == 0);
	}
	dfx_fini(&d);
}

static void *loop_main(void *arg)
{
	mevent_dispatch(arg);
	return NULL;
}

/*
 * Batched interrupts: eight reads finish while the transport lock is held
 * (as the I/O thread or another completer would hold it).  When it is let
 * go, the seven completions that still leave others in flight hand the
 * interrupt check to the I/O thread (here a bare event loop), the last
 * checks at once, and the guest gets its interrupt (ISR bit: the fixture
 * has no MSI) with nothing owed afterwards.
 */
TEST(vtblk_device_irq_batched)
{
	struct mevent_loop *loop = mevent_loop_create();
	struct dfx d;
	pthread_t t;
	uint64_t st[8];
	int ok = 0, i;
	unsigned deferred = 0;
	bool owed = true;

	if (loop == NULL || dfx_init(&d, NULL, true) != 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ(pthread_create(&t, NULL, loop_main, loop), 0);
	CHECK_EQ(vtblk_attach_loop(d.sc, loop), 0);
	for (i = 0; i < 8; i++)
		st[i] = req3(&d, (uint16_t)(3 * i), VIRTIO_BLK_T_IN,
		    (uint64_t)i * 8, vfx_buf(&d.t, 4096, 0), 4096, true);
	virtio_lock(d.vd);
	d.vd->ops->notify(d.vd->sc, d.vq);
	usleep(300 * 1000); /* eight workers read 4 KiB each and wait */
	CHECK_EQ(vfx_used_idx(&d.t), 0);
	d.vd->isr = 0;
	virtio_unlock(d.vd);
	CHECK_EQ(wait_used(&d, 8), 8);
	for (i = 0; i < 5000; i++) {
		vtblk_irq_stats(d.sc, &deferred, &owed);
		if (!owed)
			break;
		usleep(1000);
	}
	CHECK(!owed);
	CHECK_EQ(deferred, 7);
	virtio_lock(d.vd);
	CHECK_EQ(d.vd->isr, 1); /* VTPCI_ISR_QUEUE */
	virtio_unlock(d.vd);
	for (i = 0; i < 8; i++)
		ok += FX_G8(&d.t.fx, st[i]) == VIRTIO_BLK_S_OK;
	CHECK_EQ(ok, 8);
	mevent_loop_stop(loop, 0);
	pthread_join(t, NULL);
	mevent_loop_destroy(loop); /* before the fd it watches is closed */
	dfx_fini(&d);
}

/* A failing back end reaches the guest as IOERR, never OK. */
TEST(vtblk_device_io_error)
{
	struct dfx d;
	uint64_t data, st;
	int full, saved, fd, e;

	if (dfx_init(&d, NULL, true) != 0) {
		CHECK(0);
		return;
	}
	fd = blockif_fd(vtblk_backend(d.sc));
	saved = dup(fd);
	full = open("/dev/full", O_RDWR);
	dup2(full, fd);
	close(full);
	data = vfx_buf(&d.t, 512, 0x5a);
	st = req3(&d, 0, VIRTIO_BLK_T_OUT, 0, data, 512, false);
	kick(&d);
	CHECK_EQ(wait_used(&d, 1), 1);
	expect_used(&d, 0, 1, st, VIRTIO_BLK_S_IOERR, failed);
	/* The flush fails, and from then on so does every write. */
	e = dup(2);
	close(2);
	open("/dev/null", O_WRONLY);
	st = req3(&d, 3, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	kick(&d);
	CHECK_EQ(wait_used(&d, 2), 2);
	dup2(e, 2);
	close(e);
	expect_used(&d, 3, 1, st, VIRTIO_BLK_S_IOERR, failed);
	dup2(saved, fd);
	close(saved);
	st = req3(&d, 6, VIRTIO_BLK_T_OUT, 0, data, 512, false);
	kick(&d);
	CHECK_EQ(wait_used(&d, 3), 3);
	expect_used(&d, 6, 1, st, VIRTIO_BLK_S_IOERR, failed);
	dfx_fini(&d);
}

/*
 * A reset while requests are in flight: their completions are dropped
 * (the ring is not the old one any more), the request slots they held
 * come back, and a queue that ran out of slots meanwhile resumes.
 */
TEST(vtblk_device_reset_in_flight)
{
	struct dfx d;
	uint64_t st;
	int n = 2 * QSZ + 1;

	if (dfx_init(&d, NULL, true) != 0) {
		CHECK(0);
		return;
	}
	/* One flush chain, published over and over (guest rule-breaking
	 * the device must survive). */
	st = req3(&d, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	virtio_lock(d.vd); /* completions wait: nothing finishes yet */
	for (int i = 1; i < QSZ; i++)
		vfx_push(&d.t, 0);
	d.vd->ops->notify(d.vd->sc, d.vq);
	d.vd->generation++; /* "reset": those QSZ are now stale */
	for (int i = 0; i < QSZ; i++)
		vfx_push(&d.t, 0);
	d.vd->ops->notify(d.vd->sc, d.vq);
	/* Every slot is taken: the last chain must wait. */
	vfx_push(&d.t, 0);
	d.vd->ops->notify(d.vd->sc, d.vq);
	CHECK_EQ(vfx_used_idx(&d.t), 0);
	CHECK_EQ(d.vq->last_avail, 2 * QSZ);
	virtio_unlock(d.vd);
	/* The stale ones are dropped, the rest and the waiting one done. */
	CHECK_EQ(wait_used(&d, (uint16_t)(QSZ + 1)), QSZ + 1);
	usleep(20000);
	CHECK_EQ(vfx_used_idx(&d.t), QSZ + 1);
	CHECK_EQ(d.vq->last_avail, n);
	CHECK_EQ(FX_G8(&d.t.fx, st), VIRTIO_BLK_S_OK);
	dfx_fini(&d);
	(void)n;
}

/*
 * The device reset (ops->reset, lock held as the transport calls it)
 * returns only when no old request can still write guest RAM, and none
 * of them is answered afterwards.
 */
TEST(vtblk_device_reset_quiesces)
{
	struct dfx d;
	uint64_t h;
	int n = 40;

	if (dfx_init(&d, NULL, true) != 0) {
		CHECK(0);
		return;
	}
	for (int i = 0; i < n; i++) {
		uint64_t b = vfx_buf(&d.t, 16384, 0xcc);

		req3(&d, (uint16_t)(3 * i), VIRTIO_BLK_T_IN,
		    (uint64_t)i * 32, b, 16384, true);
	}
	virtio_lock(d.vd);
	d.vd->ops->notify(d.vd->sc, d.vq);
	d.vd->generation++; /* what the transport does around ops->reset */
	d.vd->ops->reset(d.vd->sc);
	h = vfx_ram_hash(&d.t);
	virtio_unlock(d.vd);
	/* Let the held-back completions run, then wait for all of them. */
	usleep(50000);
	vtblk_destroy(d.sc);
	d.sc = NULL;
	CHECK_EQ(vfx_ram_hash(&d.t), h);
	CHECK_EQ(vfx_used_idx(&d.t), 0);
	config_fini();
	unlink(d.path);
	vfx_fini(&d.t);
}

/* ro: RO offered, no discard or write zeroes, writes IOERR. */
TEST(vtblk_device_read_only)
{
	struct config_node *dev;
	struct vtblk_softc *sc;
	char path[] = "/tmp/khyve-vblk-ro-XXXXXX";
	int fd = mkstemp(path);
	uint64_t f;

	CHECK(fd >= 0 && ftruncate(fd, 65536) == 0);
	close(fd);
	config_init();
	dev = config_create(NULL, "pci.0.5.0");
	config_set(dev, "path", path);
	config_set(dev, "ro", "true");
	CHECK_EQ(vtblk_create(dev, "virtio-blk ro", "t", &sc), 0);
	if (sc != NULL) {
		f = vtblk_ops(sc)->features;
		CHECK((f >> VIRTIO_BLK_F_RO) & 1);
		CHECK(!((f >> VIRTIO_BLK_F_DISCARD) & 1));
		CHECK(!((f >> VIRTIO_BLK_F_WRITE_ZEROES) & 1));
		CHECK((f >> VIRTIO_BLK_F_FLUSH) & 1);
		pthread_mutex_init(&vtblk_vdev(sc)->lock, NULL);
		vtblk_destroy(sc);
	}
	/* nodelete: write zeroes stays, discard and may_unmap go. */
	config_set(dev, "ro", "false");
	config_set(dev, "nodelete", "true");
	CHECK_EQ(vtblk_create(dev, "virtio-blk nd", "t", &sc), 0);
	if (sc != NULL) {
		f = vtblk_ops(sc)->features;
		CHECK(!((f >> VIRTIO_BLK_F_RO) & 1));
		CHECK(!((f >> VIRTIO_BLK_F_DISCARD) & 1));
		CHECK((f >> VIRTIO_BLK_F_WRITE_ZEROES) & 1);
		CHECK_EQ(vtblk_config_space(sc)[VTBLK_CFG_WZ_MAY_UNMAP], 0);
		pthread_mutex_init(&vtblk_vdev(sc)->lock, NULL);
		vtblk_destroy(sc);
	}
	/* Bad options and a missing file. */
	fd = dup(2);
	close(2);
	open("/dev/null", O_WRONLY);
	config_set(dev, "sectorsize", "4096/1024");
	CHECK_EQ(vtblk_create(dev, "virtio-blk bad", "t", &sc), -EINVAL);
	config_unset(dev, "sectorsize");
	config_set(dev, "path", "/nonexistent/disk.img");
	CHECK_EQ(vtblk_create(dev, "virtio-blk missing", "t", &sc), -ENOENT);
	config_unset(dev, "path");
	CHECK_EQ(vtblk_create(dev, "virtio-blk nopath", "t", &sc), -EINVAL);
	dup2(fd, 2);
	close(fd);
	config_fini();
	unlink(path);
}
