/*
 * virtio_net_fuzz.c - virtio-net TX and RX frame handling (src/virtio/
 * virtio_net.c, virtio_net_frame.c) through the unit tests' fixture
 * (net_fixture.h: the device on a "testsock" datagram back end, fake RAM
 * with guard pages, queues enabled by hand).  TX: chains from ring.h
 * (header + frame bytes from the input, or hostile ones) kicked at the
 * device; every frame it sends is read back at the peer and checked
 * against the 64 KiB + header bound.  RX: frames of input-chosen length
 * and contents arrive from the host while the guest posts RX chains
 * (mergeable or not, hostile or not).  The device's "come back later"
 * (tx_more) is honoured a bounded number of times, as its I/O thread
 * would.
 *
 * Input: a features byte (modern/legacy, mergeable buffers, EVENT_IDX,
 * INDIRECT, a vnet-header back end with offloads), then operations: TX
 * chains + kick, host frame + RX chains + kick, hostile ring events.
 */
#include <stdlib.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "net_fixture.h"
#include "ring.h"

#define IND_LO 0x40000ULL /* indirect tables: above both queues */
#define IND_HI 0x100000ULL

static void drain_peer(struct nf *t)
{
	static uint8_t buf[70000];
	ssize_t n;

	while ((n = nf_host_recv(t, buf, sizeof(buf))) >= 0)
		if (n > VTNET_MAX_FRAME + VTNET_HDR_LEN)
			abort();
}

static void tx(struct nf *t)
{
	int rounds = 0;

	pthread_mutex_lock(&t->sc->vd.lock);
	t->sc->ops.notify(t->sc, &t->sc->vd.vq[VTNET_TXQ]);
	while (t->sc->tx_more && rounds++ < 8) {
		t->sc->tx_more = false;
		vtnet_tx(t->sc);
	}
	pthread_mutex_unlock(&t->sc->vd.lock);
	drain_peer(t);
}

static void rx(struct nf *t)
{
	pthread_mutex_lock(&t->sc->vd.lock);
	t->sc->ops.notify(t->sc, &t->sc->vd.vq[VTNET_RXQ]);
	vtnet_rx(t->sc);
	pthread_mutex_unlock(&t->sc->vd.lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[65536 + 64];
	static struct nf t;
	struct fzr r[VTNET_NQUEUES];
	uint64_t feat;
	struct fz f;
	uint8_t c;
	bool vnethdr;

	fz_init(&f, data, size);
	c = fz_u8(&f);
	feat = (c & 1) ? NF_LEGACY : NF_MODERN;
	if (c & 2)
		feat ^= VIRTIO_NET_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (c & 4)
		feat |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (c & 8)
		feat ^= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	vnethdr = (c & 0x10) != 0;
	if (vnethdr && (c & 0x20))
		feat |= VIRTIO_NET_BIT(VIRTIO_NET_F_CSUM) |
		    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_CSUM) |
		    VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO4) |
		    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO4) |
		    VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO6);
	if (nf_init(&t, feat, vnethdr) != 0)
		abort();
	for (int q = 0; q < VTNET_NQUEUES; q++)
		fzr_init(&r[q], &t.fx.m, t.q[q].desc, t.q[q].avail, NF_QSIZE,
		    t.sc->vd.vq[q].indirect,
		    IND_LO + (IND_HI - IND_LO) / 2 * (uint64_t)q,
		    IND_LO + (IND_HI - IND_LO) / 2 * (uint64_t)(q + 1),
		    NF_BUFBASE, NF_RAM, NF_RAM);
	while (fz_more(&f)) {
		uint8_t op = fz_u8(&f);
		int n = (op >> 2) & 7;
		size_t len;

		switch (op & 3) {
		case 0:
			for (int i = 0; i <= n; i++)
				(void)fzr_chain(&r[VTNET_TXQ], &f);
			tx(&t);
			break;
		case 1:
			/* A frame from the host: mostly Ethernet-sized. */
			len = (op & 0x20) ? fz_u16(&f) : fz_u8(&f) + 14u;
			len = fz_bytes(&f, frame, len);
			/* A full socket drops it, as a real link would. */
			if (len > 0)
				(void)send(t.peer, frame, len, MSG_DONTWAIT);
			for (int i = 0; i < n; i++)
				(void)fzr_chain(&r[VTNET_RXQ], &f);
			rx(&t);
			break;
		case 2:
			fzr_hostile(&r[(op >> 2) & 1], &f);
			break;
		default:
			for (int i = 0; i <= n; i++)
				(void)fzr_chain(&r[VTNET_RXQ], &f);
			rx(&t);
			break;
		}
	}
	nf_fini(&t);
	return 0;
}
