/*
 * virtio_fixture.h - a fake guest driver for virtqueue and virtio device
 * unit tests: guest RAM fenced by PROT_NONE guard pages (loader_fixture.h),
 * one split ring in it, and helpers to write descriptors, publish chains
 * and read the used ring back as a guest would.
 *
 * Layout of the fake low RAM (1 MiB; 64 KiB more at 4 GiB):
 *   0x01000 descriptor table (up to VQ_MAX_SIZE entries, 16 KiB)
 *   0x05000 available ring   (6 + 2 * size)
 *   0x06000 used ring        (6 + 8 * size)
 *   0x10000 indirect tables, 0x20000.. buffers (bump allocated)
 */
#ifndef KHYVE_TEST_VIRTIO_FIXTURE_H
#define KHYVE_TEST_VIRTIO_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "loader_fixture.h"
#include "virtio/virtqueue.h"

#define VFX_LOW (1 * MiB)
#define VFX_HIGH (64 * 1024ULL)
#define VFX_DESC 0x1000ULL
#define VFX_AVAIL 0x5000ULL
#define VFX_USED 0x6000ULL
#define VFX_INDIRECT 0x10000ULL
#define VFX_BUFS 0x20000ULL

struct vfx {
	struct fx_mem fx;
	struct vqueue vq;
	uint16_t avail_idx; /* the driver's next avail->idx */
	uint64_t next_buf;
};

static inline uint8_t *vfx_host(struct vfx *t, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(&t->fx.m, gpa, len);
}

/* Fake RAM and a queue of `size`, not yet enabled.  0 or -1. */
static inline int vfx_setup(struct vfx *t, uint16_t size)
{
	memset(t, 0, sizeof(*t));
	if (fx_init(&t->fx, VFX_LOW, VFX_HIGH) != 0)
		return -1;
	t->vq.mem = &t->fx.m;
	vq_reset(&t->vq);
	t->vq.size = size;
	t->vq.desc_gpa = VFX_DESC;
	t->vq.avail_gpa = VFX_AVAIL;
	t->vq.used_gpa = VFX_USED;
	t->next_buf = VFX_BUFS;
	return 0;
}

/* vfx_setup + vq_enable.  0 or -1. */
static inline int vfx_init(struct vfx *t, uint16_t size, bool event_idx,
    bool indirect)
{
	if (vfx_setup(t, size) != 0)
		return -1;
	t->vq.event_idx = event_idx;
	t->vq.indirect = indirect;
	return vq_enable(&t->vq) == 0 ? 0 : -1;
}

static inline void vfx_fini(struct vfx *t)
{
	fx_fini(&t->fx);
}

/* A fresh buffer of `len` bytes (16-aligned), filled with `fill`. */
static inline uint64_t vfx_buf(struct vfx *t, uint32_t len, uint8_t fill)
{
	uint64_t gpa = t->next_buf;

	t->next_buf = ALIGN_UP(gpa + len, 16ULL);
	if (len != 0)
		memset(vfx_host(t, gpa, len), fill, len);
	return gpa;
}

/* Write descriptor `i` of a table at `table` (the ring's or indirect). */
static inline void vfx_desc_at(struct vfx *t, uint64_t table, uint32_t i,
    uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = vfx_host(t, table + 16ULL * i, 16);

	fx_w64(p, addr);
	fx_w32(p + 8, len);
	fx_w16(p + 12, flags);
	fx_w16(p + 14, next);
}

static inline void vfx_desc(struct vfx *t, uint16_t i, uint64_t addr,
    uint32_t len, uint16_t flags, uint16_t next)
{
	vfx_desc_at(t, VFX_DESC, i, addr, len, flags, next);
}

/* Publish head `head` in the next available slot. */
static inline void vfx_push(struct vfx *t, uint16_t head)
{
	uint16_t size = t->vq.size;

	fx_w16(vfx_host(t, VFX_AVAIL + 4 + 2ULL * (t->avail_idx % size), 2),
	    head);
	t->avail_idx++;
	fx_w16(vfx_host(t, VFX_AVAIL + 2, 2), t->avail_idx);
}

/* Set avail->idx directly (hostile jumps). */
static inline void vfx_set_avail_idx(struct vfx *t, uint16_t idx)
{
	t->avail_idx = idx;
	fx_w16(vfx_host(t, VFX_AVAIL + 2, 2), idx);
}

static inline void vfx_set_avail_flags(struct vfx *t, uint16_t flags)
{
	fx_w16(vfx_host(t, VFX_AVAIL, 2), flags);
}

static inline void vfx_set_used_event(struct vfx *t, uint16_t ev)
{
	fx_w16(vfx_host(t, VFX_AVAIL + 4 + 2ULL * t->vq.size, 2), ev);
}

static inline uint16_t vfx_used_idx(struct vfx *t)
{
	return FX_G16(&t->fx, VFX_USED + 2);
}

static inline uint16_t vfx_used_flags(struct vfx *t)
{
	return FX_G16(&t->fx, VFX_USED);
}

static inline uint16_t vfx_avail_event(struct vfx *t)
{
	return FX_G16(&t->fx, VFX_USED + 4 + 8ULL * t->vq.size);
}

static inline uint32_t vfx_used_id(struct vfx *t, uint16_t slot)
{
	return FX_G32(&t->fx, VFX_USED + 4 + 8ULL * (slot % t->vq.size));
}

static inline uint32_t vfx_used_len(struct vfx *t, uint16_t slot)
{
	return FX_G32(&t->fx, VFX_USED + 8 + 8ULL * (slot % t->vq.size));
}

/* Is host range [p, p + len) inside the fake RAM? */
static inline bool vfx_in_ram(struct vfx *t, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (int i = 0; i < t->fx.m.nregions; i++) {
		const struct gmem_region *r = &t->fx.m.r[i];

		if (b >= r->host && len <= r->size &&
		    (size_t)(b - r->host) <= r->size - len)
			return true;
	}
	return false;
}

/* FNV-1a over all fake RAM: "the walker wrote nothing". */
static inline uint64_t vfx_ram_hash(struct vfx *t)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < t->fx.m.nregions; i++)
		for (uint64_t j = 0; j < t->fx.m.r[i].size; j++)
			h = (h ^ t->fx.m.r[i].host[j]) * 1099511628211ULL;
	return h;
}

#endif
