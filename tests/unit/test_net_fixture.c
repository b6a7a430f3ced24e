/*
 * net_fixture.c - see net_fixture.h.  Also registers the "testsock" back
 * end (only in the unit-test binary, through the same linker set as the
 * real ones).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/net_backend.h"
#include "config.h"
#include "net_fixture.h"

/* ---- the testsock back end ---------------------------------------------- */

struct ts_priv {
	int fd[2]; /* [0] ours, [1] the test's */
	bool vnethdr;
	bool rx_enabled;
};

static const char *const ts_prefixes[] = { "testsock", NULL };

static int ts_init(struct net_backend *be, const char *name,
    struct config_node *cfg, const char *who)
{
	struct ts_priv *p = netbe_priv(be);
	int fail = 0;

	/* fail=N: the host side "cannot be opened" with errno N. */
	if (config_get_int(cfg, "fail", &fail) == 0 && fail > 0)
		return -fail;
	p->vnethdr = config_bool(cfg, "vnethdr", false);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, p->fd) != 0)
		return -errno;
	be->be_hdrlen = p->vnethdr ? 10 : 0;
	return 0;
}

static int ts_start(struct net_backend *be, struct mevent_loop *loop,
    net_be_rx_cb_t *cb, void *arg)
{
	return 0;
}

static void ts_cleanup(struct net_backend *be)
{
	struct ts_priv *p = netbe_priv(be);

	close(p->fd[0]);
	close(p->fd[1]);
}

static ssize_t ts_send(struct net_backend *be, const struct iovec *iov,
    int iovcnt)
{
	struct ts_priv *p = netbe_priv(be);
	ssize_t n = writev(p->fd[0], iov, iovcnt);

	return n < 0 ? -errno : n;
}

static ssize_t ts_peek(struct net_backend *be)
{
	struct ts_priv *p = netbe_priv(be);
	ssize_t n = recv(p->fd[0], NULL, 0, MSG_PEEK | MSG_TRUNC);

	return n < 0 ? (errno == EAGAIN ? 0 : -errno) : n;
}

static ssize_t ts_recv(struct net_backend *be, const struct iovec *iov,
    int iovcnt)
{
	struct ts_priv *p = netbe_priv(be);
	ssize_t n = readv(p->fd[0], iov, iovcnt);

	return n < 0 ? (errno == EAGAIN ? 0 : -errno) : n;
}

static void ts_enable(struct net_backend *be)
{
	((struct ts_priv *)netbe_priv(be))->rx_enabled = true;
}

static void ts_disable(struct net_backend *be)
{
	((struct ts_priv *)netbe_priv(be))->rx_enabled = false;
}

static uint64_t ts_get_cap(struct net_backend *be)
{
	struct ts_priv *p = netbe_priv(be);

	return p->vnethdr ? VIRTIO_NET_BIT(VIRTIO_NET_F_CSUM) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_CSUM) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO4) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO6) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO4) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO6) : 0;
}

static int ts_set_cap(struct net_backend *be, uint64_t features,
    unsigned hdrlen)
{
	struct ts_priv *p = netbe_priv(be);

	be->be_hdrlen = p->vnethdr ? hdrlen : 0;
	return 0;
}

static const struct net_backend_ops ts_ops = {
	.type = "testsock",
	.prefixes = ts_prefixes,
	.priv_size = sizeof(struct ts_priv),
	.init = ts_init,
	.start = ts_start,
	.cleanup = ts_cleanup,
	.send = ts_send,
	.peek_recvlen = ts_peek,
	.recv = ts_recv,
	.recv_enable = ts_enable,
	.recv_disable = ts_disable,
	.get_cap = ts_get_cap,
	.set_cap = ts_set_cap,
};
NET_BACKEND_SET(ts_ops);

/* ---- the device and the driver side ------------------------------------ */

static struct nf *nf_current; /* for the transport hooks */

static void nf_done(struct virtio_dev *vd, struct vqueue *vq)
{
	(void)vq_need_interrupt(vq);
	if (nf_current != NULL && vq->index < VTNET_NQUEUES)
		nf_current->done_calls[vq->index]++;
}

static void nf_reset_hook(struct virtio_dev *vd)
{
	if (nf_current != NULL)
		nf_current->reset_calls++;
}

int nf_init(struct nf *t, uint64_t features, bool vnethdr)
{
	struct config_node *node;

	memset(t, 0, sizeof(*t));
	if (fx_init(&t->fx, NF_RAM, 0) != 0)
		return -1;
	t->bump = NF_BUFBASE;
	config_init();
	node = config_create(NULL, "pci.0.5.0");
	config_set(node, "device", "virtio-net");
	config_set(node, "backend", "testsock");
	if (vnethdr)
		config_set(node, "vnethdr", "true");
	t->sc = calloc(1, sizeof(*t->sc));
	if (t->sc == NULL ||
	    vtnet_setup(t->sc, node, "virtio-net test", 0, 5, 0) != 0)
		return -1;
	pthread_mutex_init(&t->sc->vd.lock, NULL);
	t->sc->vq_done = nf_done;
	t->sc->needs_reset = nf_reset_hook;
	nf_current = t;
	for (int i = 0; i < VTNET_NQUEUES; i++) {
		struct vqueue *vq = &t->sc->vd.vq[i];
		uint64_t base = 0x10000ULL + (uint64_t)i * 0x10000ULL;

		t->q[i].desc = base;
		t->q[i].avail = base + 0x2000;
		t->q[i].used = base + 0x3000;
		vq->mem = &t->fx.m;
		vq->index = (uint16_t)i;
		vq->size = NF_QSIZE;
		vq->desc_gpa = t->q[i].desc;
		vq->avail_gpa = t->q[i].avail;
		vq->used_gpa = t->q[i].used;
		vq->event_idx = features >> VIRTIO_RING_F_EVENT_IDX & 1;
		vq->indirect = features >> VIRTIO_RING_F_INDIRECT_DESC & 1;
		vq->msix_vector = VIRTIO_MSI_NO_VECTOR;
		if (vq_enable(vq) != 0)
			return -1;
	}
	t->sc->vd.negotiated = features;
	t->sc->ops.set_features(t->sc, features);
	t->peer = ((struct ts_priv *)netbe_priv(t->sc->be))->fd[1];
	return 0;
}

void nf_fini(struct nf *t)
{
	if (t->sc != NULL) {
		vtnet_teardown(t->sc);
		pthread_mutex_destroy(&t->sc->vd.lock);
		free(t->sc);
	}
	nf_current = NULL;
	fx_fini(&t->fx);
	config_fini();
}

uint64_t nf_alloc(struct nf *t, uint32_t len)
{
	uint64_t a = t->bump;

	t->bump = ALIGN_UP(t->bump + len, 16ULL);
	return a;
}

void nf_raw_desc(struct nf *t, int q, uint16_t i, uint64_t addr, uint32_t len,
    uint16_t flags, uint16_t next)
{
	uint8_t *d = nf_host(t, t->q[q].desc + 16ULL * i, 16);

	fx_w64(d, addr);
	fx_w32(d + 8, len);
	fx_w16(d + 12, flags);
	fx_w16(d + 14, next);
}

void nf_publish(struct nf *t, int q, uint16_t head)
{
	struct nf_queue *nq = &t->q[q];

	fx_w16(nf_host(t, nq->avail + 4 + 2ULL * (nq->avail_idx % NF_QSIZE),
	    2), head);
	nq->avail_idx++;
	/* Release: the slot and descriptors before the index, as a driver. */
	__atomic_store_n((uint16_t *)nf_host(t, nq->avail + 2, 2),
	    nq->avail_idx, __ATOMIC_RELEASE);
}

uint16_t nf_post(struct nf *t, int q, const struct nf_buf *b, int n)
{
	struct nf_queue *nq = &t->q[q];
	uint16_t head = nq->next_desc;

	for (int i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((nq->next_desc++) % NF_QSIZE);

		nf_raw_desc(t, q, d, b[i].gpa, b[i].len,
		    (uint16_t)((b[i].write ? VRING_DESC_F_WRITE : 0) |
		    (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
		    (uint16_t)((d + 1) % NF_QSIZE));
	}
	nf_publish(t, q, (uint16_t)(head % NF_QSIZE));
	return (uint16_t)(head % NF_QSIZE);
}

uint16_t nf_post_indirect(struct nf *t, int q, const struct nf_buf *b, int n)
{
	struct nf_queue *nq = &t->q[q];
	uint64_t tbl = nf_alloc(t, (uint32_t)(16 * n));
	uint16_t head = (uint16_t)((nq->next_desc++) % NF_QSIZE);

	for (int i = 0; i < n; i++) {
		uint8_t *d = nf_host(t, tbl + 16ULL * (uint64_t)i, 16);

		fx_w64(d, b[i].gpa);
		fx_w32(d + 8, b[i].len);
		fx_w16(d + 12, (uint16_t)((b[i].write ? VRING_DESC_F_WRITE :
		    0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0)));
		fx_w16(d + 14, (uint16_t)(i + 1));
	}
	nf_raw_desc(t, q, head, tbl, (uint32_t)(16 * n), VRING_DESC_F_INDIRECT,
	    0);
	nf_publish(t, q, head);
	return head;
}

uint16_t nf_used_idx(struct nf *t, int q)
{
	return FX_G16(&t->fx, t->q[q].used + 2);
}

void nf_used(struct nf *t, int q, uint16_t i, uint32_t *id, uint32_t *len)
{
	uint64_t e = t->q[q].used + 4 + 8ULL * (i % NF_QSIZE);

	*id = FX_G32(&t->fx, e);
	*len = FX_G32(&t->fx, e + 4);
}

void nf_host_send(struct nf *t, const void *frame, size_t len)
{
	if (send(t->peer, frame, len, 0) != (ssize_t)len)
		abort(); /* the test itself is broken */
}

ssize_t nf_host_recv(struct nf *t, void *buf, size_t len)
{
	ssize_t n = recv(t->peer, buf, len, MSG_DONTWAIT);

	return n < 0 ? -1 : n;
}

bool nf_rx_enabled(struct nf *t)
{
	return ((struct ts_priv *)netbe_priv(t->sc->be))->rx_enabled;
}

void nf_frame(uint8_t *f, size_t len, unsigned seed)
{
	static const uint8_t hdr[14] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0,
		0, 2, 0x08, 0x00 };

	for (size_t i = 0; i < len; i++)
		f[i] = i < sizeof(hdr) ? hdr[i] : (uint8_t)(i * 13 + seed);
}
