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
