/*
 * virtio_console_fuzz.c - virtio-console request handling (src/virtio/
 * virtio_console_proto.c): the control queues (guest -> device messages
 * parsed and applied, device -> guest messages encoded into the guest's
 * buffers) and the data queues of two ports whose host clients are
 * socketpairs, as test_virtio_console.c sets them up.  Chains come from
 * ring.h; control messages are mostly well-formed (an 8-byte header with
 * a known event and a port id near the configured ones, from the input).
 *
 * Queues: 0/1 port 0 rx/tx, 2/3 control rx/tx, 4/5 port 1 rx/tx, each a
 * 64-entry ring in one fake RAM with guard pages.
 *
 * Input: a byte (multiport, console port, port 1 enabled), then
 * operations: control messages from the guest, control buffers for the
 * device, port data in both directions, a client hanging up, a device
 * reset, hostile ring events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "loader_fixture.h"
#include "ring.h"
#include "virtio/virtio_console.h"

#define NQ 6
#define RAM (1 * MiB)
#define QBASE(q) (0x10000ULL * ((q) + 1)) /* desc; avail +0x1000, used +0x2000 */
#define IND_LO 0x70000ULL
#define IND_HI 0x80000ULL
#define BUF_LO 0x80000ULL

static struct vtcon sc;

/* Run a worker until it stops asking to come back (bounded). */
static void run(int (*fn)(struct vtcon_port *, struct vqueue *, bool *),
    struct vtcon_port *p, struct vqueue *vq)
{
	bool ret = false;
	int rc, n = 0;

	do {
		rc = fn(p, vq, &ret);
		if (rc < -EBADMSG || rc > VTCON_CLOSED)
			abort();
	} while (rc == VTCON_MORE && ++n < 8);
	(void)vq_need_interrupt(vq);
}

static void ctl_rx(struct vqueue *vq)
{
	uint32_t opened;
	bool ret = false;
	int rc, n = 0;

	do {
		rc = vtcon_ctl_receive(&sc, vq, &opened, &ret);
	} while (rc == VTCON_MORE && ++n < 8);
}

static void ctl_flush(struct vqueue *vq)
{
	bool ret = false;
	int rc, n = 0;

	do {
		rc = vtcon_ctl_flush(&sc, vq, &ret);
	} while (rc == VTCON_MORE && ++n < 8);
}

/* Overwrite the head buffer of the chain just built with a control
 * message (unless the input wants raw bytes). */
static void put_ctl(struct fzr *r, uint16_t head, struct fz *f)
{
	static const uint16_t events[8] = {
		VIRTIO_CONSOLE_DEVICE_READY, VIRTIO_CONSOLE_PORT_READY,
		VIRTIO_CONSOLE_PORT_OPEN, VIRTIO_CONSOLE_PORT_OPEN,
		VIRTIO_CONSOLE_PORT_READY, VIRTIO_CONSOLE_RESIZE,
		VIRTIO_CONSOLE_PORT_NAME, 0xffff,
	};
	uint8_t c = fz_u8(f), m[8], d[16];
	uint64_t addr;
	uint32_t len, id;
	uint16_t flags, ev, val;

	if (c & 0x80)
		return;
	if (gmem_read(r->m, r->desc + 16ULL * head, d, 16) != 0)
		return;
	memcpy(&addr, d, 8);
	memcpy(&len, d + 8, 4);
	memcpy(&flags, d + 12, 2);
	if ((flags & (VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT)) || len < 8)
		return;
	id = (c & 0x40) ? fz_u32(f) : (c >> 3) & 3;
	ev = events[c & 7];
	val = (c & 0x20) ? fz_u16(f) : 1;
	memcpy(m, &id, 4);
	memcpy(m + 4, &ev, 2);
	memcpy(m + 6, &val, 2);
	(void)gmem_write(r->m, addr, m, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[8192];
	struct fx_mem mem;
	struct fzr r[NQ];
	struct vqueue *vq = sc.vd.vq;
	int peer[2] = { -1, -1 };
	struct fz f;
	uint8_t c;

	fz_init(&f, data, size);
	c = fz_u8(&f);
	if (fx_init(&mem, RAM, 0) != 0)
		abort();
	memset(&sc, 0, sizeof(sc));
	sc.multiport = (c & 1) != 0;
	sc.max_nr_ports = 2;
	for (int i = 0; i < VTCON_MAXPORTS; i++) {
		struct vtcon_port *p = &sc.port[i];

		p->sc = &sc;
		p->id = (uint32_t)i;
		p->lfd = p->cfd = p->wfd = -1;
		p->enabled = i == 0 || (i == 1 && !(c & 4));
		snprintf(p->name, sizeof(p->name), "port%d", i);
	}
	sc.port[(c >> 1) & 1].console = true;
	for (int i = 0; i < 2; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
			abort();
		sc.port[i].cfd = sv[0];
		peer[i] = sv[1];
	}
	for (int q = 0; q < NQ; q++) {
		vq[q].mem = &mem.m;
		vq_reset(&vq[q]);
		vq[q].index = (uint16_t)q;
		vq[q].size = VTCON_QSIZE;
		vq[q].desc_gpa = QBASE(q);
		vq[q].avail_gpa = QBASE(q) + 0x1000;
		vq[q].used_gpa = QBASE(q) + 0x2000;
		vq[q].indirect = (c & 8) != 0;
		vq[q].event_idx = (c & 16) != 0;
		if (vq_enable(&vq[q]) != 0)
			abort();
		fzr_init(&r[q], &mem.m, QBASE(q), QBASE(q) + 0x1000,
		    VTCON_QSIZE, vq[q].indirect,
		    IND_LO + 0x2000ULL * (uint64_t)q,
		    IND_LO + 0x2000ULL * (uint64_t)(q + 1), BUF_LO, RAM, RAM);
	}
	(void)IND_HI;
	while (fz_more(&f)) {
		uint8_t op = fz_u8(&f);
		int n = ((op >> 3) & 3) + 1, port = (op >> 5) & 1;
		struct vtcon_port *p = &sc.port[port];
		int rxq = vtcon_rxq(p->id), txq = vtcon_txq(p->id);
		size_t len;

		switch (op & 7) {
		case 0:
			for (int i = 0; i < n; i++)
				put_ctl(&r[VTCON_CTRL_TXQ],
				    fzr_chain(&r[VTCON_CTRL_TXQ], &f), &f);
			ctl_rx(&vq[VTCON_CTRL_TXQ]);
			break;
		case 1:
			for (int i = 0; i < n; i++)
				(void)fzr_chain(&r[VTCON_CTRL_RXQ], &f);
			ctl_flush(&vq[VTCON_CTRL_RXQ]);
			break;
		case 2:
			for (int i = 0; i < n; i++)
				(void)fzr_chain(&r[txq], &f);
			run(vtcon_port_tx, p, &vq[txq]);
			if (op & 0x80)
				while (peer[port] >= 0 &&
				    read(peer[port], buf, sizeof(buf)) > 0)
					;
			break;
		case 3:
			len = fz_bytes(&f, buf, fz_u8(&f));
			if (peer[port] >= 0 && len > 0)
				(void)send(peer[port], buf, len,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
			for (int i = 0; i < n - 1; i++)
				(void)fzr_chain(&r[rxq], &f);
			run(vtcon_port_rx, p, &vq[rxq]);
			break;
		case 4:
			if (op & 0x80) {
				vtcon_port_hangup(p);
			} else if (peer[port] >= 0) {
				close(peer[port]);
				peer[port] = -1;
			}
			break;
		case 5:
			vtcon_reset_state(&sc);
			break;
		default:
			fzr_hostile(&r[(op >> 3) % NQ], &f);
			break;
		}
	}
	for (int i = 0; i < VTCON_MAXPORTS; i++)
		vtcon_port_hangup(&sc.port[i]);
	for (int i = 0; i < 2; i++)
		if (peer[i] >= 0)
			close(peer[i]);
	fx_fini(&mem);
	return 0;
}
