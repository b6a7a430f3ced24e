/*
 * virtio_console_proto.c - the virtio console's control protocol (virtio
 * 1.2 section 5.3.6.2) and its data paths between virtqueues and the
 * ports' Unix-socket clients.  No threads or locks of its own: callers
 * hold vd->lock (see virtio_console.h).
 *
 * Control flow with a multiport driver (Linux's, FreeBSD's):
 *   guest DEVICE_READY(1)      -> we send DEVICE_ADD for every port
 *   guest PORT_READY(id, 1)    -> CONSOLE_PORT (console ports), PORT_NAME,
 *                                 PORT_OPEN(1) if a client is connected
 *   client connects / leaves   -> PORT_OPEN(id, 1 / 0)
 *   guest PORT_OPEN(id, 1 / 0) -> data to the guest may flow / stops
 * What the device owes the guest is kept as per-port flags rather than a
 * message queue, so it is bounded by the number of ports whatever the
 * guest does, and a guest short of control buffers only delays it.
 *
 * Trust boundary: control messages and chains are guest input.  A message
 * is read through vq_segs_read() (any split, short ones ignored), ids are
 * bounded by VTCON_MAXPORTS and must name a configured port, and every
 * loop over a queue is bounded by VTCON_BUDGET.  Data is moved between
 * guest buffers and the socket directly (sendmsg/recvmsg on the segments
 * the walker checked), never staged in host memory: a guest that writes
 * faster than the client reads keeps its chain until the socket drains.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"
#include "event/mevent.h"
#include "virtio/virtio_console.h"

static struct vtcon_port *port_by_id(struct vtcon *sc, uint32_t id)
{
	if (id >= VTCON_MAXPORTS || !sc->port[id].enabled)
		return NULL;
	return &sc->port[id];
}

void vtcon_reset_state(struct vtcon *sc)
{
	sc->multiport = false;
	sc->device_ready = false;
	for (int i = 0; i < VTCON_MAXPORTS; i++) {
		struct vtcon_port *p = &sc->port[i];

		p->guest_ready = false;
		p->guest_open = false;
		p->pending = 0;
		/* The rings are gone: forget the chain, never touch it again. */
		p->tx_held = false;
		p->tx_nsegs = 0;
		p->tx_off = 0;
	}
}

/* ---- control messages ---------------------------------------------- */

int vtcon_ctl_parse(const struct vq_seg *segs, int nsegs,
    struct vtcon_ctl *m)
{
	uint8_t b[VTCON_CTL_SIZE];

	/* Copy first: the guest may rewrite the buffer while we decode. */
	if (vq_segs_read(segs, nsegs, 0, b, sizeof(b)) != sizeof(b))
		return -EINVAL;
	m->id = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
	m->event = (uint16_t)(b[4] | b[5] << 8);
	m->value = (uint16_t)(b[6] | b[7] << 8);
	return 0;
}

int vtcon_ctl_handle(struct vtcon *sc, const struct vtcon_ctl *m)
{
	struct vtcon_port *p;
	bool was;

	switch (m->event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (m->value != 1) {
			khyve_dbg("virtio-console: the driver failed to set up");
			return -1;
		}
		/* (Re)announce every port; the guest forgot them all. */
		sc->device_ready = true;
		for (int i = 0; i < VTCON_MAXPORTS; i++) {
			p = &sc->port[i];
			p->guest_ready = p->guest_open = false;
			p->pending = p->enabled ? VTCON_SEND_ADD : 0;
		}
		return -1;
	case VIRTIO_CONSOLE_PORT_READY:
		p = port_by_id(sc, m->id);
		if (p == NULL || !sc->device_ready ||
		    (p->pending & VTCON_SEND_ADD)) {
			khyve_dbg("virtio-console: PORT_READY for port %u "
			    "ignored", m->id);
			return -1;
		}
		if (m->value != 1) {
			khyve_dbg("virtio-console: the guest could not add "
			    "port %u", m->id);
			p->guest_ready = false;
			return -1;
		}
		p->guest_ready = true;
		p->pending |= VTCON_SEND_NAME;
		if (p->console)
			p->pending |= VTCON_SEND_CONSOLE;
		if (p->cfd >= 0)
			p->pending |= VTCON_SEND_OPEN;
		return -1;
	case VIRTIO_CONSOLE_PORT_OPEN:
		p = port_by_id(sc, m->id);
		if (p == NULL || !p->guest_ready)
			return -1;
		was = p->guest_open;
		p->guest_open = m->value != 0;
		return !was && p->guest_open ? (int)p->id : -1;
	default:
		/* Device-to-driver events or unknown ones: not ours to act on. */
		khyve_dbg("virtio-console: control event %u ignored", m->event);
		return -1;
	}
}

bool vtcon_ctl_next(struct vtcon *sc, struct vtcon_ctl *m,
    const void **payload, size_t *plen)
{
	*payload = NULL;
	*plen = 0;
	for (int i = 0; i < VTCON_MAXPORTS; i++) {
		struct vtcon_port *p = &sc->port[i];

		if (!p->enabled || p->pending == 0)
			continue;
		m->id = p->id;
		m->value = 1;
		/* DEVICE_ADD first; the rest only follows PORT_READY. */
		if (p->pending & VTCON_SEND_ADD) {
			m->event = VIRTIO_CONSOLE_DEVICE_ADD;
		} else if (p->pending & VTCON_SEND_CONSOLE) {
			m->event = VIRTIO_CONSOLE_CONSOLE_PORT;
		} else if (p->pending & VTCON_SEND_NAME) {
			m->event = VIRTIO_CONSOLE_PORT_NAME;
			/* With its NUL, as QEMU sends it. */
			*payload = p->name;
			*plen = strlen(p->name) + 1;
		} else {
			m->event = VIRTIO_CONSOLE_PORT_OPEN;
			m->value = p->cfd >= 0;
		}
		return true;
	}
	return false;
}

void vtcon_ctl_sent(struct vtcon *sc, const struct vtcon_ctl *m)
{
	struct vtcon_port *p = port_by_id(sc, m->id);

	if (p == NULL)
		return;
	switch (m->event) {
	case VIRTIO_CONSOLE_DEVICE_ADD:
		p->pending &= ~VTCON_SEND_ADD;
		break;
	case VIRTIO_CONSOLE_CONSOLE_PORT:
		p->pending &= ~VTCON_SEND_CONSOLE;
		break;
	case VIRTIO_CONSOLE_PORT_NAME:
		p->pending &= ~VTCON_SEND_NAME;
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		p->pending &= ~VTCON_SEND_OPEN;
		break;
	}
}

int vtcon_ctl_encode(const struct vq_seg *segs, int nsegs,
    const struct vtcon_ctl *m, const void *payload, size_t plen)
{
	uint8_t b[VTCON_CTL_SIZE];
	size_t n;

	b[0] = (uint8_t)m->id;
	b[1] = (uint8_t)(m->id >> 8);
	b[2] = (uint8_t)(m->id >> 16);
	b[3] = (uint8_t)(m->id >> 24);
	b[4] = (uint8_t)m->event;
	b[5] = (uint8_t)(m->event >> 8);
	b[6] = (uint8_t)m->value;
	b[7] = (uint8_t)(m->value >> 8);
	if (vq_segs_write(segs, nsegs, 0, b, sizeof(b)) != sizeof(b))
		return -1;
	n = payload != NULL ?
	    vq_segs_write(segs, nsegs, sizeof(b), payload, plen) : 0;
	return (int)(sizeof(b) + n);
}

int vtcon_ctl_receive(struct vtcon *sc, struct vqueue *vq, uint32_t *opened,
    bool *returned)
{
	struct vq_seg segs[VTCON_QSIZE];
	struct vtcon_ctl m;
	uint16_t head;

	for (int k = 0; k < VTCON_BUDGET; k++) {
		int n = vq_getchain(vq, segs, VTCON_QSIZE, &head);

		if (n <= 0)
			return n;
		if (vtcon_ctl_parse(segs, n, &m) == 0) {
			int id = vtcon_ctl_handle(sc, &m);

			if (id >= 0)
				*opened |= 1u << id;
		} else {
			khyve_dbg("virtio-console: short control message");
		}
		vq_relchain(vq, head, 0);
		*returned = true;
	}
	return vq_has_descs(vq) ? VTCON_MORE : VTCON_DONE;
}

int vtcon_ctl_flush(struct vtcon *sc, struct vqueue *vq, bool *returned)
{
	struct vq_seg segs[VTCON_QSIZE];
	struct vtcon_ctl m;
	const void *payload;
	size_t plen;
	uint16_t head;

	if (!sc->multiport)
		return VTCON_DONE;
	for (int k = 0; k < VTCON_BUDGET; k++) {
		int n, w;

		if (!vtcon_ctl_next(sc, &m, &payload, &plen))
			return VTCON_DONE;
		n = vq_getchain(vq, segs, VTCON_QSIZE, &head);
		if (n <= 0)
			return n; /* no buffer: the guest kicks when it adds one */
		w = vtcon_ctl_encode(segs, n, &m, payload, plen);
		if (w >= 0)
			vtcon_ctl_sent(sc, &m);
		/* A buffer too small for a header goes back empty. */
		vq_relchain(vq, head, w >= 0 ? (uint32_t)w : 0);
		*returned = true;
	}
	return VTCON_MORE;
}

/* ---- data ---------------------------------------------------------- */

bool vtcon_port_can_rx(const struct vtcon_port *p)
{
	const struct vtcon *sc = p->sc;

	if (!p->enabled || p->cfd < 0)
		return false;
	/* Linux drops data for a port no guest program has open. */
	if (sc->multiport)
		return p->guest_open;
	return p->id == 0;
}

void vtcon_port_hangup(struct vtcon_port *p)
{
	if (p->rx_ev != NULL)
		mevent_delete(p->rx_ev);
	if (p->tx_ev != NULL)
		mevent_delete(p->tx_ev);
	p->rx_ev = p->tx_ev = NULL;
	if (p->cfd >= 0)
		close(p->cfd);
	if (p->wfd >= 0)
		close(p->wfd);
	p->cfd = p->wfd = -1;
	p->rx_paused = p->tx_blocked = false;
	if (p->guest_ready)
		p->pending |= VTCON_SEND_OPEN;
}

int vtcon_port_rx(struct vtcon_port *p, struct vqueue *vq, bool *returned)
{
	struct vq_seg segs[VTCON_QSIZE];
	struct iovec iov[VTCON_QSIZE];
	uint16_t head;

	if (p->cfd < 0)
		return VTCON_DONE;
	if (!vtcon_port_can_rx(p))
		return VTCON_WAIT;
	for (int k = 0; k < VTCON_BUDGET; k++) {
		struct msghdr msg = { .msg_iov = iov };
		int n = vq_getchain(vq, segs, VTCON_QSIZE, &head);
		ssize_t r;

		if (n == 0)
			return VTCON_WAIT; /* the guest kicks when it adds some */
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			/* Zero-length: recvmsg would say 0, i.e. "EOF". */
			if (!segs[i].write || segs[i].len == 0)
				continue;
			iov[msg.msg_iovlen].iov_base = segs[i].base;
			iov[msg.msg_iovlen].iov_len = segs[i].len;
			msg.msg_iovlen++;
		}
		if (msg.msg_iovlen == 0) {
			vq_relchain(vq, head, 0); /* nowhere to put data */
			*returned = true;
			continue;
		}
		r = recvmsg(p->cfd, &msg, MSG_DONTWAIT);
		if (r > 0) {
			vq_relchain(vq, head, (uint32_t)r);
			*returned = true;
			continue;
		}
		vq_retchain(vq);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return VTCON_DONE;
		vtcon_port_hangup(p); /* EOF or a dead connection */
		return VTCON_CLOSED;
	}
	return VTCON_MORE;
}

/* Send the rest of the held chain.  0 all sent, -EAGAIN, or -errno. */
static int tx_send(struct vtcon_port *p)
{
	struct iovec iov[VTCON_QSIZE];

	for (;;) {
		struct msghdr msg = { .msg_iov = iov };
		size_t skip = p->tx_off;
		ssize_t r;

		for (int i = 0; i < p->tx_nsegs; i++) {
			const struct vq_seg *s = &p->tx_segs[i];

			if (s->write)
				continue;
			if (skip >= s->len) {
				skip -= s->len;
				continue;
			}
			iov[msg.msg_iovlen].iov_base = (uint8_t *)s->base + skip;
			iov[msg.msg_iovlen].iov_len = s->len - skip;
			msg.msg_iovlen++;
			skip = 0;
		}
		if (msg.msg_iovlen == 0)
			return 0;
		/* MSG_NOSIGNAL: a vanished client is EPIPE, not SIGPIPE. */
		r = sendmsg(p->cfd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			    -EAGAIN : -errno;
		}
		p->tx_off += (size_t)r;
	}
}

int vtcon_port_tx(struct vtcon_port *p, struct vqueue *vq, bool *returned)
{
	for (int k = 0; k < VTCON_BUDGET; k++) {
		if (!p->tx_held) {
			int n = vq_getchain(vq, p->tx_segs, VTCON_QSIZE,
			    &p->tx_head);

			if (n == 0)
				return VTCON_DONE;
			if (n < 0)
				return n;
			p->tx_held = true;
			p->tx_nsegs = n;
			p->tx_off = 0;
		}
		/* Without a client the data is dropped, as bhyve does. */
		if (p->cfd >= 0) {
			int rc = tx_send(p);

			if (rc == -EAGAIN)
				return VTCON_BLOCKED; /* keep the chain */
			if (rc < 0)
				vtcon_port_hangup(p); /* and drop the rest */
		}
		vq_relchain(vq, p->tx_head, 0);
		p->tx_held = false;
		*returned = true;
	}
	return vq_has_descs(vq) ? VTCON_MORE : VTCON_DONE;
}
