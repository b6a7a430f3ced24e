/*
 * virtio_net.c - the virtio network device (bhyve's pci_virtio_net.c) on
 * khyve's virtio transport, with a packet back end (backend/net_*.c).
 *
 * Configuration (pci.B.S.F, bhyve_config(5)): backend (+ type and the
 * back end's keys), mac (default: a stable generated one), mtu (68..65535;
 * offered with VIRTIO_NET_F_MTU only when given).
 *
 * Features: MAC, STATUS (link always up), MRG_RXBUF, MTU when configured,
 * ring INDIRECT_DESC and EVENT_IDX, ANY_LAYOUT, and the checksum/TSO
 * offloads only when the back end can carry them (tap with a vnet header;
 * slirp cannot, so they are not offered there).
 *
 * Threads and locking.  Everything runs on the device's I/O thread under
 * vd.lock: TX and RX kicks arrive through ops->notify (lock held by the
 * transport); back-end readiness and our own "more work" wake-up take the
 * lock with virtio_lock().  ops->reset runs on a vCPU thread with the lock
 * held and only clears state, so it never waits for the I/O thread.
 *
 * Flow control.  RX: when the back end has a frame and the guest has no
 * buffer for it, the back end's fd is disabled (frames then queue in the
 * host and are dropped there, never here) until the guest's next RX kick.
 * TX: each wake-up sends at most VTNET_TX_BUDGET frames, then the queue
 * goes on from an eventfd wake-up, so RX and the other queue get a turn.
 *
 * Trust.  Chains come from the guest: a malformed one (the walker says
 * so) stops the queue and asks the driver to reset; a TX chain that is
 * too short, too long (over 64 KiB + headers) or asks for an offload that
 * was not negotiated is returned unsent; an RX chain too small for the
 * header is returned empty.  Frames from the back end are bounded too.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend/net_backend.h"
#include "bus/pci_emul.h"
#include "common.h"
#include "config.h"
#include "event/mevent.h"
#include "virtio/virtio.h"
#include "virtio/virtio_net.h"

#define VTNET_OFFLOADS                                                        \
	(VIRTIO_NET_BIT(VIRTIO_NET_F_CSUM) |                                  \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_CSUM) |                         \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO4) |                          \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO6) |                          \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO4) |                         \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO6))

static void vtnet_set_features(void *vsc, uint64_t negotiated);
static void vtnet_reset(void *vsc);
static void vtnet_notify(void *vsc, struct vqueue *vq);
static void vtnet_cfgread(void *vsc, uint32_t offset, int size,
    uint32_t *val);
static void vtnet_cfgwrite(void *vsc, uint32_t offset, int size,
    uint32_t val);
static void vtnet_driver_ok(void *vsc);

static const struct virtio_ops vtnet_ops_template = {
	.name = "virtio-net",
	.device_type = VIRTIO_ID_NET,
	.pci_class = 0x020000, /* network, Ethernet */
	.nqueues = VTNET_NQUEUES,
	.qsize = VTNET_QSIZE,
	.cfgsize = VTNET_CFG_SIZE,
	.features = VIRTIO_NET_BIT(VIRTIO_NET_F_MAC) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_STATUS) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_MRG_RXBUF) |
	    (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
	    (1ULL << VIRTIO_RING_F_EVENT_IDX) |
	    (1ULL << VIRTIO_F_ANY_LAYOUT),
	.set_features = vtnet_set_features,
	.reset = vtnet_reset,
	.notify = vtnet_notify,
	.cfgread = vtnet_cfgread,
	.cfgwrite = vtnet_cfgwrite,
	.driver_ok = vtnet_driver_ok,
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* ---- set-up ------------------------------------------------------------ */

int vtnet_setup(struct vtnet_softc *sc, struct config_node *cfg,
    const char *who, int bus, int slot, int func)
{
	uint8_t mac[NET_ETHER_ADDR_LEN];
	unsigned mtu = 1500;
	const char *v;
	int rc;

	snprintf(sc->who, sizeof(sc->who), "%s", who);
	sc->ops = vtnet_ops_template;
	sc->more_fd = -1;
	sc->hdrlen = VTNET_HDR_LEN_LEGACY;
	sc->vq_done = virtio_vq_done;
	sc->needs_reset = virtio_needs_reset;

	v = config_get(cfg, "mac");
	if (v != NULL) {
		if (net_parse_mac(v, mac) != 0) {
			khyve_warnx("%s: bad mac \"%s\" (expected "
			    "xx:xx:xx:xx:xx:xx, unicast, not all zero)", who, v);
			return -EINVAL;
		}
	} else {
		net_gen_mac(config_get(NULL, "name"), bus, slot, func, mac);
	}
	v = config_get(cfg, "mtu");
	if (v != NULL) {
		if (net_parse_mtu(v, VTNET_MIN_MTU, VTNET_MAX_MTU, &mtu)) {
			khyve_warnx("%s: bad mtu \"%s\" (expected %d..%d)", who,
			    v, VTNET_MIN_MTU, VTNET_MAX_MTU);
			return -EINVAL;
		}
		sc->ops.features |= VIRTIO_NET_BIT(VIRTIO_NET_F_MTU);
	}
	memcpy(sc->config + VTNET_CFG_MAC, mac, sizeof(mac));
	put16(sc->config + VTNET_CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	put16(sc->config + VTNET_CFG_MAX_VQ_PAIRS, 1);
	put16(sc->config + VTNET_CFG_MTU, (uint16_t)mtu);

	if (config_get(cfg, "backend") == NULL) {
		/* bhyve allows an unconnected interface: TX is dropped.
		 * (Checked here: a back end's own -ENOENT, e.g. no
		 * /dev/net/tun, is a start failure, not "no back end".) */
		khyve_dbg("%s: no back end, the link goes nowhere", who);
		sc->be = NULL;
	} else {
		rc = netbe_open(&sc->be, cfg, who);
		if (rc != 0)
			return rc == -ENOENT ? -ENODEV : rc;
		sc->ops.features |= netbe_get_cap(sc->be) & VTNET_OFFLOADS;
	}
	khyve_dbg("%s: mac %02x:%02x:%02x:%02x:%02x:%02x, features %#llx", who,
	    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
	    (unsigned long long)sc->ops.features);
	return 0;
}

static void vtnet_more_cb(int fd, enum mevent_type type, void *arg)
{
	struct vtnet_softc *sc = arg;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: a spurious wake-up; the flags below decide. */
	}
	virtio_lock(&sc->vd);
	if (sc->tx_more) {
		sc->tx_more = false;
		vtnet_tx(sc);
	}
	if (sc->rx_more) {
		sc->rx_more = false;
		vtnet_rx(sc);
	}
	virtio_unlock(&sc->vd);
}

static void vtnet_wake_self(struct vtnet_softc *sc)
{
	uint64_t one = 1;

	if (sc->more_fd >= 0 && write(sc->more_fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow at one per wake-up. */
	}
}

static void vtnet_rx_cb(void *arg)
{
	struct vtnet_softc *sc = arg;

	virtio_lock(&sc->vd);
	vtnet_rx(sc);
	virtio_unlock(&sc->vd);
}

int vtnet_start(struct vtnet_softc *sc, struct mevent_loop *loop)
{
	int rc;

	sc->more_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sc->more_fd < 0)
		return -errno;
	sc->more_ev = mevent_add(loop, sc->more_fd, EVF_READ, vtnet_more_cb,
	    sc);
	if (sc->more_ev == NULL)
		return -errno;
	if (sc->be != NULL) {
		rc = netbe_start(sc->be, loop, vtnet_rx_cb, sc);
		if (rc != 0) {
			khyve_warnx("%s: cannot watch the back end: %s",
			    sc->who, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void vtnet_stop(struct vtnet_softc *sc)
{
	if (sc->more_ev != NULL)
		mevent_delete(sc->more_ev);
	sc->more_ev = NULL;
	netbe_stop(sc->be);
}

void vtnet_teardown(struct vtnet_softc *sc)
{
	vtnet_stop(sc);
	if (sc->more_fd >= 0)
		close(sc->more_fd);
	sc->more_fd = -1;
	netbe_close(sc->be);
	sc->be = NULL;
}

/* ---- transport callbacks (lock held) ----------------------------------- */

static void vtnet_rx_forget(struct vtnet_softc *sc)
{
	/* The chains' heads go back with the queue reset, not one by one. */
	sc->rx_nchains = 0;
	sc->rx_nsegs = 0;
}

static void vtnet_set_features(void *vsc, uint64_t negotiated)
{
	struct vtnet_softc *sc = vsc;
	int rc;

	sc->features = negotiated;
	sc->merge = negotiated & VIRTIO_NET_BIT(VIRTIO_NET_F_MRG_RXBUF);
	/* Modern drivers always use the 12-byte header (spec 5.1.6). */
	sc->hdrlen = sc->merge || (negotiated >> VIRTIO_F_VERSION_1 & 1) ?
	    VTNET_HDR_LEN : VTNET_HDR_LEN_LEGACY;
	sc->ready = true;
	if (sc->be == NULL)
		return;
	rc = netbe_set_cap(sc->be, negotiated & VTNET_OFFLOADS, sc->hdrlen);
	if (rc != 0 || (sc->be->be_hdrlen != 0 &&
	    sc->be->be_hdrlen != sc->hdrlen)) {
		/* Frames would be misframed: stop rather than corrupt. */
		khyve_warnx("%s: the back end refused a %u-byte header: %s",
		    sc->who, sc->hdrlen, strerror(rc ? -rc : EPROTO));
		sc->ready = false;
		sc->needs_reset(&sc->vd);
	}
}

static void vtnet_reset(void *vsc)
{
	struct vtnet_softc *sc = vsc;

	sc->ready = false;
	sc->merge = false;
	sc->features = 0;
	sc->hdrlen = VTNET_HDR_LEN_LEGACY;
	sc->rx_waiting = false;
	sc->tx_more = sc->rx_more = false;
	vtnet_rx_forget(sc);
	if (sc->be != NULL)
		netbe_rx_disable(sc->be);
}

static void vtnet_rx_kick(struct vtnet_softc *sc)
{
	struct vqueue *vq = &sc->vd.vq[VTNET_RXQ];

	if (!sc->ready || sc->be == NULL)
		return;
	/* The back end's readiness drives RX from now on; the guest's
	 * kicks are only needed again once we run out of buffers. */
	sc->rx_waiting = false;
	vq_notifications(vq, false);
	netbe_rx_enable(sc->be);
	vtnet_rx(sc);
}

static void vtnet_notify(void *vsc, struct vqueue *vq)
{
	struct vtnet_softc *sc = vsc;

	if (vq->index == VTNET_TXQ)
		vtnet_tx(sc);
	else if (vq->index == VTNET_RXQ)
		vtnet_rx_kick(sc);
}

static void vtnet_driver_ok(void *vsc)
{
	struct vtnet_softc *sc = vsc;

	vtnet_rx_kick(sc);
	vtnet_tx(sc);
}

static void vtnet_cfgread(void *vsc, uint32_t offset, int size,
    uint32_t *val)
{
	struct vtnet_softc *sc = vsc;

	*val = 0;
	if (offset < VTNET_CFG_SIZE && size > 0 && size <= 4 &&
	    offset + (uint32_t)size <= VTNET_CFG_SIZE)
		memcpy(val, sc->config + offset, (size_t)size);
}

static void vtnet_cfgwrite(void *vsc, uint32_t offset, int size,
    uint32_t val)
{
	struct vtnet_softc *sc = vsc;

	/* Legacy drivers may set the MAC here (bhyve allows it); the rest
	 * of the configuration is read-only. */
	if (size > 0 && size <= 4 &&
	    offset + (uint32_t)size <= NET_ETHER_ADDR_LEN)
		memcpy(sc->config + offset, &val, (size_t)size);
}

/* ---- transmit ---------------------------------------------------------- */

static void vtnet_tx_one(struct vtnet_softc *sc, int nsegs)
{
	struct virtio_net_hdr hdr;
	struct iovec *iov = sc->iov + 1;
	unsigned bh;
	size_t flen;
	ssize_t r;
	int cnt;

	cnt = vtnet_tx_split(sc->segs, nsegs, sc->hdrlen, &hdr, iov,
	    VTNET_MAXSEGS, &flen);
	if (cnt < 0 || sc->be == NULL ||
	    !vtnet_tx_hdr_ok(&hdr, sc->features, flen)) {
		sc->tx_drops++;
		return;
	}
	bh = sc->be->be_hdrlen;
	if (bh != 0) {
		/* Our checked copy of the header, not the guest's buffer. */
		iov = sc->iov;
		iov[0].iov_base = &hdr;
		iov[0].iov_len = bh;
		cnt++;
	}
	if (cnt > IOV_MAX) {
		/* Too many pieces for one writev: gather them. */
		memcpy(sc->txbuf, &hdr, bh);
		vq_segs_read(sc->segs, nsegs, sc->hdrlen, sc->txbuf + bh, flen);
		iov = sc->iov;
		iov[0].iov_base = sc->txbuf;
		iov[0].iov_len = bh + flen;
		cnt = 1;
	}
	r = netbe_send(sc->be, iov, cnt);
	if (r < 0)
		sc->tx_drops++;
	else
		sc->tx_frames++;
}

void vtnet_tx(struct vtnet_softc *sc)
{
	struct vqueue *vq = &sc->vd.vq[VTNET_TXQ];
	int budget = VTNET_TX_BUDGET;
	uint16_t head;
	int n;

	if (!sc->ready || !vq->enabled || vq->broken)
		return;
	vq_notifications(vq, false);
	for (;;) {
		while (budget > 0 &&
		    (n = vq_getchain(vq, sc->segs, VTNET_MAXSEGS, &head)) != 0) {
			if (n < 0) {
				/* The walker marked the queue broken. */
				sc->needs_reset(&sc->vd);
				sc->vq_done(&sc->vd, vq);
				return;
			}
			vtnet_tx_one(sc, n);
			/* TX buffers are only read: 0 bytes written. */
			vq_relchain(vq, head, 0);
			budget--;
		}
		if (budget == 0) {
			/* Kicks stay off: we come back by ourselves. */
			sc->tx_more = true;
			vtnet_wake_self(sc);
			break;
		}
		vq_notifications(vq, true);
		if (!vq_has_descs(vq))
			break;
		vq_notifications(vq, false);
	}
	sc->vq_done(&sc->vd, vq);
}

/* ---- receive ----------------------------------------------------------- */

/*
 * Take one more chain into the cache.  1: taken; 0: the guest has none;
 * -ENOSPC: the pool is too full for it (given back); -EBADMSG: the queue
 * is broken.
 */
static int vtnet_rx_take(struct vtnet_softc *sc, struct vqueue *vq)
{
	struct vtnet_rxchain *c;
	uint16_t head;
	size_t cap;
	int n, w;

	for (;;) {
		n = vq_getchain(vq, sc->segs, VTNET_MAXSEGS, &head);
		if (n <= 0)
			return n == 0 ? 0 : -EBADMSG;
		cap = vtnet_segs_len(sc->segs, n, true);
		if (cap >= sc->hdrlen)
			break;
		/* No room even for the header (a driver bug): give it back
		 * empty and try the next one. */
		vq_relchain(vq, head, 0);
	}
	for (int i = w = 0; i < n; i++)
		w += sc->segs[i].write && sc->segs[i].len != 0;
	if (w > VTNET_RX_POOL - sc->rx_nsegs) {
		vq_retchain(vq);
		return -ENOSPC;
	}
	c = &sc->rx_chain[sc->rx_nchains];
	c->head = head;
	c->seg0 = (uint32_t)sc->rx_nsegs;
	c->nsegs = (uint16_t)w;
	for (int i = 0; i < n; i++)
		if (sc->segs[i].write && sc->segs[i].len != 0)
			sc->rx_pool[sc->rx_nsegs++] = sc->segs[i];
	sc->rx_cap[sc->rx_nchains] = cap > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)cap;
	sc->rx_nchains++;
	return 1;
}

/*
 * Make room for `need` bytes.  Returns the chains to use (lens filled),
 * 0 if the guest has no more buffers, -EMSGSIZE if the frame cannot fit
 * what the guest gives (drop it), -EBADMSG if the queue broke.
 */
static int vtnet_rx_gather(struct vtnet_softc *sc, struct vqueue *vq,
    size_t need, uint32_t *lens)
{
	int n, r;

	for (;;) {
		n = vtnet_rx_plan(sc->rx_cap, sc->rx_nchains, need, sc->merge,
		    lens);
		if (n > 0)
			return n;
		if ((!sc->merge && sc->rx_nchains > 0) ||
		    sc->rx_nchains == VTNET_RX_MAXCHAINS)
			return -EMSGSIZE;
		r = vtnet_rx_take(sc, vq);
		if (r <= 0)
			return r == -ENOSPC ? -EMSGSIZE : r;
	}
}

/* Drop the first n chains of the cache (they were used). */
static void vtnet_rx_pop(struct vtnet_softc *sc, int n)
{
	uint32_t segs;

	if (n >= sc->rx_nchains) {
		vtnet_rx_forget(sc);
		return;
	}
	segs = sc->rx_chain[n].seg0;
	memmove(sc->rx_pool, sc->rx_pool + segs,
	    (size_t)(sc->rx_nsegs - (int)segs) * sizeof(sc->rx_pool[0]));
	sc->rx_nsegs -= (int)segs;
	memmove(sc->rx_chain, sc->rx_chain + n,
	    (size_t)(sc->rx_nchains - n) * sizeof(sc->rx_chain[0]));
	memmove(sc->rx_cap, sc->rx_cap + n,
	    (size_t)(sc->rx_nchains - n) * sizeof(sc->rx_cap[0]));
	sc->rx_nchains -= n;
	for (int i = 0; i < sc->rx_nchains; i++)
		sc->rx_chain[i].seg0 -= segs;
}

/* Receive one frame of `plen` bytes into the cached chains. */
static int vtnet_rx_one(struct vtnet_softc *sc, struct vqueue *vq,
    size_t plen, unsigned prepend, const uint32_t *lens, int nused)
{
	struct vtnet_rxchain *c0 = &sc->rx_chain[0];
	int cnt = 0, k;
	ssize_t r;

	for (int i = 0; i < nused; i++) {
		struct vtnet_rxchain *c = &sc->rx_chain[i];
		size_t skip = i == 0 ? prepend : 0;

		k = vtnet_segs_iov(sc->rx_pool + c->seg0, c->nsegs, true, skip,
		    lens[i] - skip, sc->iov + cnt, VTNET_MAXSEGS - cnt);
		if (k < 0)
			return k; /* cannot happen: the pool fits the iov */
		cnt += k;
	}
	r = netbe_recv(sc->be, sc->iov, cnt);
	if (r != (ssize_t)plen)
		return -EIO; /* the frame vanished or changed: keep chains */
	vtnet_rx_hdr(sc->rx_pool + c0->seg0, c0->nsegs, sc->hdrlen,
	    prepend != 0, (uint16_t)nused);
	for (int i = 0; i < nused; i++)
		vq_relchain(vq, sc->rx_chain[i].head, lens[i]);
	vtnet_rx_pop(sc, nused);
	return 0;
}

void vtnet_rx(struct vtnet_softc *sc)
{
	struct vqueue *vq = &sc->vd.vq[VTNET_RXQ];
	uint32_t lens[VTNET_RX_MAXCHAINS];
	int budget = VTNET_RX_BUDGET;
	unsigned bh, prepend;
	ssize_t plen;
	int n;

	if (sc->be == NULL)
		return;
	if (!sc->ready || !vq->enabled || vq->broken) {
		netbe_rx_disable(sc->be);
		return;
	}
	bh = sc->be->be_hdrlen;
	prepend = sc->hdrlen - bh; /* set_features: bh is 0 or hdrlen */
	while (budget-- > 0) {
		plen = netbe_peek_recvlen(sc->be);
		if (plen <= 0)
			break;
		if ((size_t)plen < bh + VTNET_MIN_FRAME ||
		    (size_t)plen - bh > VTNET_MAX_FRAME) {
			netbe_rx_discard(sc->be);
			sc->rx_drops++;
			continue;
		}
		n = vtnet_rx_gather(sc, vq, (size_t)plen + prepend, lens);
		if (n == -EMSGSIZE) {
			netbe_rx_discard(sc->be);
			sc->rx_drops++;
			continue;
		}
		if (n == -EBADMSG) {
			netbe_rx_disable(sc->be);
			sc->needs_reset(&sc->vd);
			break;
		}
		if (n == 0) {
			/* Out of buffers: ask for a kick, check once more. */
			vq_notifications(vq, true);
			if (vq_has_descs(vq)) {
				vq_notifications(vq, false);
				continue;
			}
			netbe_rx_disable(sc->be);
			sc->rx_waiting = true;
			break;
		}
		if (vtnet_rx_one(sc, vq, (size_t)plen, prepend, lens, n) != 0)
			sc->rx_drops++;
		else
			sc->rx_frames++;
	}
	if (budget < 0 && !sc->rx_waiting) {
		/* A frame may wait in a bounce buffer with the fd quiet. */
		sc->rx_more = true;
		vtnet_wake_self(sc);
	}
	sc->vq_done(&sc->vd, vq);
}

/* ---- PCI --------------------------------------------------------------- */

static int vtnet_pe_init(struct pci_devinst *pi, struct config_node *cfg)
{
	struct vtnet_softc *sc;
	char who[48];
	int rc;

	snprintf(who, sizeof(who), "virtio-net %d:%d:%d", pi->pi_bus,
	    pi->pi_slot, pi->pi_func);
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	rc = vtnet_setup(sc, cfg, who, pi->pi_bus, pi->pi_slot, pi->pi_func);
	if (rc != 0)
		goto fail;
	rc = virtio_dev_init(&sc->vd, &sc->ops, sc, pi, cfg);
	if (rc != 0)
		goto fail;
	rc = vtnet_start(sc, virtio_dev_loop(&sc->vd));
	if (rc != 0) {
		vtnet_stop(sc);
		virtio_dev_fini(&sc->vd);
		goto fail;
	}
	return 0;
fail:
	vtnet_teardown(sc);
	free(sc);
	return rc;
}

static void vtnet_pe_fini(struct pci_devinst *pi)
{
	struct virtio_dev *vd = pi->pi_arg;
	struct vtnet_softc *sc;

	if (vd == NULL)
		return;
	sc = vd->sc;
	vtnet_stop(sc);
	virtio_dev_fini(vd); /* joins the I/O thread */
	vtnet_teardown(sc);
	free(sc);
}

static const struct pci_devemu vtnet_devemu = {
	.pe_emu = "virtio-net",
	.pe_help = "network: tapN | tap=IFNAME | slirp[,hostfwd=RULE[;RULE...]]"
	    "[,open] [,mac=xx:xx:xx:xx:xx:xx] [,mtu=N]",
	.pe_legacy_config = netbe_legacy_config,
	.pe_init = vtnet_pe_init,
	.pe_fini = vtnet_pe_fini,
	.pe_cfgread = virtio_pci_cfgread,
	.pe_cfgwrite = virtio_pci_cfgwrite,
	.pe_barread = virtio_pci_barread,
	.pe_barwrite = virtio_pci_barwrite,
	.pe_baraddr = virtio_pci_baraddr,
};
PCI_EMUL_SET(vtnet_devemu);
