/*
 * ring.h - the guest driver side of a split virtqueue for fuzz targets:
 * builds descriptor chains in fake guest RAM from fuzz input and
 * publishes them, mostly as a real driver would (direct or indirect
 * chains of 1..8 buffers, readable ones first, lengths from a list of
 * interesting sizes, contents from the input) and now and then hostile
 * (raw flags, next indices, addresses and lengths; buffers flush against
 * the end of RAM so one byte too far hits the guard page).
 *
 * The ring itself lives wherever the fixture put it (virtio_fixture.h,
 * net_fixture.h): struct fzr only names its guest addresses.
 */
#ifndef KHYVE_FUZZ_RING_H
#define KHYVE_FUZZ_RING_H

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "virtio/virtqueue.h"
#include "vmm/mem.h"

struct fzr {
	const struct guest_mem *m;
	uint64_t desc, avail;      /* ring areas */
	uint16_t size;
	bool indirect;             /* INDIRECT_DESC negotiated */
	uint64_t ind_lo, ind_hi;   /* room for indirect tables */
	uint64_t buf_lo, buf_hi;   /* room for buffers */
	uint64_t ram_end;          /* end of the RAM region buffers are in */
	/* Driver state. */
	uint16_t avail_idx, next_desc;
	uint16_t used_seen;        /* used entries fzr_check_used() checked */
	bool hostile;              /* a hostile chain or ring event was made */
	uint64_t next_ind, next_buf;
};

static inline void fzr_init(struct fzr *r, const struct guest_mem *m,
    uint64_t desc, uint64_t avail, uint16_t size, bool indirect,
    uint64_t ind_lo, uint64_t ind_hi, uint64_t buf_lo, uint64_t buf_hi,
    uint64_t ram_end)
{
	memset(r, 0, sizeof(*r));
	r->m = m;
	r->desc = desc;
	r->avail = avail;
	r->size = size;
	r->indirect = indirect;
	r->ind_lo = r->next_ind = ind_lo;
	r->ind_hi = ind_hi;
	r->buf_lo = r->next_buf = buf_lo;
	r->buf_hi = buf_hi;
	r->ram_end = ram_end;
}

static inline void fzr_w(struct fzr *r, uint64_t gpa, const void *v,
    size_t n)
{
	if (gmem_write(r->m, gpa, v, n) != 0)
		abort(); /* the harness's own layout is wrong */
}

static inline void fzr_w16(struct fzr *r, uint64_t gpa, uint16_t v)
{
	fzr_w(r, gpa, &v, 2);
}

static inline void fzr_desc_at(struct fzr *r, uint64_t table, uint32_t i,
    uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t d[16];

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	fzr_w(r, table + 16ULL * i, d, 16);
}

/* Publish `head` in the next available slot. */
static inline void fzr_push(struct fzr *r, uint16_t head)
{
	fzr_w16(r, r->avail + 4 + 2ULL * (r->avail_idx % r->size), head);
	r->avail_idx++;
	fzr_w16(r, r->avail + 2, r->avail_idx);
}

/* Guest memory for a buffer of `len` bytes (wraps around when full). */
static inline uint64_t fzr_alloc(struct fzr *r, uint32_t len)
{
	uint64_t gpa;

	if (len > r->buf_hi - r->buf_lo)
		len = (uint32_t)(r->buf_hi - r->buf_lo);
	if (r->next_buf + len > r->buf_hi)
		r->next_buf = r->buf_lo;
	gpa = r->next_buf;
	r->next_buf = (gpa + len + 15) & ~15ULL;
	return gpa;
}

static const uint32_t fzr_lens[16] = {
	0, 1, 2, 6, 10, 12, 16, 17, 64, 256, 512, 1514, 4096, 8192, 65536, 0,
};

/*
 * Build one chain from the input and publish it.  `mincontent`: readable
 * buffers get at least this many input bytes when they are that long
 * (device headers).  Returns the head.
 */
static inline uint16_t fzr_chain(struct fzr *r, struct fz *f)
{
	uint8_t c = fz_u8(f);
	int nsegs = 1 + (c & 7), nwrite = (c >> 3) & 7;
	bool indirect = r->indirect && (c & 0x40);
	bool hostile = (c & 0x80) != 0;
	uint64_t table;

	r->hostile |= hostile;
	uint16_t head = (uint16_t)(r->next_desc % r->size), first;

	if (nwrite > nsegs)
		nwrite = nsegs;
	if (indirect) {
		if (r->next_ind + 16ULL * nsegs > r->ind_hi)
			r->next_ind = r->ind_lo;
		table = r->next_ind;
		r->next_ind += 16ULL * nsegs;
		first = 0;
	} else {
		table = r->desc;
		first = head;
	}
	for (int i = 0; i < nsegs; i++) {
		uint8_t lb = fz_u8(f);
		uint32_t len = fzr_lens[lb & 15];
		bool write = i >= nsegs - nwrite;
		uint16_t flags = (uint16_t)((i + 1 < nsegs ? VRING_DESC_F_NEXT :
		    0) | (write ? VRING_DESC_F_WRITE : 0));
		uint16_t idx, next;
		uint64_t addr;

		if ((lb & 15) == 15)
			len = fz_u16(f);
		if (indirect) {
			idx = (uint16_t)i;
			next = (uint16_t)(i + 1);
		} else {
			idx = (uint16_t)((first + i) % r->size);
			next = (uint16_t)((first + i + 1) % r->size);
		}
		if (lb & 0x40) {
			/* Flush against the end of RAM. */
			if (len > r->ram_end - r->buf_lo)
				len = (uint32_t)(r->ram_end - r->buf_lo);
			addr = r->ram_end - len;
		} else {
			addr = fzr_alloc(r, len);
			if (len > r->buf_hi - r->buf_lo)
				len = (uint32_t)(r->buf_hi - r->buf_lo);
		}
		if (!write && len != 0) {
			/* Device-readable: contents from the input. */
			uint8_t tmp[256];
			size_t n = fz_u8(f);

			if (n > len)
				n = len;
			fz_bytes(f, tmp, n);
			fzr_w(r, addr, tmp, n);
		}
		if (hostile && (lb & 0x80)) {
			uint8_t h = fz_u8(f);

			if (h & 1)
				flags ^= (uint16_t)(fz_u8(f) & 7);
			if (h & 2)
				next = fz_u16(f);
			if (h & 4)
				addr = fz_u64(f);
			if (h & 8)
				len = fz_u32(f);
		}
		fzr_desc_at(r, table, idx, addr, len, flags, next);
	}
	if (indirect) {
		uint32_t tlen = 16u * (uint32_t)nsegs;
		uint16_t fl = VRING_DESC_F_INDIRECT;

		if (hostile && (c & 0x20)) {
			tlen = fz_u32(f);
			fl |= (uint16_t)(fz_u8(f) & 3);
		}
		fzr_desc_at(r, r->desc, head, table, tlen, fl, 0);
		r->next_desc = (uint16_t)(r->next_desc + 1);
	} else {
		r->next_desc = (uint16_t)(r->next_desc + nsegs);
	}
	fzr_push(r, head);
	return head;
}

/* Hostile ring events: avail->idx jumps, flags, used_event. */
static inline void fzr_hostile(struct fzr *r, struct fz *f)
{
	uint8_t c = fz_u8(f);

	r->hostile = true;
	switch (c & 3) {
	case 0:
		r->avail_idx = fz_u16(f);
		fzr_w16(r, r->avail + 2, r->avail_idx);
		break;
	case 1:
		fzr_w16(r, r->avail, fz_u16(f));
		break;
	case 2:
		fzr_w16(r, r->avail + 4 + 2ULL * r->size, fz_u16(f));
		break;
	default:
		/* Rewrite an available slot under the device's feet. */
		fzr_w16(r, r->avail + 4 + 2ULL * (fz_u16(f) % r->size),
		    fz_u16(f));
		break;
	}
}

/* Device-writable bytes of the chain at `head`, or -1 if it is not a
 * well-formed chain (then the device returned it for its own reasons). */
static inline int64_t fzr_writable(struct fzr *r, uint16_t head)
{
	uint64_t table = r->desc, tsize = r->size;
	int64_t sum = 0;
	uint16_t i = head;

	for (unsigned steps = 0; steps <= 2u * r->size + 2; steps++) {
		uint8_t d[16];
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;

		if (i >= tsize || gmem_read(r->m, table + 16ULL * i, d, 16) != 0)
			return -1;
		memcpy(&addr, d, 8);
		memcpy(&len, d + 8, 4);
		memcpy(&flags, d + 12, 2);
		memcpy(&next, d + 14, 2);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (table != r->desc || len % 16 != 0 || len == 0)
				return -1;
			table = addr;
			tsize = len / 16;
			i = 0;
			continue;
		}
		if (flags & VRING_DESC_F_WRITE)
			sum += len;
		if (!(flags & VRING_DESC_F_NEXT))
			return sum;
		i = next;
	}
	return -1;
}

/*
 * The device's side of the contract on the used ring: every chain it
 * returned since the last call names a head inside the ring and claims
 * no more written bytes than the chain's writable buffers hold.  Skipped
 * once the input made hostile chains (the device may then have written
 * over descriptors through a hostile buffer address).
 */
static inline void fzr_check_used(struct fzr *r, uint64_t used_gpa)
{
	uint16_t idx;

	if (gmem_read(r->m, used_gpa + 2, &idx, 2) != 0)
		abort();
	for (; r->used_seen != idx && !r->hostile; r->used_seen++) {
		uint32_t e[2];
		int64_t w;

		if (gmem_read(r->m, used_gpa + 4 + 8ULL *
		    (r->used_seen % r->size), e, 8) != 0)
			abort();
		if (e[0] >= r->size)
			abort(); /* a head outside the ring */
		w = fzr_writable(r, (uint16_t)e[0]);
		if (w >= 0 && e[1] > w)
			abort(); /* more bytes written than the chain holds */
	}
	r->used_seen = idx;
}

#endif
