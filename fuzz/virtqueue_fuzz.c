/*
 * virtqueue_fuzz.c - the split virtqueue walker (src/virtio/virtqueue.c)
 * against a hostile driver: chains built by ring.h (direct and indirect,
 * mostly valid, sometimes with raw flags, next indices, addresses and
 * lengths), raw descriptor rewrites, avail index jumps, used_event and
 * flag changes, interleaved with the device side taking, returning and
 * giving back chains.  The fake RAM (virtio_fixture.h) has guard pages;
 * every segment the walker hands out must lie inside guest RAM, readable
 * ones before writable ones, never more than asked for.
 *
 * Input: one configuration byte (queue size, EVENT_IDX, INDIRECT_DESC,
 * rarely misplaced ring areas), then operations, each chosen by a byte.
 */
#include <errno.h>
#include <stdlib.h>

#include "fuzz.h"
#include "ring.h"
#include "virtio_fixture.h"

static const uint16_t sizes[8] = { 1, 2, 4, 8, 16, 256, 1024, 3 };

static void check_segs(struct vfx *t, const struct vq_seg *s, int n, int cap)
{
	bool seen_write = false;

	if (n > cap)
		abort();
	for (int i = 0; i < n; i++) {
		/* A chain of only empty buffers comes back as one empty
		 * segment (the guest still expects it back). */
		if (s[i].len == 0 ? n != 1 :
		    !vfx_in_ram(t, s[i].base, s[i].len))
			abort();
		if (seen_write && !s[i].write)
			abort();
		seen_write |= s[i].write;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_seg segs[VQ_MAX_SIZE];
	static uint8_t scratch[65536];
	static const int caps[4] = { 1, 4, 16, VQ_MAX_SIZE };
	struct vfx t;
	struct fzr r;
	struct fz f;
	uint8_t c;

	fz_init(&f, data, size);
	c = fz_u8(&f);
	if (vfx_setup(&t, sizes[c & 7]) != 0)
		abort();
	t.vq.event_idx = (c & 8) != 0;
	t.vq.indirect = (c & 16) != 0;
	if (c & 0x80) {
		/* Ring areas anywhere: vq_enable must refuse what is bad. */
		t.vq.desc_gpa = fz_u64(&f);
		t.vq.avail_gpa = fz_u64(&f);
		t.vq.used_gpa = fz_u64(&f);
	}
	if (vq_enable(&t.vq) != 0)
		goto out;
	fzr_init(&r, &t.fx.m, t.vq.desc_gpa, t.vq.avail_gpa, t.vq.size,
	    t.vq.indirect, VFX_INDIRECT, VFX_BUFS, VFX_BUFS, VFX_LOW, VFX_LOW);
	if (c & 0x80)
		goto out; /* the areas were valid, but not ours to write */
	while (fz_more(&f)) {
		uint8_t op = fz_u8(&f);
		uint16_t head;
		int n, cap;
		bool ret;

		switch (op % 8) {
		case 0:
		case 1:
			(void)fzr_chain(&r, &f);
			break;
		case 2:
		case 3:
			cap = caps[(op >> 3) & 3];
			n = vq_getchain(&t.vq, segs, cap, &head);
			if (n < 0) {
				if (n != -EBADMSG || !t.vq.broken)
					abort();
				break;
			}
			check_segs(&t, segs, n, cap);
			if (n == 0)
				break;
			if (head >= t.vq.size)
				abort();
			(void)vq_segs_read(segs, n, fz_u8(&f), scratch,
			    fz_u16(&f));
			(void)vq_segs_write(segs, n, fz_u8(&f), scratch,
			    fz_u16(&f));
			if (op & 0x20)
				vq_retchain(&t.vq);
			else
				vq_relchain(&t.vq, (op & 0x40) ? fz_u16(&f) :
				    head, fz_mostly(&f, 0));
			break;
		case 4:
			ret = vq_need_interrupt(&t.vq);
			(void)ret;
			break;
		case 5:
			vq_notifications(&t.vq, (op & 8) != 0);
			(void)vq_has_descs(&t.vq);
			break;
		case 6:
			fzr_hostile(&r, &f);
			break;
		default:
			/* A raw descriptor anywhere in the table. */
			fzr_desc_at(&r, r.desc, fz_u16(&f) % r.size, fz_u64(&f),
			    fz_u32(&f), fz_u16(&f), fz_u16(&f));
			break;
		}
	}
out:
	vfx_fini(&t);
	return 0;
}
