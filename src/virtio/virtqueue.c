/*
 * virtqueue.c - the split virtqueue walker (virtio 1.2 section 2.7).
 *
 * Ring layout in guest memory (little-endian, as x86 is):
 *   descriptor table  size * 16 bytes, 16-aligned:
 *                     { le64 addr; le32 len; le16 flags; le16 next; }
 *   available ring    6 + 2 * size bytes, 2-aligned:
 *                     { le16 flags; le16 idx; le16 ring[size]; le16 used_event; }
 *   used ring         6 + 8 * size bytes, 4-aligned:
 *                     { le16 flags; le16 idx; { le32 id; le32 len; } ring[size];
 *                       le16 avail_event; }
 *
 * Trust boundary: all three areas are guest memory the guest may rewrite
 * at any moment (another vCPU).  Every value read from them is used from a
 * local copy taken exactly once (ring_ld16/desc_fetch), and every index is
 * bounded before use.  The host pointers cached by vq_enable() stay valid
 * for the VM's life (guest RAM is never unmapped while devices run).
 *
 * Ordering with the guest (the driver side in section 2.7.13):
 *  - avail->idx is read with acquire before the ring slots and
 *    descriptors it publishes;
 *  - used ring entries are written before used->idx is stored with
 *    release;
 *  - storing used->idx (or re-enabling notifications) and then reading
 *    the guest's used_event/flags (or avail->idx) is a store-then-load
 *    pair that needs a full fence on x86 too.
 */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "virtio/virtqueue.h"

#define VRING_DESC_SIZE 16

/* Offsets inside the rings. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4
#define USED_ELEM_SIZE 8

struct vring_desc_local {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static inline uint64_t desc_bytes(uint16_t size)
{
	return (uint64_t)size * VRING_DESC_SIZE;
}

static inline uint64_t avail_bytes(uint16_t size)
{
	return 6 + 2 * (uint64_t)size; /* flags, idx, ring, used_event */
}

static inline uint64_t used_bytes(uint16_t size)
{
	return 6 + USED_ELEM_SIZE * (uint64_t)size; /* ..., avail_event */
}

/* 16-bit ring fields: naturally aligned (checked at vq_enable). */
static inline volatile uint16_t *ring16(volatile uint8_t *base, uint64_t off)
{
	return (volatile uint16_t *)(base + off);
}

static inline uint16_t ring_ld16(volatile uint8_t *base, uint64_t off, int mo)
{
	return __atomic_load_n(ring16(base, off), mo);
}

static inline void ring_st16(volatile uint8_t *base, uint64_t off,
    uint16_t v, int mo)
{
	__atomic_store_n(ring16(base, off), v, mo);
}

/*
 * Copy one descriptor out of guest memory.  The compiler barrier after the
 * copy forbids the compiler from re-reading the guest's copy later in
 * place of the local one (no double fetch).  memcpy also copes with an
 * indirect table the guest did not align.
 */
static inline void desc_fetch(const volatile uint8_t *p,
    struct vring_desc_local *d)
{
	memcpy(d, (const void *)p, sizeof(*d));
	__asm__ __volatile__("" ::: "memory");
}

static int vq_fail(struct vqueue *vq, const char *why, uint16_t head)
{
	if (!vq->broken)
		khyve_dbg("virtqueue %u: broken chain at head %u: %s",
		    vq->index, head, why);
	vq->broken = true;
	return -EBADMSG;
}

static volatile uint8_t *vq_area(const struct vqueue *vq, uint64_t gpa,
    uint64_t len, uint64_t align)
{
	volatile uint8_t *p;

	if (gpa & (align - 1))
		return NULL;
	p = gmem_ptr(vq->mem, gpa, len);
	/* Host regions are page aligned; re-check rather than assume. */
	if (p == NULL || ((uintptr_t)p & (align - 1)) != 0)
		return NULL;
	return p;
}

int vq_enable(struct vqueue *vq)
{
	volatile uint8_t *d, *a, *u;

	vq->enabled = false;
	vq->desc = vq->avail = vq->used = NULL;
	if (vq->mem == NULL || vq->size == 0 || vq->size > VQ_MAX_SIZE)
		return -EINVAL;
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return -EINVAL;
	d = vq_area(vq, vq->desc_gpa, desc_bytes(vq->size), 16);
	a = vq_area(vq, vq->avail_gpa, avail_bytes(vq->size), 2);
	u = vq_area(vq, vq->used_gpa, used_bytes(vq->size), 4);
	if (d == NULL || a == NULL || u == NULL)
		return -EFAULT;
	vq->desc = d;
	vq->avail = a;
	vq->used = u;
	/* last_avail/used_idx keep their values: 0 after vq_reset(). */
	vq->broken = false;
	/* Everything returned before this point counts as signalled. */
	vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = true;
	vq->no_notify = false;
	vq->enabled = true;
	return 0;
}

void vq_reset(struct vqueue *vq)
{
	const struct guest_mem *mem = vq->mem;
	uint16_t index = vq->index;

	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->index = index;
	vq->msix_vector = 0xffff;
}

bool vq_has_descs(struct vqueue *vq)
{
	if (!vq->enabled || vq->broken)
		return false;
	return ring_ld16(vq->avail, AVAIL_IDX, __ATOMIC_ACQUIRE) !=
	    vq->last_avail;
}

/* Chain-walk state shared by the direct and indirect parts. */
struct walk {
	struct vqueue *vq;
	struct vq_seg *segs;
	int nsegs;
	int n;
	bool seen_write;
	unsigned followed; /* descriptors read, both tables together */
	bool empty_write; /* WRITE of the last zero-length one */
};

/* Record one buffer descriptor (not an indirect one).  0 or -1. */
static int walk_buf(struct walk *w, const struct vring_desc_local *d,
    const char **why)
{
	bool write = (d->flags & VRING_DESC_F_WRITE) != 0;
	void *p;

	if (!write && w->seen_write) {
		*why = "device-readable buffer after a writable one";
		return -1;
	}
	w->seen_write |= write;
	if (d->len == 0) {
		/* Skipped: nothing to translate, nothing touched. */
		w->empty_write = write;
		return 0;
	}
	/* The whole range in one RAM region, without wrapping. */
	p = gmem_ptr(w->vq->mem, d->addr, d->len);
	if (p == NULL) {
		*why = "buffer outside guest RAM";
		return -1;
	}
	if (w->n >= w->nsegs) {
		*why = "more buffers than the device takes";
		return -1;
	}
	w->segs[w->n].base = p;
	w->segs[w->n].len = d->len;
	w->segs[w->n].write = write;
	w->n++;
	return 0;
}

/* Walk an indirect table (section 2.7.5.3).  0 or -1. */
static int walk_indirect(struct walk *w, const struct vring_desc_local *d,
    const char **why)
{
	struct vring_desc_local id;
	const volatile uint8_t *table;
	uint32_t nent, i, steps;

	if (!w->vq->indirect) {
		*why = "indirect descriptor without the feature";
		return -1;
	}
	if (d->flags & VRING_DESC_F_NEXT) {
		/* "MUST NOT set both INDIRECT and NEXT" (2.7.5.3.1). */
		*why = "indirect descriptor with NEXT";
		return -1;
	}
	if (d->len == 0 || d->len % VRING_DESC_SIZE != 0 ||
	    d->len / VRING_DESC_SIZE > VQ_MAX_SIZE) {
		*why = "bad indirect table length";
		return -1;
	}
	nent = d->len / VRING_DESC_SIZE;
	table = gmem_ptr(w->vq->mem, d->addr, d->len);
	if (table == NULL) {
		*why = "indirect table outside guest RAM";
		return -1;
	}
	/* The WRITE flag of the table's own descriptor is ignored (spec). */
	for (i = 0, steps = 0;; ) {
		/* nent steps at most: a longer walk revisits an entry. */
		if (++steps > nent ||
		    ++w->followed > (unsigned)w->vq->size + VQ_MAX_SIZE) {
			*why = "indirect chain loops or is too long";
			return -1;
		}
		desc_fetch(table + (uint64_t)i * VRING_DESC_SIZE, &id);
		if (id.flags & VRING_DESC_F_INDIRECT) {
			*why = "nested indirect table";
			return -1;
		}
		if (walk_buf(w, &id, why) != 0)
			return -1;
		if (!(id.flags & VRING_DESC_F_NEXT))
			return 0;
		i = id.next;
		if (i >= nent) {
			*why = "indirect next index out of the table";
			return -1;
		}
	}
}

int vq_getchain(struct vqueue *vq, struct vq_seg *segs, int nsegs,
    uint16_t *head)
{
	struct walk w = { .vq = vq, .segs = segs, .nsegs = nsegs };
	struct vring_desc_local d;
	const char *why = NULL;
	uint16_t avail_idx, ndesc, hd, idx;
	unsigned chain;

	if (!vq->enabled || vq->broken)
		return 0;
	/* Acquire: the slots and descriptors it publishes are read after. */
	avail_idx = ring_ld16(vq->avail, AVAIL_IDX, __ATOMIC_ACQUIRE);
	ndesc = (uint16_t)(avail_idx - vq->last_avail);
	if (ndesc == 0)
		return 0;
	if (ndesc > vq->size)
		return vq_fail(vq, "available index ran ahead of the ring", 0);

	hd = ring_ld16(vq->avail,
	    AVAIL_RING + 2 * (uint64_t)(vq->last_avail % vq->size),
	    __ATOMIC_RELAXED);
	vq->last_avail++; /* consumed, whatever the chain turns out to be */
	if (vq->event_idx && !vq->no_notify) {
		/* Notify me once you publish past what I took (2.7.10). */
		ring_st16(vq->used, used_bytes(vq->size) - 2, vq->last_avail,
		    __ATOMIC_RELEASE);
	}
	*head = hd;
	if (hd >= vq->size)
		return vq_fail(vq, "head index out of the ring", hd);

	for (idx = hd, chain = 0;; ) {
		/* size steps at most: a longer chain revisits (or loops). */
		if (++chain > vq->size) {
			why = "chain longer than the queue (or a loop)";
			break;
		}
		w.followed++;
		desc_fetch(vq->desc + (uint64_t)idx * VRING_DESC_SIZE, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* No NEXT (checked), so the table ends the chain. */
			if (walk_indirect(&w, &d, &why) != 0)
				break;
			goto done;
		}
		if (walk_buf(&w, &d, &why) != 0)
			break;
		if (!(d.flags & VRING_DESC_F_NEXT))
			goto done;
		idx = d.next;
		if (idx >= vq->size) {
			why = "next index out of the ring";
			break;
		}
	}
	return vq_fail(vq, why, hd);

done:
	if (w.n == 0) {
		/*
		 * Only zero-length buffers: still a chain the guest expects
		 * back.  Return one empty segment (base points at nothing
		 * the device may touch: len is 0).
		 */
		static uint8_t nothing;

		if (nsegs < 1)
			return vq_fail(vq, "more buffers than the device takes",
			    hd);
		segs[0].base = &nothing;
		segs[0].len = 0;
		segs[0].write = w.empty_write;
		return 1;
	}
	return w.n;
}

void vq_retchain(struct vqueue *vq)
{
	if (!vq->enabled)
		return;
	vq->last_avail--;
	if (vq->event_idx && !vq->no_notify)
		ring_st16(vq->used, used_bytes(vq->size) - 2, vq->last_avail,
		    __ATOMIC_RELEASE);
}

void vq_relchain(struct vqueue *vq, uint16_t head, uint32_t len)
{
	volatile uint8_t *e;
	uint16_t old = vq->used_idx;

	if (!vq->enabled || head >= vq->size)
		return;
	e = vq->used + USED_RING + (uint64_t)(old % vq->size) * USED_ELEM_SIZE;
	__atomic_store_n((volatile uint32_t *)e, (uint32_t)head,
	    __ATOMIC_RELAXED);
	__atomic_store_n((volatile uint32_t *)(e + 4), len, __ATOMIC_RELAXED);
	vq->used_idx = (uint16_t)(old + 1);
	/* Release: the element is visible before the index that covers it. */
	ring_st16(vq->used, USED_IDX, vq->used_idx, __ATOMIC_RELEASE);
	/*
	 * 65536 returns without an interrupt check wrap used_idx onto
	 * signalled_used; the event-index comparison would then be
	 * meaningless, so forget it (vhost does the same).
	 */
	if (vq->used_idx == vq->signalled_used)
		vq->signalled_used_valid = false;
}

/* vring_need_event() from the spec (2.7.10): did [old, new) cross event? */
static inline bool vring_need_event(uint16_t event, uint16_t new_idx,
    uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool vq_need_interrupt(struct vqueue *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx;
	/* Invalid only after relchain wrapped used_idx onto old. */
	bool returned = !vq->signalled_used_valid || now != old;

	if (!vq->enabled)
		return false;
	/* Our used->idx store before the guest's used_event / flags load. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		uint16_t ev = ring_ld16(vq->avail, avail_bytes(vq->size) - 2,
		    __ATOMIC_RELAXED);
		bool valid = vq->signalled_used_valid;

		/* old..now is the batch since the last check (vhost's way). */
		vq->signalled_used = now;
		vq->signalled_used_valid = true;
		if (!valid)
			return true;
		return vring_need_event(ev, now, old);
	}
	if (!returned)
		return false; /* nothing returned since the last "yes" */
	if (ring_ld16(vq->avail, AVAIL_FLAGS, __ATOMIC_RELAXED) &
	    VRING_AVAIL_F_NO_INTERRUPT)
		return false;
	vq->signalled_used = now;
	vq->signalled_used_valid = true;
	return true;
}

void vq_notifications(struct vqueue *vq, bool on)
{
	uint16_t flags;

	if (!vq->enabled)
		return;
	vq->no_notify = !on;
	if (vq->event_idx) {
		/*
		 * With EVENT_IDX the driver ignores used->flags.  Off: leave
		 * avail_event behind, so the guest stops kicking once past
		 * it.  On: ask for a kick at the next buffer.
		 */
		if (on)
			ring_st16(vq->used, used_bytes(vq->size) - 2,
			    vq->last_avail, __ATOMIC_RELAXED);
	} else {
		flags = ring_ld16(vq->used, USED_FLAGS, __ATOMIC_RELAXED);
		if (on)
			flags &= (uint16_t)~VRING_USED_F_NO_NOTIFY;
		else
			flags |= VRING_USED_F_NO_NOTIFY;
		ring_st16(vq->used, USED_FLAGS, flags, __ATOMIC_RELAXED);
	}
	/* The caller's next vq_has_descs() load comes after this store. */
	if (on)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

size_t vq_segs_read(const struct vq_seg *segs, int nsegs, size_t skip,
    void *dst, size_t len)
{
	uint8_t *out = dst;
	size_t done = 0;

	for (int i = 0; i < nsegs && done < len; i++) {
		size_t n;

		if (segs[i].write)
			continue;
		if (skip >= segs[i].len) {
			skip -= segs[i].len;
			continue;
		}
		n = MIN(segs[i].len - skip, len - done);
		memcpy(out + done, (const uint8_t *)segs[i].base + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}

size_t vq_segs_write(const struct vq_seg *segs, int nsegs, size_t skip,
    const void *src, size_t len)
{
	const uint8_t *in = src;
	size_t done = 0;

	for (int i = 0; i < nsegs && done < len; i++) {
		size_t n;

		if (!segs[i].write)
			continue;
		if (skip >= segs[i].len) {
			skip -= segs[i].len;
			continue;
		}
		n = MIN(segs[i].len - skip, len - done);
		memcpy((uint8_t *)segs[i].base + skip, in + done, n);
		done += n;
		skip = 0;
	}
	return done;
}
