/*
 * virtio_net.h - the virtio network device (bhyve's pci_virtio_net.c):
 * constants from the virtio 1.2 spec (section 5.1), the device state, and
 * the frame handling as pure functions over vq_seg arrays, so the unit
 * tests and fuzzers can drive them without a transport.
 *
 * Queues: 0 receive, 1 transmit (no control queue).  Every frame in
 * either direction starts with a struct virtio_net_hdr: 12 bytes when the
 * driver negotiated VERSION_1 or MRG_RXBUF, 10 bytes for a legacy driver
 * without MRG_RXBUF (num_buffers absent).
 */
#ifndef KHYVE_VIRTIO_VIRTIO_NET_H
#define KHYVE_VIRTIO_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/virtio.h"
#include "virtio/virtqueue.h"

struct config_node;
struct mevent;
struct mevent_loop;
struct net_backend;

/* Feature bit numbers (virtio 1.2 section 5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_BIT(b) (1ULL << (b))

#define VIRTIO_NET_S_LINK_UP 1

/* virtio_net_hdr.flags / gso_type */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

/* The header as it sits in guest memory (little-endian fields). */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* only in the 12-byte form */
} __attribute__((packed));

#define VTNET_HDR_LEN_LEGACY 10
#define VTNET_HDR_LEN 12

/* Device configuration layout (virtio 1.2 section 5.1.4). */
#define VTNET_CFG_MAC 0
#define VTNET_CFG_STATUS 6
#define VTNET_CFG_MAX_VQ_PAIRS 8
#define VTNET_CFG_MTU 10
#define VTNET_CFG_SIZE 12

#define VTNET_RXQ 0
#define VTNET_TXQ 1
#define VTNET_NQUEUES 2
#define VTNET_QSIZE 1024

#define VTNET_MIN_MTU 68    /* the spec's bounds for the mtu field */
#define VTNET_MAX_MTU 65535
/*
 * Largest frame (after the virtio-net header) in either direction: 64 KiB
 * of TSO payload plus 64 bytes for the link-layer headers.  A longer TX
 * chain is dropped.
 */
#define VTNET_MAX_FRAME (65536 + 64)
#define VTNET_MIN_FRAME 14  /* an Ethernet header */
/* Segments taken per chain: a longer chain is malformed (see
 * vq_getchain); one full chain also fits one writev (IOV_MAX). */
#define VTNET_MAXSEGS VQ_MAX_SIZE
/* Receive chains held while one frame is placed (mergeable buffers). */
#define VTNET_RX_MAXCHAINS 128
#define VTNET_RX_POOL VTNET_MAXSEGS
/* Work per wake-up, so one busy queue cannot starve the other. */
#define VTNET_TX_BUDGET 256
#define VTNET_RX_BUDGET 256

/* A receive chain taken from the queue but not yet used: its
 * device-writable segments sit in the softc's pool. */
struct vtnet_rxchain {
	uint16_t head;
	uint16_t nsegs;
	uint32_t seg0; /* index of its first segment in the pool */
};

struct vtnet_softc {
	struct virtio_dev vd;
	struct virtio_ops ops; /* per device: features depend on config */
	struct net_backend *be; /* NULL: no back end (bhyve allows it) */
	uint8_t config[VTNET_CFG_SIZE];
	char who[48];

	/* Set by set_features; guarded by vd.lock like all below. */
	bool ready;          /* features negotiated: queues may run */
	bool merge;          /* MRG_RXBUF */
	unsigned hdrlen;     /* the guest's header length: 10 or 12 */
	uint64_t features;

	/* Receive. */
	bool rx_waiting;     /* back end paused until the guest adds buffers */
	int rx_nchains;
	int rx_nsegs;
	struct vtnet_rxchain rx_chain[VTNET_RX_MAXCHAINS];
	uint32_t rx_cap[VTNET_RX_MAXCHAINS]; /* writable bytes per chain */
	struct vq_seg rx_pool[VTNET_RX_POOL];

	/* A queue had more work than one budget: wake ourselves. */
	bool tx_more, rx_more;
	int more_fd;
	struct mevent *more_ev;

	/* Counters (for debug output and the tests). */
	uint64_t rx_frames, rx_drops, tx_frames, tx_drops;

	/* Scratch: one chain as the walker returns it, and TX staging. */
	struct vq_seg segs[VTNET_MAXSEGS];
	struct iovec iov[VTNET_MAXSEGS + 1];
	uint8_t txbuf[VTNET_MAX_FRAME + VTNET_HDR_LEN];

	/* The transport calls; tests replace them. */
	void (*vq_done)(struct virtio_dev *vd, struct vqueue *vq);
	void (*needs_reset)(struct virtio_dev *vd);
};

/* ---- device set-up without PCI (virtio_net.c; used by pe_init and tests) */

/*
 * Read mac/mtu/backend from `cfg`, open the back end and fill sc->ops
 * (features) and sc->config.  `who` names the device in messages.
 * 0, -EINVAL after one line for a bad value, or another negative errno.
 */
int vtnet_setup(struct vtnet_softc *sc, struct config_node *cfg,
    const char *who, int bus, int slot, int func);
/* Attach the back end and the TX wake-up to the device's loop. */
int vtnet_start(struct vtnet_softc *sc, struct mevent_loop *loop);
/* Detach from the loop (before it goes away). */
void vtnet_stop(struct vtnet_softc *sc);
/* Release the back end (after the loop thread stopped). */
void vtnet_teardown(struct vtnet_softc *sc);

/* Queue work, lock held (the transport's ops and our own callbacks). */
void vtnet_tx(struct vtnet_softc *sc);
void vtnet_rx(struct vtnet_softc *sc);

/* ---- pure frame handling (virtio_net_frame.c) --------------------------- */

/* Bytes in the device-readable (write = false) or writable segments. */
size_t vtnet_segs_len(const struct vq_seg *segs, int nsegs, bool write);

/*
 * iovecs for bytes [skip, skip + len) of the readable or writable
 * segments.  Returns how many (0 when len is 0), -ENOSPC if more than
 * `maxiov` are needed, -EINVAL if the segments hold less than skip + len.
 */
int vtnet_segs_iov(const struct vq_seg *segs, int nsegs, bool write,
    size_t skip, size_t len, struct iovec *iov, int maxiov);

/*
 * Split a TX chain: copy its first `hdrlen` readable bytes to `hdr` and
 * describe the frame after them in iov.  Returns the iov count and the
 * frame length in *framelen, or -EINVAL (shorter than header + Ethernet
 * header), -EMSGSIZE (frame over VTNET_MAX_FRAME), -ENOSPC (iov).
 */
int vtnet_tx_split(const struct vq_seg *segs, int nsegs, unsigned hdrlen,
    struct virtio_net_hdr *hdr, struct iovec *iov, int maxiov,
    size_t *framelen);

/*
 * May a TX header with these negotiated features go to the host?  Refuses
 * checksum or segmentation requests the driver did not negotiate (or we
 * never offer: UFO, ECN) and checksum offsets outside the frame.  Clears
 * the fields the host must not see (num_buffers, DATA_VALID).
 */
bool vtnet_tx_hdr_ok(struct virtio_net_hdr *hdr, uint64_t features,
    size_t framelen);

/*
 * Place `need` bytes (header included) in receive chains of capacities
 * cap[0..nchains): without mergeable buffers the first chain must hold it
 * all; with them consecutive chains are filled.  Stores the bytes used
 * per chain in lens and returns the chain count, or 0 if they are too
 * small.
 */
int vtnet_rx_plan(const uint32_t *cap, int nchains, size_t need, bool merge,
    uint32_t *lens);

/*
 * Write the receive header into the first chain's writable segments:
 * zeroed when the back end gave none (`zero`), then num_buffers when the
 * header has that field.  Returns 0 or -EINVAL if the segments are too
 * short for the header.
 */
int vtnet_rx_hdr(const struct vq_seg *segs, int nsegs, unsigned hdrlen,
    bool zero, uint16_t num_buffers);

#endif
