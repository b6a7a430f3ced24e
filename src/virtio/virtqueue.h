/*
 * virtqueue.h - the split virtqueue walker (virtio 1.2 section 2.7).
 *
 * Trust boundary: the descriptor table, the available ring and every
 * buffer live in guest memory and change under our feet.  The walker reads
 * each descriptor once into a local copy, bounds every index by the queue
 * size, refuses chains longer than the queue size (which also stops
 * loops), refuses indirect tables that are empty, misaligned, nested or
 * longer than the queue maximum, and turns every buffer address into a
 * host pointer with gmem_ptr() (whole range inside one RAM region, no
 * wrap).  A structurally broken chain marks the queue broken: the
 * transport then sets DEVICE_NEEDS_RESET and the device stops using it.
 * Nothing a guest writes can make the walker touch host memory outside
 * guest RAM, loop forever or crash.
 *
 * Concurrency: a vqueue is not thread-safe.  Its owner (the transport's
 * per-device lock, see virtio.h) serialises every call.  Ring memory is
 * accessed with acquire/release ordering against the guest.
 */
#ifndef KHYVE_VIRTIO_VIRTQUEUE_H
#define KHYVE_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/mem.h"

#define VQ_MAX_SIZE 1024 /* largest queue size khyve offers */

/* Descriptor flags (also in the guest driver). */
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

/* Feature bits the walker implements (the transport offers them). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29

/* One buffer of a chain, already translated to host memory. */
struct vq_seg {
	void *base;
	uint32_t len;
	bool write; /* device-writable (the guest reads it back) */
};

struct vqueue {
	/* Set by the transport before vq_enable(). */
	const struct guest_mem *mem;
	uint16_t index;  /* queue number in the device */
	uint16_t size;   /* 1..VQ_MAX_SIZE (a power of two for legacy) */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;  /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;   /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint16_t msix_vector; /* the transport's; 0xffff = none */

	/* Walker state. */
	bool enabled;
	bool broken;          /* the guest broke the ring: needs reset */
	uint16_t last_avail;  /* next available-ring slot to consume */
	uint16_t used_idx;    /* our copy of used->idx */
	uint16_t signalled_used; /* used_idx when we last interrupted */
	bool signalled_used_valid;
	/* Host pointers into guest RAM, checked once at vq_enable(). */
	volatile uint8_t *desc, *avail, *used;
	/* Added: vq_notifications(vq, false) is in force (EVENT_IDX use). */
	bool no_notify;
};

/*
 * Check the three ring areas against guest RAM (and alignment: desc 16,
 * avail 2, used 4) and start the queue with indices at 0 (or at the given
 * values, for a restore).  Returns 0 or -EFAULT/-EINVAL (the queue stays
 * disabled).
 */
int vq_enable(struct vqueue *vq);
/* Forget everything but mem and index; the queue is disabled. */
void vq_reset(struct vqueue *vq);

/* True if the guest made a buffer available we have not taken. */
bool vq_has_descs(struct vqueue *vq);

/*
 * Take the next available chain.  Fills at most `nsegs` segments (the
 * device-readable ones first, as the spec requires; a readable after a
 * writable one is a broken chain) and stores the head index in *head.
 * Returns the number of segments (>= 1), 0 if nothing is available, or
 * -EBADMSG if the chain is malformed or longer than `nsegs` (the queue is
 * then marked broken; the head was consumed and nothing is returned for
 * it).  Zero-length descriptors are skipped, not returned.
 */
int vq_getchain(struct vqueue *vq, struct vq_seg *segs, int nsegs,
    uint16_t *head);

/* Give back the chain just taken with vq_getchain (e.g. no RX room yet). */
void vq_retchain(struct vqueue *vq);

/*
 * Return chain `head` to the guest with `len` bytes written into its
 * device-writable buffers.  Does not interrupt: call vq_need_interrupt()
 * after a batch.  An out-of-range head is ignored (the device bug would be
 * ours, never the guest's).
 */
void vq_relchain(struct vqueue *vq, uint16_t head, uint32_t len);

/*
 * Whether the guest wants an interrupt for what was returned since the
 * last call that said yes (VRING_AVAIL_F_NO_INTERRUPT, or used_event with
 * EVENT_IDX).  Updates the bookkeeping, so call it once per batch.
 */
bool vq_need_interrupt(struct vqueue *vq);

/*
 * Ask the guest not to notify us (on = false) while we are busy draining
 * the queue, or to notify again (on = true).  After turning notifications
 * back on, check vq_has_descs() once more to close the race.
 */
void vq_notifications(struct vqueue *vq, bool on);

/*
 * Helpers for devices.  vq_segs_read copies out of the device-readable
 * segments only, vq_segs_write into the device-writable ones only; `skip`
 * counts bytes of those segments only.  Both return the bytes copied
 * (short when the segments run out).
 */
size_t vq_segs_read(const struct vq_seg *segs, int nsegs, size_t skip,
    void *dst, size_t len);
size_t vq_segs_write(const struct vq_seg *segs, int nsegs, size_t skip,
    const void *src, size_t len);

#endif
