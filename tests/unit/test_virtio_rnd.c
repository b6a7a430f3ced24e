/*
 * test_virtio_rnd.c - the entropy device's request handling over a fake
 * guest (virtio_fixture.h) with scripted entropy sources.
 */
#include <errno.h>

#include "test.h"
#include "virtio/virtio_rnd.h"
#include "virtio_fixture.h"

/* A source that counts bytes: 0, 1, 2, ... and can run dry. */
static size_t src_pos, src_dry_at = (size_t)-1, src_chunk = (size_t)-1;

static ssize_t src_count(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t n = len;

	if (src_pos >= src_dry_at)
		return -1; /* like EAGAIN */
	n = MIN(n, src_dry_at - src_pos);
	n = MIN(n, src_chunk);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(src_pos + i);
	src_pos += n;
	return (ssize_t)n;
}

static ssize_t src_liar(void *buf, size_t len)
{
	(void)buf;
	return (ssize_t)len + 1; /* claims more than asked: must not count */
}

static void src_reset(size_t dry_at, size_t chunk)
{
	src_pos = 0;
	src_dry_at = dry_at;
	src_chunk = chunk;
}

TEST(vtrnd_fill_writable_only)
{
	uint8_t a[8], b[5], c[6];
	struct vq_seg s[3] = {
		{ a, sizeof(a), false },
		{ b, sizeof(b), true },
		{ c, sizeof(c), true },
	};

	memset(a, 0xee, sizeof(a));
	memset(c, 0xee, sizeof(c));
	src_reset((size_t)-1, 3); /* short reads: the loop must continue */
	CHECK_EQ(vtrnd_fill(s, 3, src_count, 1000), 11);
	CHECK_EQ(a[0], 0xee); /* readable: untouched */
	CHECK_EQ(b[0], 0);
	CHECK_EQ(b[4], 4);
	CHECK_EQ(c[0], 5);
	CHECK_EQ(c[5], 10);

	/* The limit cuts mid-segment. */
	memset(c, 0xee, sizeof(c));
	src_reset((size_t)-1, (size_t)-1);
	CHECK_EQ(vtrnd_fill(s, 3, src_count, 7), 7);
	CHECK_EQ(c[1], 6);
	CHECK_EQ(c[2], 0xee);

	/* Dry after 2 bytes: 2 bytes, front first. */
	src_reset(2, (size_t)-1);
	CHECK_EQ(vtrnd_fill(s, 3, src_count, 1000), 2);
	/* Dry from the start, and a source that lies. */
	src_reset(0, (size_t)-1);
	CHECK_EQ(vtrnd_fill(s, 3, src_count, 1000), 0);
	CHECK_EQ(vtrnd_fill(s, 3, src_liar, 1000), 0);
	CHECK_EQ(vtrnd_fill(s, 0, src_count, 1000), 0);
}

TEST(vtrnd_real_getrandom)
{
	uint8_t buf[64];
	struct vq_seg s = { buf, sizeof(buf), true };
	int nonzero = 0;

	memset(buf, 0, sizeof(buf));
	/* A seeded host gives all 64; an unseeded one may give 0. */
	CHECK_EQ(vtrnd_fill(&s, 1, vtrnd_getrandom, sizeof(buf)), 64);
	for (size_t i = 0; i < sizeof(buf); i++)
		nonzero += buf[i] != 0;
	CHECK(nonzero > 32);
}

TEST(vtrnd_drain_chains)
{
	struct vfx t;
	uint64_t b0, b1, r;
	bool returned = false;

	CHECK(vfx_init(&t, 8, false, false) == 0);
	/* Chain 0: 16 writable bytes.  Chain 1: readable then 2 writable. */
	b0 = vfx_buf(&t, 16, 0xee);
	vfx_desc(&t, 0, b0, 16, VRING_DESC_F_WRITE, 0);
	r = vfx_buf(&t, 4, 0x11);
	b1 = vfx_buf(&t, 32, 0xee);
	vfx_desc(&t, 3, r, 4, VRING_DESC_F_NEXT, 4);
	vfx_desc(&t, 4, b1, 10, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 5);
	vfx_desc(&t, 5, b1 + 16, 16, VRING_DESC_F_WRITE, 0);
	/* Chain 2: a buffer that ends exactly at the end of RAM. */
	vfx_desc(&t, 6, VFX_LOW - 8, 8, VRING_DESC_F_WRITE, 0);
	vfx_push(&t, 0);
	vfx_push(&t, 3);
	vfx_push(&t, 6);
	src_reset((size_t)-1, (size_t)-1);
	CHECK_EQ(vtrnd_drain(&t.vq, src_count, &returned), 0);
	CHECK(returned);
	CHECK_EQ(vfx_used_idx(&t), 3);
	CHECK_EQ(vfx_used_id(&t, 0), 0);
	CHECK_EQ(vfx_used_len(&t, 0), 16);
	CHECK_EQ(vfx_used_id(&t, 1), 3);
	CHECK_EQ(vfx_used_len(&t, 1), 26);
	CHECK_EQ(vfx_used_len(&t, 2), 8);
	CHECK_EQ(FX_G8(&t.fx, b0 + 15), 15);
	CHECK_EQ(FX_G8(&t.fx, r), 0x11);        /* readable untouched */
	CHECK_EQ(FX_G8(&t.fx, b1 + 9), 25);
	CHECK_EQ(FX_G8(&t.fx, b1 + 10), 0xee); /* the gap between segments */
	CHECK_EQ(FX_G8(&t.fx, b1 + 16), 26);
	CHECK_EQ(FX_G8(&t.fx, VFX_LOW - 1), (uint8_t)49);

	/* No entropy: the chain comes back with 0 bytes. */
	returned = false;
	src_reset(0, (size_t)-1);
	vfx_push(&t, 0);
	CHECK_EQ(vtrnd_drain(&t.vq, src_count, &returned), 0);
	CHECK(returned);
	CHECK_EQ(vfx_used_len(&t, 3), 0);

	/* Empty queue: nothing returned. */
	returned = false;
	CHECK_EQ(vtrnd_drain(&t.vq, src_count, &returned), 0);
	CHECK(!returned);
	vfx_fini(&t);
}

TEST(vtrnd_drain_budget)
{
	struct vfx t;
	bool returned = false;
	uint64_t b;

	/* More chains than one kick may serve. */
	CHECK(vfx_init(&t, 128, false, false) == 0);
	b = vfx_buf(&t, 4, 0);
	vfx_desc(&t, 0, b, 4, VRING_DESC_F_WRITE, 0);
	for (int i = 0; i < VTRND_BUDGET_CHAINS + 10; i++)
		vfx_push(&t, 0);
	src_reset((size_t)-1, (size_t)-1);
	CHECK_EQ(vtrnd_drain(&t.vq, src_count, &returned), 1);
	CHECK_EQ(vfx_used_idx(&t), VTRND_BUDGET_CHAINS);
	CHECK_EQ(vtrnd_drain(&t.vq, src_count, &returned), 0);
	CHECK_EQ(vfx_used_idx(&t), VTRND_BUDGET_CHAINS + 10);

	/* More bytes than one kick may produce: capped, then yield. */
	b = vfx_buf(&t, 300 * 1024, 0);
	vfx_desc(&t, 1, b, 300 * 1024, VRING_DESC_F_WRITE, 0);
	vfx_push(&t, 1);
	vfx_push(&t, 0);
	CHECK_EQ(vtrnd_drain(&t.vq, src_count, &returned), 1);
	CHECK_EQ(vfx_used_len(&t, VTRND_BUDGET_CHAINS + 10),
	    VTRND_BUDGET_BYTES);
	CHECK_EQ(vtrnd_drain(&t.vq, src_count, &returned), 0);
	CHECK_EQ(vfx_used_len(&t, VTRND_BUDGET_CHAINS + 11), 4);
	vfx_fini(&t);
}

TEST(vtrnd_drain_hostile)
{
	struct vfx t;
	bool returned = false;
	uint64_t b;

	CHECK(vfx_init(&t, 8, false, false) == 0);
	b = vfx_buf(&t, 4, 0);
	/* Writable buffer straddling the end of RAM, then a loop. */
	vfx_desc(&t, 0, VFX_LOW - 4, 8, VRING_DESC_F_WRITE, 0);
	vfx_push(&t, 0);
	src_reset((size_t)-1, (size_t)-1);
	CHECK_EQ(vtrnd_drain(&t.vq, src_count, &returned), -EBADMSG);
	CHECK(!returned);
	CHECK_EQ(src_pos, 0);
	vfx_fini(&t);

	CHECK(vfx_init(&t, 8, false, false) == 0);
	vfx_desc(&t, 0, b, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	vfx_push(&t, 0);
	CHECK_EQ(vtrnd_drain(&t.vq, src_count, &returned), -EBADMSG);
	CHECK(t.vq.broken);
	CHECK_EQ(vfx_used_idx(&t), 0);
	vfx_fini(&t);
}
