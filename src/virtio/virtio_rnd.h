/*
 * virtio_rnd.h - the entropy device's request handling, exposed for unit
 * tests and fuzzing (the device itself is virtio_rnd.c's pci_devemu).
 */
#ifndef KHYVE_VIRTIO_VIRTIO_RND_H
#define KHYVE_VIRTIO_VIRTIO_RND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "virtio/virtqueue.h"

#define VTRND_QSIZE 64
/* Work one kick may do before yielding the I/O thread (re-kicks itself). */
#define VTRND_BUDGET_CHAINS 64
#define VTRND_BUDGET_BYTES (256 * 1024)

/*
 * Where random bytes come from: like getrandom(2) with GRND_NONBLOCK,
 * returns bytes stored (> 0) or <= 0 when nothing is available now.
 */
typedef ssize_t vtrnd_source_t(void *buf, size_t len);

/* The default source: getrandom(GRND_NONBLOCK). */
ssize_t vtrnd_getrandom(void *buf, size_t len);

/*
 * Fill the device-writable segments (readable ones are skipped) with at
 * most `limit` bytes from `src`; stops early when the source runs dry.
 * Returns the bytes written, front to back with no gaps.
 */
size_t vtrnd_fill(const struct vq_seg *segs, int nsegs, vtrnd_source_t *src,
    size_t limit);

/*
 * Serve the queue: take chains, fill them, return them, until it is empty
 * or the budget (VTRND_BUDGET_*) is spent.  *returned says whether any
 * chain went back (interrupt check needed).  Returns 0 when the queue is
 * drained, 1 when work is left (the caller must come back), -EBADMSG when
 * the guest broke the queue.
 */
int vtrnd_drain(struct vqueue *vq, vtrnd_source_t *src, bool *returned);

#endif
