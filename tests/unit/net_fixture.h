/*
 * net_fixture.h - the virtio-net unit tests' world: fake guest RAM with
 * guard pages (loader_fixture.h), a driver side that builds split rings in
 * it, and a fake packet back end ("testsock") on a datagram socket pair
 * whose other end the test reads and writes.  The device is built with
 * vtnet_setup() and its queues enabled by hand, as the transport would.
 */
#ifndef KHYVE_TEST_NET_FIXTURE_H
#define KHYVE_TEST_NET_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "loader_fixture.h"
#include "virtio/virtio_net.h"

#define NF_QSIZE 512
#define NF_RAM (4 * MiB)
#define NF_BUFBASE 0x100000ULL

struct nf_queue {
	uint64_t desc, avail, used;
	uint16_t next_desc; /* driver: next free descriptor (no reuse) */
	uint16_t avail_idx;
	uint16_t used_seen;
};

struct nf {
	struct fx_mem fx;
	struct vtnet_softc *sc;
	struct nf_queue q[VTNET_NQUEUES];
	uint64_t bump;   /* next free guest buffer address */
	int peer;        /* the host side of the fake back end */
	int done_calls[VTNET_NQUEUES];
	int reset_calls;
};

/* A buffer for nf_post: guest address, length, device-writable. */
struct nf_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Features a modern driver with mergeable buffers negotiates. */
#define NF_MODERN                                                             \
	(VIRTIO_NET_BIT(VIRTIO_NET_F_MAC) |                                   \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_STATUS) |                             \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_MRG_RXBUF) |                          \
	    (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_VERSION_1))
/* A legacy driver without mergeable buffers (10-byte header). */
#define NF_LEGACY                                                             \
	(VIRTIO_NET_BIT(VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_F_ANY_LAYOUT))

/*
 * Build a device on a testsock back end (vnethdr: the back end carries a
 * virtio-net header, as tap does), negotiate `features`.  0 or -1.
 */
int nf_init(struct nf *t, uint64_t features, bool vnethdr);
void nf_fini(struct nf *t);

/* Guest memory for a buffer (16-byte aligned, bump allocated). */
uint64_t nf_alloc(struct nf *t, uint32_t len);
static inline uint8_t *nf_host(struct nf *t, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(&t->fx.m, gpa, len);
}

/* Post one chain of direct descriptors; returns its head. */
uint16_t nf_post(struct nf *t, int q, const struct nf_buf *b, int n);
/* Post one chain through an indirect table; returns its head. */
uint16_t nf_post_indirect(struct nf *t, int q, const struct nf_buf *b, int n);
/* Write a raw descriptor and publish `head` as-is (hostile chains). */
void nf_raw_desc(struct nf *t, int q, uint16_t i, uint64_t addr, uint32_t len,
    uint16_t flags, uint16_t next);
void nf_publish(struct nf *t, int q, uint16_t head);

/* used->idx, and used entry `i`. */
uint16_t nf_used_idx(struct nf *t, int q);
void nf_used(struct nf *t, int q, uint16_t i, uint32_t *id, uint32_t *len);

/* The host side: send one frame to the device / take one it sent
 * (returns its length, -1 if none). */
void nf_host_send(struct nf *t, const void *frame, size_t len);
ssize_t nf_host_recv(struct nf *t, void *buf, size_t len);
/* Is the fake back end's receive side enabled by the device? */
bool nf_rx_enabled(struct nf *t);

/* A test frame: Ethernet header + a pattern seeded by `seed`. */
void nf_frame(uint8_t *f, size_t len, unsigned seed);

#endif
