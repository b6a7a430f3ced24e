/*
 * test_virtio_net.c - the virtio-net device's TX and RX paths against fake
 * guest RAM (guard pages) and a socket-pair back end: header handling in
 * both directions and both header sizes, mergeable RX buffers, flow
 * control when the guest has no buffers, the TX budget, and hostile
 * chains.  The pure frame functions are tested (and fuzzed) directly.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend/net_backend.h"
#include "net_fixture.h"
#include "test.h"

static uint8_t frame[VTNET_MAX_FRAME + 64], got[VTNET_MAX_FRAME + 64];

static void tx(struct nf *t)
{
	pthread_mutex_lock(&t->sc->vd.lock);
	t->sc->ops.notify(t->sc, &t->sc->vd.vq[VTNET_TXQ]);
	pthread_mutex_unlock(&t->sc->vd.lock);
}

static void rx_kick(struct nf *t)
{
	pthread_mutex_lock(&t->sc->vd.lock);
	t->sc->ops.notify(t->sc, &t->sc->vd.vq[VTNET_RXQ]);
	pthread_mutex_unlock(&t->sc->vd.lock);
}

static void rx_ready(struct nf *t)
{
	pthread_mutex_lock(&t->sc->vd.lock);
	vtnet_rx(t->sc);
	pthread_mutex_unlock(&t->sc->vd.lock);
}

/* Guest TX of `len` frame bytes after a header, split at `cuts`. */
static uint16_t post_tx(struct nf *t, unsigned hdrlen,
    const struct virtio_net_hdr *h, const uint8_t *f, size_t len,
    const uint32_t *pieces, int npieces)
{
	struct nf_buf b[8];
	size_t total = hdrlen + len, off = 0;
	uint64_t gpa = nf_alloc(t, (uint32_t)total);
	uint8_t *p = nf_host(t, gpa, total);

	memcpy(p, h, hdrlen);
	memcpy(p + hdrlen, f, len);
	for (int i = 0; i < npieces; i++) {
		uint32_t l = i + 1 < npieces ? pieces[i] :
		    (uint32_t)(total - off);

		b[i] = (struct nf_buf){ gpa + off, l, false };
		off += l;
	}
	return nf_post(t, VTNET_TXQ, b, npieces);
}

TEST(vtnet_tx_strips_header_any_layout)
{
	struct nf t;
	struct virtio_net_hdr h = { 0 };
	/* The 12-byte header straddles the first two descriptors. */
	static const uint32_t cuts[] = { 5, 20, 7 };
	uint32_t id, len;
	uint16_t head;

	CHECK_EQ(nf_init(&t, NF_MODERN, false), 0);
	CHECK_EQ(t.sc->hdrlen, 12);
	nf_frame(frame, 100, 1);
	head = post_tx(&t, 12, &h, frame, 100, cuts, 4);
	tx(&t);
	CHECK_EQ(nf_host_recv(&t, got, sizeof(got)), 100);
	CHECK(memcmp(got, frame, 100) == 0);
	CHECK_EQ(nf_used_idx(&t, VTNET_TXQ), 1);
	nf_used(&t, VTNET_TXQ, 0, &id, &len);
	CHECK_EQ(id, head);
	CHECK_EQ(len, 0);
	CHECK_EQ(t.sc->tx_frames, 1);
	CHECK(t.done_calls[VTNET_TXQ] >= 1);
	nf_fini(&t);
}

TEST(vtnet_tx_legacy_header_and_indirect)
{
	struct nf t;
	struct virtio_net_hdr h = { 0 };
	struct nf_buf b[2];
	uint64_t g;

	CHECK_EQ(nf_init(&t, NF_LEGACY | (1ULL << VIRTIO_RING_F_INDIRECT_DESC),
	    false), 0);
	CHECK_EQ(t.sc->hdrlen, 10);
	nf_frame(frame, 60, 2);
	g = nf_alloc(&t, 70);
	memcpy(nf_host(&t, g, 10), &h, 10);
	memcpy(nf_host(&t, g + 10, 60), frame, 60);
	b[0] = (struct nf_buf){ g, 10, false };
	b[1] = (struct nf_buf){ g + 10, 60, false };
	nf_post_indirect(&t, VTNET_TXQ, b, 2);
	tx(&t);
	CHECK_EQ(nf_host_recv(&t, got, sizeof(got)), 60);
	CHECK(memcmp(got, frame, 60) == 0);
	nf_fini(&t);
}

TEST(vtnet_tx_vnet_header_passthrough)
{
	struct nf t;
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = 34, .csum_offset = 16, .num_buffers = 7 };
	uint32_t one[] = { 0 };

	CHECK_EQ(nf_init(&t, NF_MODERN | VIRTIO_NET_BIT(VIRTIO_NET_F_CSUM),
	    true), 0);
	CHECK_EQ(t.sc->be->be_hdrlen, 12);
	nf_frame(frame, 200, 3);
	post_tx(&t, 12, &h, frame, 200, one, 1);
	tx(&t);
	CHECK_EQ(nf_host_recv(&t, got, sizeof(got)), 212);
	CHECK_EQ(got[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(got[6] | got[7] << 8, 34);
	CHECK_EQ(got[10] | got[11] << 8, 0); /* num_buffers not passed on */
	CHECK(memcmp(got + 12, frame, 200) == 0);
	nf_fini(&t);
}

TEST(vtnet_tx_hostile_chains_dropped_and_returned)
{
	struct nf t;
	struct virtio_net_hdr h = { 0 }, gso = { .flags = 1,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
		.csum_start = 34, .csum_offset = 16 };
	uint32_t one[] = { 0 };
	struct nf_buf b[2];
	uint64_t g;

	CHECK_EQ(nf_init(&t, NF_MODERN, false), 0);
	/* Shorter than header + Ethernet header. */
	post_tx(&t, 12, &h, frame, 13, one, 1);
	/* Longer than a maximum frame. */
	nf_frame(frame, VTNET_MAX_FRAME + 1, 4);
	post_tx(&t, 12, &h, frame, VTNET_MAX_FRAME + 1, one, 1);
	/* Only device-writable buffers. */
	g = nf_alloc(&t, 200);
	b[0] = (struct nf_buf){ g, 200, true };
	nf_post(&t, VTNET_TXQ, b, 1);
	/* Segmentation that was not negotiated (no HOST_TSO4). */
	post_tx(&t, 12, &gso, frame, 3000, one, 1);
	/* A checksum request without VIRTIO_NET_F_CSUM. */
	gso.gso_type = 0;
	post_tx(&t, 12, &gso, frame, 100, one, 1);
	/* The largest frame that is allowed goes through. */
	nf_frame(frame, VTNET_MAX_FRAME, 5);
	post_tx(&t, 12, &h, frame, VTNET_MAX_FRAME, one, 1);
	tx(&t);
	CHECK_EQ(nf_used_idx(&t, VTNET_TXQ), 6);
	CHECK_EQ(t.sc->tx_drops, 5);
	CHECK_EQ(nf_host_recv(&t, got, sizeof(got)), VTNET_MAX_FRAME);
	CHECK(memcmp(got, frame, VTNET_MAX_FRAME) == 0);
	CHECK_EQ(nf_host_recv(&t, got, sizeof(got)), -1);
	CHECK_EQ(t.reset_calls, 0);
	nf_fini(&t);
}

TEST(vtnet_tx_broken_ring_asks_reset)
{
	struct nf t;
	uint64_t g;

	CHECK_EQ(nf_init(&t, NF_MODERN, false), 0);
	g = nf_alloc(&t, 64);
	/* A descriptor loop: 0 -> 1 -> 0. */
	nf_raw_desc(&t, VTNET_TXQ, 0, g, 32, VRING_DESC_F_NEXT, 1);
	nf_raw_desc(&t, VTNET_TXQ, 1, g + 32, 32, VRING_DESC_F_NEXT, 0);
	nf_publish(&t, VTNET_TXQ, 0);
	tx(&t);
	CHECK_EQ(t.reset_calls, 1);
	CHECK(t.sc->vd.vq[VTNET_TXQ].broken);
	CHECK_EQ(nf_host_recv(&t, got, sizeof(got)), -1);
	/* A broken queue is left alone until reset. */
	tx(&t);
	CHECK_EQ(t.reset_calls, 1);
	nf_fini(&t);

	/* A buffer beyond guest RAM. */
	CHECK_EQ(nf_init(&t, NF_MODERN, false), 0);
	nf_raw_desc(&t, VTNET_TXQ, 0, NF_RAM - 16, 64, 0, 0);
	nf_publish(&t, VTNET_TXQ, 0);
	tx(&t);
	CHECK_EQ(t.reset_calls, 1);
	nf_fini(&t);
}

TEST(vtnet_tx_budget_then_resumes)
{
	struct nf t;
	struct virtio_net_hdr h = { 0 };
	uint32_t one[] = { 0 };
	int n = 0;

	CHECK_EQ(nf_init(&t, NF_MODERN, false), 0);
	nf_frame(frame, 60, 6);
	for (int i = 0; i < VTNET_TX_BUDGET + 40; i++)
		post_tx(&t, 12, &h, frame, 60, one, 1);
	tx(&t);
	CHECK_EQ(nf_used_idx(&t, VTNET_TXQ), VTNET_TX_BUDGET);
	CHECK(t.sc->tx_more);
	/* Notifications stay off while we owe ourselves a round. */
	CHECK_EQ(FX_G16(&t.fx, t.q[VTNET_TXQ].used), VRING_USED_F_NO_NOTIFY);
	while (nf_host_recv(&t, got, sizeof(got)) == 60)
		n++;
	CHECK_EQ(n, VTNET_TX_BUDGET);
	pthread_mutex_lock(&t.sc->vd.lock);
	t.sc->tx_more = false;
	vtnet_tx(t.sc);
	pthread_mutex_unlock(&t.sc->vd.lock);
	CHECK_EQ(nf_used_idx(&t, VTNET_TXQ), VTNET_TX_BUDGET + 40);
	CHECK(!t.sc->tx_more);
	CHECK_EQ(FX_G16(&t.fx, t.q[VTNET_TXQ].used), 0);
	while (nf_host_recv(&t, got, sizeof(got)) == 60)
		n++;
	CHECK_EQ(n, VTNET_TX_BUDGET + 40);
	CHECK_EQ(t.sc->tx_drops, 0);
	nf_fini(&t);
}

TEST(vtnet_rx_legacy_single_buffer)
{
	struct nf t;
	struct nf_buf b[2];
	uint32_t id, len;
	uint64_t g;
	uint16_t head;
	uint8_t *p;

	CHECK_EQ(nf_init(&t, NF_LEGACY, false), 0);
	/* An old driver's layout: header and data in separate buffers. */
	g = nf_alloc(&t, 1600);
	p = nf_host(&t, g, 1600);
	memset(p, 0xee, 1600);
	b[0] = (struct nf_buf){ g, 10, true };
	b[1] = (struct nf_buf){ g + 10, 1590, true };
	head = nf_post(&t, VTNET_RXQ, b, 2);
	rx_kick(&t);
	CHECK(nf_rx_enabled(&t));
	nf_frame(frame, 60, 7);
	nf_host_send(&t, frame, 60);
	rx_ready(&t);
	CHECK_EQ(nf_used_idx(&t, VTNET_RXQ), 1);
	nf_used(&t, VTNET_RXQ, 0, &id, &len);
	CHECK_EQ(id, head);
	CHECK_EQ(len, 70);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(p[i], 0); /* zeroed 10-byte header */
	CHECK(memcmp(p + 10, frame, 60) == 0);
	CHECK_EQ(p[70], 0xee);
	CHECK_EQ(t.sc->rx_frames, 1);
	nf_fini(&t);
}

TEST(vtnet_rx_mergeable_across_buffers)
{
	struct nf t;
	struct nf_buf b;
	uint64_t g[4];
	uint32_t id, len;
	uint8_t *p[4];

	CHECK_EQ(nf_init(&t, NF_MODERN, false), 0);
	for (int i = 0; i < 4; i++) {
		g[i] = nf_alloc(&t, 1000);
		p[i] = nf_host(&t, g[i], 1000);
		memset(p[i], 0xee, 1000);
		b = (struct nf_buf){ g[i], 1000, true };
		nf_post(&t, VTNET_RXQ, &b, 1);
	}
	rx_kick(&t);
	nf_frame(frame, 2500, 8);
	nf_host_send(&t, frame, 2500);
	rx_ready(&t);
	/* 12 + 2500 bytes: 1000 + 1000 + 512 in three buffers. */
	CHECK_EQ(nf_used_idx(&t, VTNET_RXQ), 3);
	nf_used(&t, VTNET_RXQ, 0, &id, &len);
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 1000);
	nf_used(&t, VTNET_RXQ, 1, &id, &len);
	CHECK_EQ(id, 1);
	CHECK_EQ(len, 1000);
	nf_used(&t, VTNET_RXQ, 2, &id, &len);
	CHECK_EQ(id, 2);
	CHECK_EQ(len, 512);
	CHECK_EQ(p[0][10] | p[0][11] << 8, 3); /* num_buffers */
	CHECK_EQ(p[0][0], 0);
	CHECK(memcmp(p[0] + 12, frame, 988) == 0);
	CHECK(memcmp(p[1], frame + 988, 1000) == 0);
	CHECK(memcmp(p[2], frame + 1988, 512) == 0);
	CHECK_EQ(p[2][512], 0xee);
	/* Only the buffers needed were taken; the fourth serves the next
	 * frame alone. */
	CHECK_EQ(t.sc->rx_nchains, 0);
	nf_frame(frame, 100, 9);
	nf_host_send(&t, frame, 100);
	rx_ready(&t);
	CHECK_EQ(nf_used_idx(&t, VTNET_RXQ), 4);
	nf_used(&t, VTNET_RXQ, 3, &id, &len);
	CHECK_EQ(id, 3);
	CHECK_EQ(len, 112);
	CHECK_EQ(p[3][10] | p[3][11] << 8, 1);
	CHECK(memcmp(p[3] + 12, frame, 100) == 0);
	CHECK_EQ(t.sc->rx_nchains, 0);
	nf_fini(&t);
}

TEST(vtnet_rx_vnet_header_from_backend)
{
	struct nf t;
	struct nf_buf b;
	uint8_t hf[12 + 80];
	uint32_t id, len;
	uint64_t g;
	uint8_t *p;

	CHECK_EQ(nf_init(&t, NF_MODERN | VIRTIO_NET_BIT(
	    VIRTIO_NET_F_GUEST_CSUM), true), 0);
	g = nf_alloc(&t, 2048);
	p = nf_host(&t, g, 2048);
	memset(p, 0xee, 2048);
	b = (struct nf_buf){ g, 2048, true };
	nf_post(&t, VTNET_RXQ, &b, 1);
	rx_kick(&t);
	memset(hf, 0, 12);
	hf[0] = VIRTIO_NET_HDR_F_DATA_VALID;
	hf[10] = 0x55; /* garbage where num_buffers goes: we overwrite it */
	nf_frame(hf + 12, 80, 10);
	nf_host_send(&t, hf, sizeof(hf));
	rx_ready(&t);
	nf_used(&t, VTNET_RXQ, 0, &id, &len);
	CHECK_EQ(len, 92);
	CHECK_EQ(p[0], VIRTIO_NET_HDR_F_DATA_VALID);
	CHECK_EQ(p[10] | p[11] << 8, 1);
	CHECK(memcmp(p + 12, hf + 12, 80) == 0);
	nf_fini(&t);
}

TEST(vtnet_rx_waits_for_buffers_then_resumes_on_kick)
{
	struct nf t;
	struct nf_buf b;
	uint32_t id, len;
	uint64_t g;

	CHECK_EQ(nf_init(&t, NF_MODERN, false), 0);
	rx_kick(&t);
	CHECK(nf_rx_enabled(&t));
	nf_frame(frame, 300, 11);
	nf_host_send(&t, frame, 300);
	nf_host_send(&t, frame, 300);
	rx_ready(&t);
	/* No buffer: stop reading the back end, ask the guest for a kick. */
	CHECK(t.sc->rx_waiting);
	CHECK(!nf_rx_enabled(&t));
	CHECK_EQ(FX_G16(&t.fx, t.q[VTNET_RXQ].used), 0); /* kicks on */
	CHECK_EQ(nf_used_idx(&t, VTNET_RXQ), 0);
	/* Both frames stay queued in the host, not in the device. */
	g = nf_alloc(&t, 4096);
	b = (struct nf_buf){ g, 2048, true };
	nf_post(&t, VTNET_RXQ, &b, 1);
	rx_kick(&t);
	CHECK_EQ(nf_used_idx(&t, VTNET_RXQ), 1);
	nf_used(&t, VTNET_RXQ, 0, &id, &len);
	CHECK_EQ(len, 312);
	CHECK(t.sc->rx_waiting); /* the second frame is waiting again */
	b = (struct nf_buf){ g + 2048, 2048, true };
	nf_post(&t, VTNET_RXQ, &b, 1);
	rx_kick(&t);
	CHECK_EQ(nf_used_idx(&t, VTNET_RXQ), 2);
	CHECK(memcmp(nf_host(&t, g + 2048 + 12, 300), frame, 300) == 0);
	nf_fini(&t);
}

TEST(vtnet_rx_hostile_buffers)
{
	struct nf t;
	struct nf_buf b[2];
	uint32_t id, len;
	uint64_t g;

	/* Without mergeable buffers a frame must fit one chain. */
	CHECK_EQ(nf_init(&t, NF_LEGACY, false), 0);
	g = nf_alloc(&t, 512);
	b[0] = (struct nf_buf){ g, 4, true };   /* smaller than the header */
	nf_post(&t, VTNET_RXQ, b, 1);
	b[0] = (struct nf_buf){ g + 64, 8, false }; /* readable: ignored */
	b[1] = (struct nf_buf){ g + 128, 100, true };
	nf_post(&t, VTNET_RXQ, b, 2);
	rx_kick(&t);
	nf_frame(frame, 200, 12);
	nf_host_send(&t, frame, 200);   /* too big for 100 bytes: dropped */
	nf_host_send(&t, frame, 80);    /* fits */
	rx_ready(&t);
	CHECK_EQ(nf_used_idx(&t, VTNET_RXQ), 2);
	nf_used(&t, VTNET_RXQ, 0, &id, &len);
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 0);               /* given back empty */
	nf_used(&t, VTNET_RXQ, 1, &id, &len);
	CHECK_EQ(id, 1);
	CHECK_EQ(len, 90);
	CHECK_EQ(t.sc->rx_drops, 1);
	CHECK(memcmp(nf_host(&t, g + 128 + 10, 80), frame, 80) == 0);
	nf_fini(&t);

	/* A receive buffer that ends exactly at the end of guest RAM: the
	 * guard page behind it catches any overrun. */
	CHECK_EQ(nf_init(&t, NF_MODERN, false), 0);
	b[0] = (struct nf_buf){ NF_RAM - 112, 112, true };
	nf_post(&t, VTNET_RXQ, b, 1);
	rx_kick(&t);
	nf_host_send(&t, frame, 100);
	rx_ready(&t);
	nf_used(&t, VTNET_RXQ, 0, &id, &len);
	CHECK_EQ(len, 112);
	/* A frame shorter than an Ethernet header is dropped. */
	nf_host_send(&t, frame, 13);
	rx_ready(&t);
	CHECK_EQ(t.sc->rx_drops, 1);
	nf_fini(&t);
}

TEST(vtnet_reset_stops_queues)
{
	struct nf t;
	struct nf_buf b;
	struct virtio_net_hdr h = { 0 };
	uint32_t one[] = { 0 };

	CHECK_EQ(nf_init(&t, NF_MODERN, false), 0);
	b = (struct nf_buf){ nf_alloc(&t, 2048), 2048, true };
	nf_post(&t, VTNET_RXQ, &b, 1);
	rx_kick(&t);
	pthread_mutex_lock(&t.sc->vd.lock);
	t.sc->ops.reset(t.sc);
	pthread_mutex_unlock(&t.sc->vd.lock);
	CHECK(!t.sc->ready);
	CHECK(!nf_rx_enabled(&t));
	CHECK_EQ(t.sc->rx_nchains, 0);
	nf_frame(frame, 60, 13);
	post_tx(&t, 12, &h, frame, 60, one, 1);
	tx(&t);
	CHECK_EQ(nf_used_idx(&t, VTNET_TXQ), 0);
	CHECK_EQ(nf_host_recv(&t, got, sizeof(got)), -1);
	nf_fini(&t);
}

TEST(vtnet_config_space_and_features)
{
	struct nf t;
	uint32_t v = 0;
	uint64_t f;

	CHECK_EQ(nf_init(&t, NF_MODERN, false), 0);
	f = t.sc->ops.features;
	CHECK(f & VIRTIO_NET_BIT(VIRTIO_NET_F_MAC));
	CHECK(f & VIRTIO_NET_BIT(VIRTIO_NET_F_STATUS));
	CHECK(f & VIRTIO_NET_BIT(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(f & (1ULL << VIRTIO_RING_F_INDIRECT_DESC));
	CHECK(f & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	/* No mtu= and a back end without offloads: neither offered. */
	CHECK(!(f & VIRTIO_NET_BIT(VIRTIO_NET_F_MTU)));
	CHECK(!(f & VIRTIO_NET_BIT(VIRTIO_NET_F_CSUM)));
	CHECK(!(f & VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO4)));
	t.sc->ops.cfgread(t.sc, VTNET_CFG_STATUS, 2, &v);
	CHECK_EQ(v, VIRTIO_NET_S_LINK_UP);
	t.sc->ops.cfgread(t.sc, VTNET_CFG_MAC, 1, &v);
	CHECK_EQ(v & 3, 2); /* generated: locally administered unicast */
	t.sc->ops.cfgread(t.sc, VTNET_CFG_MAX_VQ_PAIRS, 2, &v);
	CHECK_EQ(v, 1);
	/* A legacy driver may set the MAC; nothing else is writable. */
	t.sc->ops.cfgwrite(t.sc, 0, 4, 0x33221102);
	t.sc->ops.cfgwrite(t.sc, VTNET_CFG_STATUS, 2, 0);
	t.sc->ops.cfgread(t.sc, 0, 4, &v);
	CHECK_EQ(v, 0x33221102);
	t.sc->ops.cfgread(t.sc, VTNET_CFG_STATUS, 2, &v);
	CHECK_EQ(v, 1);
	nf_fini(&t);

	CHECK_EQ(nf_init(&t, NF_MODERN, true), 0);
	f = t.sc->ops.features;
	CHECK(f & VIRTIO_NET_BIT(VIRTIO_NET_F_CSUM));
	CHECK(f & VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO6));
	CHECK(f & VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO4));
	CHECK(!(f & VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_UFO)));
	CHECK(!(f & VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_UFO)));
	nf_fini(&t);
}

/* ---- pure functions ----------------------------------------------------- */

TEST(vtnet_rx_plan_cases)
{
	uint32_t cap[] = { 100, 50, 1000 }, lens[3];

	CHECK_EQ(vtnet_rx_plan(cap, 3, 100, false, lens), 1);
	CHECK_EQ(lens[0], 100);
	CHECK_EQ(vtnet_rx_plan(cap, 3, 101, false, lens), 0);
	CHECK_EQ(vtnet_rx_plan(cap, 3, 120, true, lens), 2);
	CHECK_EQ(lens[0], 100);
	CHECK_EQ(lens[1], 20);
	CHECK_EQ(vtnet_rx_plan(cap, 3, 1150, true, lens), 3);
	CHECK_EQ(vtnet_rx_plan(cap, 3, 1151, true, lens), 0);
	CHECK_EQ(vtnet_rx_plan(cap, 0, 1, true, lens), 0);
	CHECK_EQ(vtnet_rx_plan(cap, 0, 1, false, lens), 0);
}

TEST(vtnet_tx_hdr_rules)
{
	uint64_t all = VIRTIO_NET_BIT(VIRTIO_NET_F_CSUM) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO4) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO6);
	struct virtio_net_hdr h;

	memset(&h, 0, sizeof(h));
	CHECK(vtnet_tx_hdr_ok(&h, 0, 60));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 6;
	CHECK(!vtnet_tx_hdr_ok(&h, 0, 60));
	CHECK(vtnet_tx_hdr_ok(&h, all, 60));
	CHECK(!vtnet_tx_hdr_ok(&h, all, 41)); /* offset beyond the frame */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	h.gso_size = 1440;
	CHECK(vtnet_tx_hdr_ok(&h, all, 3000));
	CHECK(!vtnet_tx_hdr_ok(&h, all & ~VIRTIO_NET_BIT(
	    VIRTIO_NET_F_HOST_TSO6), 3000));
	h.gso_size = 0;
	CHECK(!vtnet_tx_hdr_ok(&h, all, 3000));
	h.gso_size = 1440;
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	CHECK(!vtnet_tx_hdr_ok(&h, all, 3000));
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	CHECK(!vtnet_tx_hdr_ok(&h, all, 3000));
	h.gso_type = 0;
	h.flags = 0x80;
	CHECK(!vtnet_tx_hdr_ok(&h, all, 3000));
}

/*
 * Fuzz the TX split and the RX iov over random segment layouts, each
 * segment in its own guard-paged mapping, checking every iovec stays in
 * its segment and the bytes come out in order.
 */
TEST(vtnet_frame_fuzz)
{
	enum { NSEG = 12, SEGMAX = 300 };
	struct vq_seg segs[NSEG];
	struct iovec iov[NSEG];
	void *map[NSEG];
	size_t maplen[NSEG];
	uint8_t *end[NSEG];
	struct virtio_net_hdr h;
	unsigned seed = 12345;
	uint8_t out[NSEG * SEGMAX];

	for (int i = 0; i < NSEG; i++) {
		/* Each segment ends where a guard page begins. */
		uint8_t *p = fx_guarded(FX_PAGE, &map[i], &maplen[i]);

		end[i] = p ? p + FX_PAGE : NULL;
		CHECK(p != NULL);
		if (p == NULL)
			return;
	}
	for (int round = 0; round < 2000; round++) {
		int n = 1 + (int)(rand_r(&seed) % NSEG), r, k;
		size_t total = 0, flen = 0, off = 0;
		unsigned hl = rand_r(&seed) & 1 ? 12 : 10;

		for (int i = 0; i < n; i++) {
			segs[i].len = rand_r(&seed) % (SEGMAX + 1);
			segs[i].write = rand_r(&seed) % 5 == 0;
			segs[i].base = end[i] - segs[i].len;
			for (uint32_t j = 0; j < segs[i].len; j++)
				((uint8_t *)segs[i].base)[j] =
				    (uint8_t)(total + j);
			if (!segs[i].write)
				total += segs[i].len;
		}
		r = vtnet_tx_split(segs, n, hl, &h, iov, NSEG, &flen);
		if (total < hl + VTNET_MIN_FRAME) {
			CHECK_EQ(r, -EINVAL);
			continue;
		}
		CHECK(r >= 0);
		if (r < 0)
			continue;
		CHECK_EQ(flen, total - hl);
		for (k = 0; k < r; k++) {
			bool inside = false;

			for (int i = 0; i < n; i++)
				inside |= !segs[i].write &&
				    (uint8_t *)iov[k].iov_base >=
				    (uint8_t *)segs[i].base &&
				    (uint8_t *)iov[k].iov_base +
				    iov[k].iov_len <=
				    (uint8_t *)segs[i].base + segs[i].len;
			CHECK(inside);
			memcpy(out + off, iov[k].iov_base, iov[k].iov_len);
			off += iov[k].iov_len;
		}
		CHECK_EQ(off, flen);
		for (size_t j = 0; j < flen; j++)
			if (out[j] != (uint8_t)(hl + j)) {
				CHECK(out[j] == (uint8_t)(hl + j));
				break;
			}
		/* RX direction: any window of the writable bytes. */
		total = vtnet_segs_len(segs, n, true);
		off = total ? rand_r(&seed) % (total + 1) : 0;
		r = vtnet_segs_iov(segs, n, true, off, total - off, iov, NSEG);
		CHECK(r >= 0);
		r = vtnet_segs_iov(segs, n, true, off, total - off + 1, iov,
		    NSEG);
		CHECK_EQ(r, -EINVAL);
		if (total >= 12)
			CHECK_EQ(vtnet_rx_hdr(segs, n, 12, true, 3), 0);
		else
			CHECK_EQ(vtnet_rx_hdr(segs, n, 12, true, 3), -EINVAL);
	}
	for (int i = 0; i < NSEG; i++)
		if (map[i] != NULL)
			munmap(map[i], maplen[i]);
}
