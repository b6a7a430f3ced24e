/*
 * virtio_net_frame.c - virtio-net frame handling as pure functions over
 * the segments the virtqueue walker returns (see virtio_net.h).
 *
 * Trust: segment addresses and lengths were checked against guest RAM by
 * the walker, but their number, sizes and contents are the guest's
 * choice: a header may straddle segments, segments may be tiny or empty,
 * a TX chain may carry writable segments (ignored) and the guest may
 * rewrite its buffers while we read them.  So the header is copied once
 * and checked on the copy, every length is bounded before use, and
 * nothing here writes outside the segments it is given.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "common.h"
#include "virtio/virtio_net.h"

size_t vtnet_segs_len(const struct vq_seg *segs, int nsegs, bool write)
{
	size_t n = 0;

	for (int i = 0; i < nsegs; i++)
		if (segs[i].write == write)
			n += segs[i].len;
	return n;
}

int vtnet_segs_iov(const struct vq_seg *segs, int nsegs, bool write,
    size_t skip, size_t len, struct iovec *iov, int maxiov)
{
	int n = 0;

	for (int i = 0; i < nsegs && len > 0; i++) {
		size_t l = segs[i].len;

		if (segs[i].write != write || l == 0)
			continue;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (n == maxiov)
			return -ENOSPC;
		iov[n].iov_base = (uint8_t *)segs[i].base + skip;
		iov[n].iov_len = MIN(l - skip, len);
		len -= iov[n].iov_len;
		skip = 0;
		n++;
	}
	return len == 0 ? n : -EINVAL;
}

int vtnet_tx_split(const struct vq_seg *segs, int nsegs, unsigned hdrlen,
    struct virtio_net_hdr *hdr, struct iovec *iov, int maxiov,
    size_t *framelen)
{
	size_t total = vtnet_segs_len(segs, nsegs, false);
	size_t flen;

	if (hdrlen > sizeof(*hdr) || total < hdrlen + VTNET_MIN_FRAME)
		return -EINVAL;
	flen = total - hdrlen;
	if (flen > VTNET_MAX_FRAME)
		return -EMSGSIZE;
	memset(hdr, 0, sizeof(*hdr));
	if (vq_segs_read(segs, nsegs, 0, hdr, hdrlen) != hdrlen)
		return -EINVAL;
	*framelen = flen;
	return vtnet_segs_iov(segs, nsegs, false, hdrlen, flen, iov, maxiov);
}


bool vtnet_tx_hdr_ok(struct virtio_net_hdr *hdr, uint64_t features,
    size_t framelen)
{
	uint8_t gso = hdr->gso_type;

	if (hdr->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM |
	    VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	hdr->flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID; /* RX-only */
	hdr->num_buffers = 0;
	if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		size_t start = le16toh(hdr->csum_start);
		size_t off = le16toh(hdr->csum_offset);

		if (!(features & VIRTIO_NET_BIT(VIRTIO_NET_F_CSUM)))
			return false;
		if (start + off + 2 > framelen)
			return false;
	}
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!(features & VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO4)))
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(features & VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO6)))
			return false;
		break;
	default: /* UDP (UFO), ECN and unknown types: never offered */
		return false;
	}
	/* Segmentation needs a partial checksum and a segment size. */
	return (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    hdr->gso_size != 0;
}

int vtnet_rx_plan(const uint32_t *cap, int nchains, size_t need, bool merge,
    uint32_t *lens)
{
	int n = 0;

	if (!merge) {
		if (nchains < 1 || cap[0] < need)
			return 0;
		lens[0] = (uint32_t)need;
		return 1;
	}
	for (; n < nchains && need > 0; n++) {
		lens[n] = (uint32_t)MIN((size_t)cap[n], need);
		need -= lens[n];
	}
	return need == 0 && n > 0 ? n : 0;
}

int vtnet_rx_hdr(const struct vq_seg *segs, int nsegs, unsigned hdrlen,
    bool zero, uint16_t num_buffers)
{
	struct virtio_net_hdr h;
	uint16_t nb = htole16(num_buffers);

	if (hdrlen > sizeof(h) || vtnet_segs_len(segs, nsegs, true) < hdrlen)
		return -EINVAL;
	if (zero) {
		memset(&h, 0, sizeof(h));
		vq_segs_write(segs, nsegs, 0, &h, hdrlen);
	}
	if (hdrlen == VTNET_HDR_LEN)
		vq_segs_write(segs, nsegs, offsetof(struct virtio_net_hdr,
		    num_buffers), &nb, sizeof(nb));
	return 0;
}
