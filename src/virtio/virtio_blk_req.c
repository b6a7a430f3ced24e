/*
 * virtio_blk_req.c - parse one virtio-blk request (see virtio_blk.h).
 *
 * Trust boundary: every byte of the chain comes from the guest.  The
 * segments themselves are already checked by the walker (each lies in
 * guest RAM); here every length, sector and count is bounded before it is
 * used, sums are done in 64 bits (a chain has at most VQ_MAX_SIZE
 * segments of at most 4 GiB each, so they cannot wrap), and products are
 * checked for overflow.  The header and the discard segments are copied
 * out once, so a guest changing them afterwards changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "backend/md5.h"
#include "common.h"
#include "virtio/virtio_blk.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Bytes in the device-readable (write = false) or -writable segments. */
static uint64_t stream_len(const struct vq_seg *s, int n, bool write)
{
	uint64_t t = 0;

	for (int i = 0; i < n; i++)
		if (s[i].write == write)
			t += s[i].len;
	return t;
}

/*
 * Describe bytes [from, from + len) of one stream with iovecs.  Returns
 * how many it used, or -1 if more than `max` would be needed.  The range
 * lies inside the stream (callers checked).
 */
static int stream_slice(const struct vq_seg *s, int n, bool write,
    uint64_t from, uint64_t len, struct iovec *iov, int max)
{
	int cnt = 0;

	for (int i = 0; i < n && len > 0; i++) {
		uint64_t k;

		if (s[i].write != write)
			continue;
		if (from >= s[i].len) {
			from -= s[i].len;
			continue;
		}
		k = MIN(len, s[i].len - from);
		if (cnt == max)
			return -1;
		iov[cnt].iov_base = (uint8_t *)s[i].base + from;
		iov[cnt].iov_len = (size_t)k;
		cnt++;
		len -= k;
		from = 0;
	}
	return cnt;
}

/* Copy bytes [from, from + len) of the readable stream (len <= 16). */
static void stream_copy(const struct vq_seg *s, int n, uint64_t from,
    uint8_t *dst, size_t len)
{
	struct iovec v[VIRTIO_BLK_HDR_SIZE];
	int cnt = stream_slice(s, n, false, from, len, v, (int)ARRAY_SIZE(v));

	/* At most one iovec per byte, so cnt >= 0 here. */
	for (int i = 0; i < cnt; i++) {
		memcpy(dst, v[i].iov_base, v[i].iov_len);
		dst += v[i].iov_len;
	}
}

/* The last device-writable byte, or NULL if there is none. */
static uint8_t *status_byte(const struct vq_seg *s, int n)
{
	for (int i = n - 1; i >= 0; i--)
		if (s[i].write && s[i].len > 0)
			return (uint8_t *)s[i].base + s[i].len - 1;
	return NULL;
}

static void parse_rw(const struct vq_seg *segs, int nsegs,
    const struct vtblk_limits *lim, struct iovec *iov, int maxiov,
    uint64_t dout, uint64_t din, struct vtblk_req *r)
{
	bool out = r->type == VIRTIO_BLK_T_OUT;
	uint64_t len = out ? dout : din, off, cap;
	int n;

	/* Data must flow one way only: a read carries no data-out. */
	if ((out ? din : dout) != 0)
		return;
	if (out && lim->ro)
		return; /* 5.2.6.2: IOERR, nothing written */
	/* Whole sectors, and a used length that fits le32. */
	if (len % VIRTIO_BLK_SECTOR != 0 || len > UINT32_MAX - 1)
		return;
	if (r->sector > UINT64_MAX / VIRTIO_BLK_SECTOR)
		return;
	off = r->sector * VIRTIO_BLK_SECTOR;
	cap = lim->capacity * VIRTIO_BLK_SECTOR; /* capacity is bytes / 512 */
	if (off > cap || len > cap - off)
		return;
	n = stream_slice(segs, nsegs, !out, out ? VIRTIO_BLK_HDR_SIZE : 0,
	    len, iov, maxiov);
	if (n < 0)
		return; /* more data segments than seg_max */
	r->action = VTBLK_IO;
	r->op = out ? BLOCKIF_OP_WRITE : BLOCKIF_OP_READ;
	r->offset = off;
	r->len = len;
	r->iovcnt = n;
	r->data_len = len;
	r->used_len = out ? 1 : (uint32_t)len + 1;
}

static void parse_dwz(const struct vq_seg *segs, int nsegs,
    const struct vtblk_limits *lim, uint64_t dout, uint64_t din,
    struct vtblk_req *r)
{
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	uint8_t d[VIRTIO_BLK_DWZ_SIZE];
	uint64_t sector;
	uint32_t num, flags, max_seg, max_sect;

	if (!(discard ? lim->discard : lim->write_zeroes)) {
		r->result = VIRTIO_BLK_S_UNSUPP;
		return;
	}
	if (din != 0 || dout == 0 || dout % VIRTIO_BLK_DWZ_SIZE != 0)
		return;
	max_seg = discard ? lim->max_discard_seg : lim->max_write_zeroes_seg;
	max_sect = discard ? lim->max_discard_sectors :
	    lim->max_write_zeroes_sectors;
	/* blockif takes one range per request; the device offers 1. */
	if (dout / VIRTIO_BLK_DWZ_SIZE > MIN(max_seg, 1u)) {
		r->result = VIRTIO_BLK_S_UNSUPP;
		return;
	}
	stream_copy(segs, nsegs, VIRTIO_BLK_HDR_SIZE, d, sizeof(d));
	sector = le64(d);
	num = le32(d + 8);
	flags = le32(d + 12);
	/* 5.2.6.2: unknown flags, or unmap on a discard, are UNSUPP. */
	if ((flags & ~VIRTIO_BLK_WZ_FLAG_UNMAP) != 0 ||
	    (discard && flags != 0)) {
		r->result = VIRTIO_BLK_S_UNSUPP;
		return;
	}
	if (num > max_sect || sector > lim->capacity ||
	    num > lim->capacity - sector)
		return;
	r->action = VTBLK_IO;
	r->op = discard ? BLOCKIF_OP_DISCARD : BLOCKIF_OP_WRITE_ZEROES;
	r->offset = sector * VIRTIO_BLK_SECTOR;
	r->len = (uint64_t)num * VIRTIO_BLK_SECTOR;
	r->flags = !discard && (flags & VIRTIO_BLK_WZ_FLAG_UNMAP) &&
	    lim->may_unmap ? BLOCKIF_F_UNMAP : 0;
}

void vtblk_req_parse(const struct vq_seg *segs, int nsegs,
    const struct vtblk_limits *lim, struct iovec *iov, int maxiov,
    struct vtblk_req *r)
{
	uint8_t hdr[VIRTIO_BLK_HDR_SIZE];
	uint64_t rlen, wlen, dout, din;
	int n;

	memset(r, 0, sizeof(*r));
	if (nsegs < 0)
		nsegs = 0;
	rlen = stream_len(segs, nsegs, false);
	wlen = stream_len(segs, nsegs, true);
	r->status = status_byte(segs, nsegs);
	if (r->status == NULL) {
		r->action = VTBLK_DROP;
		return;
	}
	/* From here on the answer is IOERR unless a case says otherwise. */
	r->action = VTBLK_DONE;
	r->result = VIRTIO_BLK_S_IOERR;
	r->used_len = 1;
	if (rlen < VIRTIO_BLK_HDR_SIZE)
		return; /* header short, or written by the device */
	stream_copy(segs, nsegs, 0, hdr, sizeof(hdr));
	r->type = le32(hdr);
	r->sector = le64(hdr + 8);
	dout = rlen - VIRTIO_BLK_HDR_SIZE;
	din = wlen - 1;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		parse_rw(segs, nsegs, lim, iov, maxiov, dout, din, r);
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (dout != 0 || din != 0)
			break;
		r->action = VTBLK_IO;
		r->op = BLOCKIF_OP_FLUSH;
		break;
	case VIRTIO_BLK_T_GET_ID:
		if (dout != 0 || din == 0)
			break;
		n = stream_slice(segs, nsegs, true, 0,
		    MIN(din, (uint64_t)VIRTIO_BLK_ID_BYTES), iov, maxiov);
		if (n < 0)
			break;
		r->action = VTBLK_GET_ID;
		r->iovcnt = n;
		r->data_len = MIN(din, (uint64_t)VIRTIO_BLK_ID_BYTES);
		r->used_len = (uint32_t)r->data_len + 1;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		parse_dwz(segs, nsegs, lim, dout, din, r);
		break;
	default:
		r->result = VIRTIO_BLK_S_UNSUPP;
		break;
	}
}

void vtblk_default_ident(const char *path, char ident[VIRTIO_BLK_ID_BYTES])
{
	uint8_t d[16];
	char buf[VIRTIO_BLK_ID_BYTES + 1];

	md5_digest(path, strlen(path), d);
	snprintf(buf, sizeof(buf), "BHYVE-%02X%02X-%02X%02X-%02X%02X", d[0],
	    d[1], d[2], d[3], d[4], d[5]);
	memcpy(ident, buf, VIRTIO_BLK_ID_BYTES);
}
