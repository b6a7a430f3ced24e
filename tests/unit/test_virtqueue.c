/*
 * test_virtqueue.c - the split virtqueue walker against a fake guest
 * (virtio_fixture.h): well-formed direct and indirect chains, the used
 * ring, interrupt and notification suppression, and hostile rings that
 * must end in -EBADMSG with the queue broken and nothing written.
 */
#include <errno.h>
#include <unistd.h>

#include "test.h"
#include "virtio_fixture.h"

#define NSEGS 16

/* ---- enabling ----------------------------------------------------------- */

TEST(vq_enable_checks_rings)
{
	struct vfx t;
	struct {
		uint16_t size;
		uint64_t desc, avail, used;
		int rc;
	} c[] = {
		{ 8, VFX_DESC, VFX_AVAIL, VFX_USED, 0 },
		{ VQ_MAX_SIZE, VFX_DESC, VFX_AVAIL, VFX_USED, 0 },
		{ 3, VFX_DESC, VFX_AVAIL, VFX_USED, 0 }, /* modern: any size */
		{ 0, VFX_DESC, VFX_AVAIL, VFX_USED, -EINVAL },
		{ VQ_MAX_SIZE + 1, VFX_DESC, VFX_AVAIL, VFX_USED, -EINVAL },
		/* alignment: desc 16, avail 2, used 4 */
		{ 8, VFX_DESC + 8, VFX_AVAIL, VFX_USED, -EINVAL },
		{ 8, VFX_DESC, VFX_AVAIL + 1, VFX_USED, -EINVAL },
		{ 8, VFX_DESC, VFX_AVAIL, VFX_USED + 2, -EINVAL },
		{ 8, VFX_DESC, VFX_AVAIL + 2, VFX_USED + 4, 0 },
		/* outside RAM, straddling its end, in the hole, wrapping */
		{ 8, VFX_LOW, VFX_AVAIL, VFX_USED, -EFAULT },
		{ 8, VFX_LOW - 64, VFX_AVAIL, VFX_USED, -EFAULT },
		{ 8, VFX_DESC, VFX_LOW - 20, VFX_USED, -EFAULT },
		{ 8, VFX_DESC, VFX_AVAIL, VFX_LOW - 68, -EFAULT },
		{ 8, VFX_DESC, VFX_AVAIL, VFX_LOW - 72, 0 }, /* exactly fits */
		{ 8, VFX_DESC, 0xD0000000ULL, VFX_USED, -EFAULT },
		{ 8, 0xFFFFFFFFFFFFFFF0ULL, VFX_AVAIL, VFX_USED, -EFAULT },
		{ 8, GMEM_HIGHMEM_BASE + VFX_HIGH - 64, VFX_AVAIL, VFX_USED,
		  -EFAULT },
		{ 8, GMEM_HIGHMEM_BASE, VFX_AVAIL, VFX_USED, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		CHECK(vfx_setup(&t, c[i].size) == 0);
		t.vq.desc_gpa = c[i].desc;
		t.vq.avail_gpa = c[i].avail;
		t.vq.used_gpa = c[i].used;
		CHECK_EQ(vq_enable(&t.vq), c[i].rc);
		CHECK_EQ(t.vq.enabled, c[i].rc == 0);
		if (c[i].rc != 0) {
			uint16_t head;
			struct vq_seg s[1];

			CHECK(!vq_has_descs(&t.vq));
			CHECK_EQ(vq_getchain(&t.vq, s, 1, &head), 0);
		}
		vfx_fini(&t);
	}
	/* No memory at all. */
	CHECK(vfx_setup(&t, 8) == 0);
	t.vq.mem = NULL;
	CHECK_EQ(vq_enable(&t.vq), -EINVAL);
	vfx_fini(&t);
}

TEST(vq_reset_forgets)
{
	struct vfx t;

	CHECK(vfx_init(&t, 8, true, true) == 0);
	t.vq.index = 3;
	t.vq.last_avail = 5;
	t.vq.msix_vector = 2;
	vq_reset(&t.vq);
	CHECK(t.vq.mem == &t.fx.m);
	CHECK_EQ(t.vq.index, 3);
	CHECK(!t.vq.enabled);
	CHECK_EQ(t.vq.last_avail, 0);
	CHECK_EQ(t.vq.size, 0);
	CHECK(!t.vq.event_idx && !t.vq.indirect);
	CHECK_EQ(t.vq.msix_vector, 0xffff);
	CHECK(t.vq.desc == NULL);
	vfx_fini(&t);
}

/* ---- well-formed chains ----------------------------------------------- */

TEST(vq_single_and_multi_segment)
{
	struct vfx t;
	struct vq_seg s[NSEGS];
	uint16_t head = 0xffff;
	uint64_t b[5];
	uint32_t len[5] = { 10, 1, 4096, 7, 300 };

	CHECK(vfx_init(&t, 8, false, false) == 0);
	CHECK(!vq_has_descs(&t.vq));
	CHECK_EQ(vq_getchain(&t.vq, s, NSEGS, &head), 0);

	/* One readable buffer. */
	b[0] = vfx_buf(&t, 10, 0xaa);
	vfx_desc(&t, 5, b[0], 10, 0, 0);
	vfx_push(&t, 5);
	CHECK(vq_has_descs(&t.vq));
	CHECK_EQ(vq_getchain(&t.vq, s, NSEGS, &head), 1);
	CHECK_EQ(head, 5);
	CHECK(s[0].base == vfx_host(&t, b[0], 10));
	CHECK_EQ(s[0].len, 10);
	CHECK(!s[0].write);
	CHECK(!vq_has_descs(&t.vq));

	/* 3 readable then 2 writable, linked out of order: 2->7->0->6->1. */
	for (int i = 0; i < 5; i++)
		b[i] = vfx_buf(&t, len[i], (uint8_t)(0x10 + i));
	vfx_desc(&t, 2, b[0], len[0], VRING_DESC_F_NEXT, 7);
	vfx_desc(&t, 7, b[1], len[1], VRING_DESC_F_NEXT, 0);
	vfx_desc(&t, 0, b[2], len[2], VRING_DESC_F_NEXT, 6);
	vfx_desc(&t, 6, b[3], len[3], VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
	    1);
	vfx_desc(&t, 1, b[4], len[4], VRING_DESC_F_WRITE, 0);
	vfx_push(&t, 2);
	CHECK_EQ(vq_getchain(&t.vq, s, NSEGS, &head), 5);
	CHECK_EQ(head, 2);
	for (int i = 0; i < 5; i++) {
		CHECK(s[i].base == vfx_host(&t, b[i], len[i]));
		CHECK_EQ(s[i].len, len[i]);
		CHECK_EQ(s[i].write, i >= 3);
		CHECK(vfx_in_ram(&t, s[i].base, s[i].len));
	}
	/* Exactly as many segments as the device takes is fine. */
	vfx_push(&t, 2);
	CHECK_EQ(vq_getchain(&t.vq, s, 5, &head), 5);
	CHECK(!t.vq.broken);

	/* The segment helpers see only their direction. */
	{
		uint8_t out[4200], in[1000];
		size_t n;

		n = vq_segs_read(s, 5, 0, out, sizeof(out));
		CHECK_EQ(n, 10 + 1 + 4096);
		CHECK_EQ(out[0], 0x10);
		CHECK_EQ(out[10], 0x11);
		CHECK_EQ(out[11], 0x12);
		CHECK_EQ(out[n - 1], 0x12);
		n = vq_segs_read(s, 5, 9, out, 3);
		CHECK_EQ(n, 3);
		CHECK_EQ(out[0], 0x10);
		CHECK_EQ(out[1], 0x11);
		CHECK_EQ(out[2], 0x12);
		CHECK_EQ(vq_segs_read(s, 5, 5000, out, 3), 0);

		memset(in, 0x5c, sizeof(in));
		n = vq_segs_write(s, 5, 5, in, 300);
		CHECK_EQ(n, 300); /* 2 bytes in the first, 298 in the second */
		CHECK_EQ(FX_G8(&t.fx, b[3] + 4), 0x13);
		CHECK_EQ(FX_G8(&t.fx, b[3] + 5), 0x5c);
		CHECK_EQ(FX_G8(&t.fx, b[4]), 0x5c);
		CHECK_EQ(FX_G8(&t.fx, b[4] + 297), 0x5c);
		CHECK_EQ(FX_G8(&t.fx, b[4] + 298), 0x14);
		n = vq_segs_write(s, 5, 0, in, 1000);
		CHECK_EQ(n, 307);
		/* Readable buffers untouched by writes. */
		CHECK_EQ(FX_G8(&t.fx, b[2] + 4095), 0x12);
	}
	vfx_fini(&t);
}

TEST(vq_zero_length_and_high_ram)
{
	struct vfx t;
	struct vq_seg s[NSEGS];
	uint16_t head;
	uint64_t b;

	CHECK(vfx_init(&t, 4, false, false) == 0);
	b = vfx_buf(&t, 32, 1);
	/* A zero-length descriptor in the middle is skipped. */
	vfx_desc(&t, 0, b, 16, VRING_DESC_F_NEXT, 1);
	vfx_desc(&t, 1, 0xdead0000ULL, 0, VRING_DESC_F_NEXT, 2);
	vfx_desc(&t, 2, GMEM_HIGHMEM_BASE + VFX_HIGH - 16, 16,
	    VRING_DESC_F_WRITE, 0);
	vfx_push(&t, 0);
	CHECK_EQ(vq_getchain(&t.vq, s, 2, &head), 2);
	CHECK(s[1].base == vfx_host(&t, GMEM_HIGHMEM_BASE + VFX_HIGH - 16,
	    16));
	CHECK(s[1].write);

	/* Only zero-length buffers: one empty segment, still a chain. */
	vfx_desc(&t, 3, 0, 0, VRING_DESC_F_WRITE, 0);
	vfx_push(&t, 3);
	CHECK_EQ(vq_getchain(&t.vq, s, 1, &head), 1);
	CHECK_EQ(head, 3);
	CHECK_EQ(s[0].len, 0);
	CHECK(s[0].write);
	CHECK_EQ(vq_segs_write(s, 1, 0, "x", 1), 0);
	CHECK(!t.vq.broken);
	vfx_fini(&t);
}

TEST(vq_indirect_chain)
{
	struct vfx t;
	struct vq_seg s[NSEGS];
	uint16_t head;
	uint64_t b[4];

	CHECK(vfx_init(&t, 4, false, true) == 0);
	for (int i = 0; i < 4; i++)
		b[i] = vfx_buf(&t, 100 + i, (uint8_t)i);
	/* Table of 5 entries, walked 0 -> 3 -> 1 -> 4 (entry 2 unused). */
	vfx_desc_at(&t, VFX_INDIRECT, 0, b[0], 100, VRING_DESC_F_NEXT, 3);
	vfx_desc_at(&t, VFX_INDIRECT, 3, b[1], 101, VRING_DESC_F_NEXT, 1);
	vfx_desc_at(&t, VFX_INDIRECT, 1, b[2], 102,
	    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 4);
	vfx_desc_at(&t, VFX_INDIRECT, 4, b[3], 103, VRING_DESC_F_WRITE, 0);
	vfx_desc_at(&t, VFX_INDIRECT, 2, 0xbad00000ULL, 1, 0, 0);
	/* The table descriptor's own WRITE flag is ignored (spec). */
	vfx_desc(&t, 2, VFX_INDIRECT, 5 * 16,
	    VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	vfx_push(&t, 2);
	CHECK_EQ(vq_getchain(&t.vq, s, NSEGS, &head), 4);
	CHECK_EQ(head, 2);
	for (int i = 0; i < 4; i++) {
		CHECK(s[i].base == vfx_host(&t, b[i], 100 + i));
		CHECK_EQ(s[i].len, 100 + i);
		CHECK_EQ(s[i].write, i >= 2);
	}

	/* Direct readable buffers, then an indirect table ending the chain. */
	vfx_desc_at(&t, VFX_INDIRECT + 0x100, 0, b[3], 8, VRING_DESC_F_WRITE,
	    0);
	vfx_desc(&t, 0, b[0], 4, VRING_DESC_F_NEXT, 1);
	vfx_desc(&t, 1, VFX_INDIRECT + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	vfx_push(&t, 0);
	CHECK_EQ(vq_getchain(&t.vq, s, NSEGS, &head), 2);
	CHECK(!s[0].write && s[1].write);
	CHECK_EQ(s[1].len, 8);

	/* An indirect table of VQ_MAX_SIZE entries in a queue of 4. */
	for (uint32_t i = 0; i < VQ_MAX_SIZE; i++)
		vfx_desc_at(&t, VFX_INDIRECT, i, b[0], 1,
		    i + 1 < VQ_MAX_SIZE ? VRING_DESC_F_NEXT : 0,
		    (uint16_t)(i + 1));
	vfx_desc(&t, 3, VFX_INDIRECT, VQ_MAX_SIZE * 16, VRING_DESC_F_INDIRECT,
	    0);
	vfx_push(&t, 3);
	{
		static struct vq_seg big[VQ_MAX_SIZE];

		CHECK_EQ(vq_getchain(&t.vq, big, VQ_MAX_SIZE, &head),
		    VQ_MAX_SIZE);
	}
	CHECK(!t.vq.broken);
	vfx_fini(&t);
}

/* ---- used ring, retchain ------------------------------------------------ */

TEST(vq_relchain_used_ring)
{
	struct vfx t;
	struct vq_seg s[NSEGS];
	uint16_t head;
	uint64_t b;

	CHECK(vfx_init(&t, 4, false, false) == 0);
	b = vfx_buf(&t, 64, 0);
	for (uint16_t i = 0; i < 4; i++)
		vfx_desc(&t, i, b, 64, VRING_DESC_F_WRITE, 0);
	/* Ten round trips through a ring of four: indices wrap the ring. */
	for (uint16_t i = 0; i < 10; i++) {
		uint16_t h = (uint16_t)(3 - i % 4);

		vfx_push(&t, h);
		CHECK_EQ(vq_getchain(&t.vq, s, NSEGS, &head), 1);
		CHECK_EQ(head, h);
		vq_relchain(&t.vq, head, 1000u + i);
		CHECK_EQ(vfx_used_idx(&t), i + 1);
		CHECK_EQ(vfx_used_id(&t, i), h);
		CHECK_EQ(vfx_used_len(&t, i), 1000u + i);
	}
	/* An out-of-range head (a device bug) is ignored. */
	vq_relchain(&t.vq, 4, 1);
	CHECK_EQ(vfx_used_idx(&t), 10);
	CHECK_EQ(t.vq.used_idx, 10);
	vfx_fini(&t);
}

TEST(vq_retchain_gives_back)
{
	struct vfx t;
	struct vq_seg s[NSEGS];
	uint16_t head, head2;
	uint64_t b;

	CHECK(vfx_init(&t, 8, true, false) == 0);
	b = vfx_buf(&t, 64, 0);
	vfx_desc(&t, 6, b, 64, VRING_DESC_F_WRITE, 0);
	vfx_push(&t, 6);
	CHECK_EQ(vq_getchain(&t.vq, s, NSEGS, &head), 1);
	CHECK_EQ(vfx_avail_event(&t), 1);
	CHECK(!vq_has_descs(&t.vq));
	vq_retchain(&t.vq);
	CHECK(vq_has_descs(&t.vq));
	CHECK_EQ(vfx_avail_event(&t), 0);
	CHECK_EQ(vq_getchain(&t.vq, s, NSEGS, &head2), 1);
	CHECK_EQ(head2, 6);
	CHECK_EQ(vfx_used_idx(&t), 0);
	vfx_fini(&t);
}

/* ---- interrupts and notifications ------------------------------------- */

/* Publish, take and return `n` one-buffer chains. */
static void round_trips(struct vfx *t, int n, int *failed)
{
	struct vq_seg s[2];
	uint16_t head;

	for (int i = 0; i < n; i++) {
		vfx_push(t, 0);
		CHECK_EQ(vq_getchain(&t->vq, s, 2, &head), 1);
		vq_relchain(&t->vq, head, 1);
	}
}

TEST(vq_interrupt_no_interrupt_flag)
{
	struct vfx t;

	CHECK(vfx_init(&t, 8, false, false) == 0);
	vfx_desc(&t, 0, vfx_buf(&t, 8, 0), 8, VRING_DESC_F_WRITE, 0);
	/* Nothing returned yet: no interrupt. */
	CHECK(!vq_need_interrupt(&t.vq));
	round_trips(&t, 1, failed);
	CHECK(vq_need_interrupt(&t.vq));
	CHECK(!vq_need_interrupt(&t.vq)); /* already told */

	vfx_set_avail_flags(&t, VRING_AVAIL_F_NO_INTERRUPT);
	round_trips(&t, 3, failed);
	CHECK(!vq_need_interrupt(&t.vq));
	/* Flag cleared: what was returned meanwhile is still owed. */
	vfx_set_avail_flags(&t, 0);
	CHECK(vq_need_interrupt(&t.vq));
	CHECK(!vq_need_interrupt(&t.vq));
	vfx_fini(&t);
}

TEST(vq_interrupt_event_idx)
{
	struct vfx t;

	CHECK(vfx_init(&t, 8, true, false) == 0);
	vfx_desc(&t, 0, vfx_buf(&t, 8, 0), 8, VRING_DESC_F_WRITE, 0);
	/* The flag means nothing with EVENT_IDX. */
	vfx_set_avail_flags(&t, VRING_AVAIL_F_NO_INTERRUPT);
	vfx_set_used_event(&t, 0);
	round_trips(&t, 1, failed); /* used 0 -> 1 crosses event 0 */
	CHECK(vq_need_interrupt(&t.vq));
	round_trips(&t, 2, failed); /* 1 -> 3, event still 0: behind */
	CHECK(!vq_need_interrupt(&t.vq));
	vfx_set_used_event(&t, 5);
	round_trips(&t, 2, failed); /* 3 -> 5: not yet past 5 */
	CHECK(!vq_need_interrupt(&t.vq));
	round_trips(&t, 1, failed); /* 5 -> 6: crosses 5 */
	CHECK(vq_need_interrupt(&t.vq));
	vfx_set_used_event(&t, 6);
	CHECK(!vq_need_interrupt(&t.vq)); /* nothing new */
	round_trips(&t, 3, failed);      /* 6 -> 9 covers 6 */
	CHECK(vq_need_interrupt(&t.vq));
	vfx_fini(&t);
}

TEST(vq_interrupt_event_idx_wraps)
{
	struct vfx t;

	/* Restore-style start just below 2^16 (indices kept by vq_enable). */
	CHECK(vfx_setup(&t, 8) == 0);
	t.vq.event_idx = true;
	t.vq.last_avail = 65533;
	t.vq.used_idx = 65533;
	t.avail_idx = 65533;
	vfx_set_avail_idx(&t, 65533);
	fx_w16(vfx_host(&t, VFX_USED + 2, 2), 65533);
	CHECK_EQ(vq_enable(&t.vq), 0);
	vfx_desc(&t, 0, vfx_buf(&t, 8, 0), 8, VRING_DESC_F_WRITE, 0);

	vfx_set_used_event(&t, 65535);
	round_trips(&t, 1, failed); /* 65533 -> 65534 */
	CHECK(!vq_need_interrupt(&t.vq));
	round_trips(&t, 3, failed); /* 65534 -> 1 covers 65535 */
	CHECK_EQ(vfx_used_idx(&t), 1);
	CHECK_EQ(vfx_used_id(&t, 0), 0);
	CHECK(vq_need_interrupt(&t.vq));
	vfx_set_used_event(&t, 0); /* behind now (1): no interrupt */
	round_trips(&t, 1, failed);
	CHECK(!vq_need_interrupt(&t.vq));
	vfx_set_used_event(&t, 65534); /* far behind, across the wrap */
	round_trips(&t, 2, failed);
	CHECK(!vq_need_interrupt(&t.vq));
	vfx_set_used_event(&t, 4);
	round_trips(&t, 1, failed); /* 4 -> 5 covers 4 */
	CHECK(vq_need_interrupt(&t.vq));

	/* 65536 returns without a check: the bookkeeping is reset. */
	vfx_set_used_event(&t, 3);
	for (int i = 0; i < 65536; i++)
		vq_relchain(&t.vq, 0, 0);
	CHECK(!t.vq.signalled_used_valid);
	CHECK(vq_need_interrupt(&t.vq));
	vfx_fini(&t);
}

TEST(vq_notifications_flag_and_event)
{
	struct vfx t;
	struct vq_seg s[2];
	uint16_t head;

	CHECK(vfx_init(&t, 8, false, false) == 0);
	vq_notifications(&t.vq, false);
	CHECK_EQ(vfx_used_flags(&t), VRING_USED_F_NO_NOTIFY);
	vq_notifications(&t.vq, true);
	CHECK_EQ(vfx_used_flags(&t), 0);
	vfx_fini(&t);

	CHECK(vfx_init(&t, 8, true, false) == 0);
	vfx_desc(&t, 0, vfx_buf(&t, 8, 0), 8, VRING_DESC_F_WRITE, 0);
	vfx_push(&t, 0);
	vfx_push(&t, 0);
	CHECK_EQ(vq_getchain(&t.vq, s, 2, &head), 1);
	CHECK_EQ(vfx_avail_event(&t), 1); /* "kick me after 1" */
	vq_notifications(&t.vq, false);
	CHECK_EQ(vq_getchain(&t.vq, s, 2, &head), 1);
	CHECK_EQ(vfx_avail_event(&t), 1); /* left behind while off */
	CHECK_EQ(vfx_used_flags(&t), 0);  /* flags stay 0 with EVENT_IDX */
	vq_notifications(&t.vq, true);
	CHECK_EQ(vfx_avail_event(&t), 2);
	CHECK(!vq_has_descs(&t.vq));
	vfx_fini(&t);
}

/* ---- hostile rings ---------------------------------------------------- */

/*
 * Expect the next chain to be refused: -EBADMSG, the queue broken and
 * inert afterwards, and no byte of guest RAM changed (EVENT_IDX is off,
 * so the walker has no reason to write anything).
 */
static void expect_broken(struct vfx *t, int nsegs, int *failed,
    int line)
{
	struct vq_seg s[NSEGS + 1];
	uint64_t before = vfx_ram_hash(t);
	uint16_t head;
	int rc;

	memset(s, 0, sizeof(s));
	rc = vq_getchain(&t->vq, s, nsegs, &head);
	if (rc != -EBADMSG || !t->vq.broken)
		printf("  (case at line %d: rc %d)\n", line, rc);
	CHECK_EQ(rc, -EBADMSG);
	CHECK(t->vq.broken);
	CHECK(!vq_has_descs(&t->vq));
	CHECK_EQ(vq_getchain(&t->vq, s, nsegs, &head), 0);
	CHECK_EQ(vfx_ram_hash(t), before);
	/* Whatever made it into segs lies inside RAM. */
	for (int i = 0; i < nsegs; i++)
		CHECK(s[i].base == NULL || vfx_in_ram(t, s[i].base, s[i].len));
}
#define EXPECT_BROKEN(t, n) expect_broken((t), (n), failed, __LINE__)

/* A fresh queue of 4 with one good buffer at `*b`. */
static int fresh(struct vfx *t, bool indirect, uint64_t *b)
{
	if (t->fx.m.nregions != 0)
		vfx_fini(t);
	if (vfx_init(t, 4, false, indirect) != 0)
		return -1;
	*b = vfx_buf(t, 64, 0x77);
	return 0;
}

TEST(vq_hostile_chains)
{
	struct vfx t;
	uint64_t b;

	memset(&t, 0, sizeof(t));

	/* A loop: 0 -> 1 -> 2 -> 3 -> 0 (longer than the queue). */
	CHECK(fresh(&t, false, &b) == 0);
	for (uint16_t i = 0; i < 4; i++)
		vfx_desc(&t, i, b, 1, VRING_DESC_F_NEXT, (uint16_t)((i + 1) % 4));
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);

	/* next pointing back at itself, and at an earlier one. */
	CHECK(fresh(&t, false, &b) == 0);
	vfx_desc(&t, 2, b, 1, VRING_DESC_F_NEXT, 2);
	vfx_push(&t, 2);
	EXPECT_BROKEN(&t, NSEGS);
	CHECK(fresh(&t, false, &b) == 0);
	vfx_desc(&t, 0, b, 1, VRING_DESC_F_NEXT, 1);
	vfx_desc(&t, 1, b, 1, VRING_DESC_F_NEXT, 0);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);
	/*
	 * The same loop of zero-length descriptors: no segment is made, so
	 * only the chain-length bound stops it (the alarm turns a hang into
	 * a visible failure).
	 */
	CHECK(fresh(&t, false, &b) == 0);
	vfx_desc(&t, 0, b, 0, VRING_DESC_F_NEXT, 1);
	vfx_desc(&t, 1, b, 0, VRING_DESC_F_NEXT, 0);
	vfx_push(&t, 0);
	alarm(30);
	EXPECT_BROKEN(&t, NSEGS);
	alarm(0);

	/* Longer than the device's segment array. */
	CHECK(fresh(&t, false, &b) == 0);
	vfx_desc(&t, 0, b, 1, VRING_DESC_F_NEXT, 1);
	vfx_desc(&t, 1, b, 1, VRING_DESC_F_NEXT, 2);
	vfx_desc(&t, 2, b, 1, 0, 0);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, 2);

	/* next index >= size; head index >= size. */
	CHECK(fresh(&t, false, &b) == 0);
	vfx_desc(&t, 0, b, 1, VRING_DESC_F_NEXT, 4);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);
	CHECK(fresh(&t, false, &b) == 0);
	vfx_desc(&t, 0, b, 1, VRING_DESC_F_NEXT, 0xffff);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);
	CHECK(fresh(&t, false, &b) == 0);
	vfx_push(&t, 4);
	EXPECT_BROKEN(&t, NSEGS);
	CHECK(fresh(&t, false, &b) == 0);
	vfx_push(&t, 0xffff);
	EXPECT_BROKEN(&t, NSEGS);

	/* Readable after writable. */
	CHECK(fresh(&t, false, &b) == 0);
	vfx_desc(&t, 0, b, 1, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	vfx_desc(&t, 1, b, 1, 0, 0);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);

	/* Available index more than `size` ahead. */
	CHECK(fresh(&t, false, &b) == 0);
	vfx_desc(&t, 0, b, 1, 0, 0);
	vfx_set_avail_idx(&t, 5);
	EXPECT_BROKEN(&t, NSEGS);
	CHECK(fresh(&t, false, &b) == 0);
	vfx_set_avail_idx(&t, 0xffff); /* "behind" is far ahead too */
	EXPECT_BROKEN(&t, NSEGS);
	/* ...while exactly `size` ahead is fine. */
	CHECK(fresh(&t, false, &b) == 0);
	vfx_desc(&t, 0, b, 1, 0, 0);
	vfx_set_avail_idx(&t, 4);
	{
		struct vq_seg s[1];
		uint16_t head;

		CHECK_EQ(vq_getchain(&t.vq, s, 1, &head), 1);
	}
	vfx_fini(&t);
}

TEST(vq_hostile_buffers)
{
	struct vfx t;
	uint64_t b;
	struct {
		uint64_t addr;
		uint32_t len;
	} c[] = {
		{ VFX_LOW, 1 },                        /* just past low RAM */
		{ VFX_LOW - 8, 16 },                   /* straddles its end */
		{ VFX_LOW - 1, 0xffffffff },
		{ 0xC0000000ULL, 16 },                 /* the PCI hole */
		{ GMEM_HIGHMEM_BASE - 8, 16 },         /* into high RAM */
		{ GMEM_HIGHMEM_BASE + VFX_HIGH - 8, 16 }, /* past high RAM */
		{ GMEM_HIGHMEM_BASE + VFX_HIGH, 1 },
		{ 0xFFFFFFFFFFFFFFF0ULL, 0x20 },       /* wraps 2^64 */
		{ 0xFFFFFFFFFFFFFFFFULL, 1 },
		{ 0x10, 0xffffffff },                  /* longer than RAM */
	};

	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		/* As a direct buffer, second in a chain... */
		CHECK(fresh(&t, true, &b) == 0);
		vfx_desc(&t, 0, b, 8, VRING_DESC_F_NEXT, 1);
		vfx_desc(&t, 1, c[i].addr, c[i].len, VRING_DESC_F_WRITE, 0);
		vfx_push(&t, 0);
		EXPECT_BROKEN(&t, NSEGS);
		/* ...and inside an indirect table. */
		CHECK(fresh(&t, true, &b) == 0);
		vfx_desc_at(&t, VFX_INDIRECT, 0, b, 8, VRING_DESC_F_NEXT, 1);
		vfx_desc_at(&t, VFX_INDIRECT, 1, c[i].addr, c[i].len, 0, 0);
		vfx_desc(&t, 3, VFX_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
		vfx_push(&t, 3);
		EXPECT_BROKEN(&t, NSEGS);
	}
	vfx_fini(&t);
}

TEST(vq_hostile_indirect)
{
	struct vfx t;
	uint64_t b;

	memset(&t, 0, sizeof(t));
	/* Table outside RAM, straddling its end, wrapping. */
	{
		uint64_t bad[] = { VFX_LOW, VFX_LOW - 16, 0xFFFFFFFFFFFFFFF0ULL,
			0xD0000000ULL };

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			CHECK(fresh(&t, true, &b) == 0);
			vfx_desc(&t, 0, bad[i], 32, VRING_DESC_F_INDIRECT, 0);
			vfx_push(&t, 0);
			EXPECT_BROKEN(&t, NSEGS);
		}
	}
	/* Length not a multiple of 16, zero, too many entries. */
	{
		uint32_t bad[] = { 24, 8, 0, (VQ_MAX_SIZE + 1) * 16,
			0xfffffff0 };

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			CHECK(fresh(&t, true, &b) == 0);
			vfx_desc_at(&t, VFX_INDIRECT, 0, b, 8, 0, 0);
			vfx_desc(&t, 0, VFX_INDIRECT, bad[i],
			    VRING_DESC_F_INDIRECT, 0);
			vfx_push(&t, 0);
			EXPECT_BROKEN(&t, NSEGS);
		}
	}
	/* Nested indirect. */
	CHECK(fresh(&t, true, &b) == 0);
	vfx_desc_at(&t, VFX_INDIRECT + 0x100, 0, b, 8, 0, 0);
	vfx_desc_at(&t, VFX_INDIRECT, 0, VFX_INDIRECT + 0x100, 16,
	    VRING_DESC_F_INDIRECT, 0);
	vfx_desc(&t, 0, VFX_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);
	/* A loop inside the table; a next index past its end. */
	CHECK(fresh(&t, true, &b) == 0);
	vfx_desc_at(&t, VFX_INDIRECT, 0, b, 8, VRING_DESC_F_NEXT, 1);
	vfx_desc_at(&t, VFX_INDIRECT, 1, b, 8, VRING_DESC_F_NEXT, 0);
	vfx_desc(&t, 0, VFX_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);
	CHECK(fresh(&t, true, &b) == 0); /* zero-length: see hostile_chains */
	vfx_desc_at(&t, VFX_INDIRECT, 0, b, 0, VRING_DESC_F_NEXT, 1);
	vfx_desc_at(&t, VFX_INDIRECT, 1, b, 0, VRING_DESC_F_NEXT, 0);
	vfx_desc(&t, 0, VFX_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	vfx_push(&t, 0);
	alarm(30);
	EXPECT_BROKEN(&t, NSEGS);
	alarm(0);
	CHECK(fresh(&t, true, &b) == 0);
	vfx_desc_at(&t, VFX_INDIRECT, 0, b, 8, VRING_DESC_F_NEXT, 2);
	vfx_desc_at(&t, VFX_INDIRECT, 2, b, 8, 0, 0); /* beyond len 32 */
	vfx_desc(&t, 0, VFX_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);
	/* Readable after writable inside the table, and across it. */
	CHECK(fresh(&t, true, &b) == 0);
	vfx_desc_at(&t, VFX_INDIRECT, 0, b, 8,
	    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	vfx_desc_at(&t, VFX_INDIRECT, 1, b, 8, 0, 0);
	vfx_desc(&t, 0, VFX_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);
	CHECK(fresh(&t, true, &b) == 0);
	vfx_desc_at(&t, VFX_INDIRECT, 0, b, 8, 0, 0);
	vfx_desc(&t, 1, b, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	vfx_desc(&t, 0, VFX_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	vfx_push(&t, 1);
	EXPECT_BROKEN(&t, NSEGS);
	/* INDIRECT together with NEXT. */
	CHECK(fresh(&t, true, &b) == 0);
	vfx_desc_at(&t, VFX_INDIRECT, 0, b, 8, 0, 0);
	vfx_desc(&t, 0, VFX_INDIRECT, 16,
	    VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	vfx_desc(&t, 1, b, 8, VRING_DESC_F_WRITE, 0);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);
	/* An indirect table when the feature was not negotiated. */
	CHECK(fresh(&t, false, &b) == 0);
	vfx_desc_at(&t, VFX_INDIRECT, 0, b, 8, 0, 0);
	vfx_desc(&t, 0, VFX_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, NSEGS);
	/* More table entries than the device takes. */
	CHECK(fresh(&t, true, &b) == 0);
	vfx_desc_at(&t, VFX_INDIRECT, 0, b, 8, VRING_DESC_F_NEXT, 1);
	vfx_desc_at(&t, VFX_INDIRECT, 1, b, 8, 0, 0);
	vfx_desc(&t, 0, VFX_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	vfx_push(&t, 0);
	EXPECT_BROKEN(&t, 1);
	vfx_fini(&t);
}

/* A broken queue comes back to life only through reset + enable. */
TEST(vq_broken_until_reset)
{
	struct vfx t;
	struct vq_seg s[2];
	uint16_t head;
	uint64_t b;

	memset(&t, 0, sizeof(t));
	CHECK(fresh(&t, false, &b) == 0);
	vfx_push(&t, 9);
	EXPECT_BROKEN(&t, 2);
	vfx_desc(&t, 0, b, 8, 0, 0);
	vfx_push(&t, 0);
	CHECK_EQ(vq_getchain(&t.vq, s, 2, &head), 0);
	vq_reset(&t.vq);
	t.vq.size = 4;
	t.vq.desc_gpa = VFX_DESC;
	t.vq.avail_gpa = VFX_AVAIL;
	t.vq.used_gpa = VFX_USED;
	CHECK_EQ(vq_enable(&t.vq), 0);
	CHECK(!t.vq.broken);
	vfx_set_avail_idx(&t, 0);
	vfx_push(&t, 0);
	CHECK_EQ(vq_getchain(&t.vq, s, 2, &head), 1);
	vfx_fini(&t);
}
