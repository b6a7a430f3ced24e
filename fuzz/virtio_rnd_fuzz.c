/*
 * virtio_rnd_fuzz.c - virtio-rnd request handling (src/virtio/
 * virtio_rnd.c): vtrnd_drain() over a queue of chains built by ring.h,
 * with a deterministic entropy source that sometimes runs dry or returns
 * short, checking that no byte lands outside the chains' writable
 * buffers (guard pages) and the drain's return contract.
 *
 * Input: a configuration byte (size, EVENT_IDX, INDIRECT), then rounds:
 * a byte choosing how many chains to post (0..7) and the source's mood,
 * the chains, then a drain.
 */
#include <errno.h>
#include <stdlib.h>

#include "fuzz.h"
#include "ring.h"
#include "virtio/virtio_rnd.h"
#include "virtio_fixture.h"

static size_t src_left;  /* bytes the source gives before running dry */
static size_t src_chunk; /* most per call */

static ssize_t src(void *buf, size_t len)
{
	if (src_left == 0)
		return 0;
	if (len > src_chunk)
		len = src_chunk;
	if (len > src_left)
		len = src_left;
	memset(buf, 0x5a, len);
	src_left -= len;
	return (ssize_t)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t sizes[4] = { 1, 4, 64, 1024 };
	struct vfx t;
	struct fzr r;
	struct fz f;
	uint8_t c;

	fz_init(&f, data, size);
	c = fz_u8(&f);
	if (vfx_init(&t, sizes[c & 3], c & 4, c & 8) != 0)
		abort();
	fzr_init(&r, &t.fx.m, VFX_DESC, VFX_AVAIL, t.vq.size, t.vq.indirect,
	    VFX_INDIRECT, VFX_BUFS, VFX_BUFS, VFX_LOW, VFX_LOW);
	while (fz_more(&f)) {
		uint8_t op = fz_u8(&f);
		bool returned = false;
		int rc, rounds = 0;

		for (int i = 0; i < (op & 7); i++)
			(void)fzr_chain(&r, &f);
		if (op & 0x08)
			fzr_hostile(&r, &f);
		src_left = (op & 0x10) ? fz_u16(&f) : (size_t)-1;
		src_chunk = (op & 0x20) ? (size_t)fz_u8(&f) + 1 : (size_t)-1;
		do {
			rc = vtrnd_drain(&t.vq, src, &returned);
			if (rc != 0 && rc != 1 && rc != -EBADMSG)
				abort();
		} while (rc == 1 && ++rounds < 64);
		(void)vq_need_interrupt(&t.vq);
		fzr_check_used(&r, VFX_USED);
		if (rc == -EBADMSG)
			break; /* the transport stops using a broken queue */
	}
	vfx_fini(&t);
	return 0;
}
