/*
 * virtio_console.h - internals of the virtio console device shared by
 * virtio_console.c (options, sockets, the pci_devemu), virtio_console_proto.c
 * (the control protocol and the data paths over virtqueues and sockets)
 * and the unit tests.  Not an interface for other devices.
 *
 * Queues (virtio 1.2 section 5.3.2), named from the driver's side:
 *   0 port 0 receiveq (device -> guest)    1 port 0 transmitq
 *   2 control receiveq                     3 control transmitq
 *   2(N+1) port N receiveq                 2(N+1)+1 port N transmitq
 * Without VIRTIO_CONSOLE_F_MULTIPORT only queues 0 and 1 (port 0) exist.
 *
 * Locking: everything here runs with the transport's vd->lock held (the
 * device's I/O thread, or the transport calling an op).
 */
#ifndef KHYVE_VIRTIO_VIRTIO_CONSOLE_H
#define KHYVE_VIRTIO_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "virtio/virtio.h"

struct config_node;
struct mevent;

#define VTCON_MAXPORTS 16
#define VTCON_NAME_MAX 63  /* bytes of a port name (without the NUL) */
#define VTCON_QSIZE 64     /* bhyve's ring size; also segments per chain */
#define VTCON_BUDGET 64    /* chains one callback handles before yielding */
#define VTCON_CTRL_RXQ 2
#define VTCON_CTRL_TXQ 3
#define VTCON_CFGSIZE 12   /* cols, rows, max_nr_ports, emerg_wr */

/* Feature bits and control events (virtio 1.2 sections 5.3.3, 5.3.6.2). */
#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_F_MULTIPORT 1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2
#define VIRTIO_CONSOLE_DEVICE_READY 0
#define VIRTIO_CONSOLE_DEVICE_ADD 1
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY 3
#define VIRTIO_CONSOLE_CONSOLE_PORT 4
#define VIRTIO_CONSOLE_RESIZE 5
#define VIRTIO_CONSOLE_PORT_OPEN 6
#define VIRTIO_CONSOLE_PORT_NAME 7

/* struct virtio_console_control: le32 id, le16 event, le16 value. */
#define VTCON_CTL_SIZE 8
struct vtcon_ctl {
	uint32_t id;
	uint16_t event;
	uint16_t value;
};

/* Control messages a port still owes the guest (vtcon_port.pending). */
#define VTCON_SEND_ADD 1u
#define VTCON_SEND_CONSOLE 2u
#define VTCON_SEND_NAME 4u
#define VTCON_SEND_OPEN 8u

struct vtcon;

struct vtcon_port {
	struct vtcon *sc;
	uint32_t id;
	bool enabled;  /* configured */
	bool console;  /* announced as a console (khyve's port.N.console) */
	char name[VTCON_NAME_MAX + 1];
	char *path;

	/* The guest's view. */
	bool guest_ready; /* PORT_READY(1) after our DEVICE_ADD */
	bool guest_open;  /* PORT_OPEN(1): a guest program has it open */
	unsigned pending; /* VTCON_SEND_* */

	/* The host side: listener, one client (cfd; wfd a dup for EVF_WRITE). */
	int lfd, cfd, wfd;
	bool bound;       /* we created the socket file (unlink at fini) */
	uint64_t sock_dev, sock_ino;
	struct mevent *accept_ev, *rx_ev, *tx_ev;
	bool rx_paused;   /* rx_ev disabled: the guest cannot take data now */
	bool tx_blocked;  /* tx_ev enabled: waiting for the client to read */

	/*
	 * A transmit chain taken from the guest but not yet written to a slow
	 * client.  While it is held the device takes nothing more from that
	 * queue: the guest's ring is the only buffer (bounded memory).
	 */
	bool tx_held;
	uint16_t tx_head;
	int tx_nsegs;
	size_t tx_off; /* readable bytes already sent */
	struct vq_seg tx_segs[VTCON_QSIZE];
};

struct vtcon {
	struct virtio_dev vd;
	struct virtio_ops ops; /* per device: nqueues follows max_nr_ports */
	bool multiport;        /* negotiated */
	bool device_ready;     /* DEVICE_READY(1) received */
	bool closing;          /* pe_fini started: callbacks do nothing */
	uint32_t max_nr_ports;
	struct vtcon_port port[VTCON_MAXPORTS];
};

static inline int vtcon_rxq(uint32_t id)
{
	return id == 0 ? 0 : 2 * ((int)id + 1);
}

static inline int vtcon_txq(uint32_t id)
{
	return vtcon_rxq(id) + 1;
}

/* The port a data queue belongs to, or -1 for the control queues. */
static inline int vtcon_q_port(int q)
{
	if (q == VTCON_CTRL_RXQ || q == VTCON_CTRL_TXQ)
		return -1;
	return q < 2 ? 0 : q / 2 - 1;
}

/* ---- options and configuration (virtio_console.c) ---- */

/* -s conf: "NAME=PATH[,NAME=PATH...][,transport=...]" -> port.N.name/path */
int vtcon_legacy_config(struct config_node *dev, const char *conf);
/* Read pci.B.S.F.port.N.{name,path,console} into sc (no sockets yet). */
int vtcon_config_ports(struct vtcon *sc, struct config_node *cfg);
/* Port names: 1..VTCON_NAME_MAX of [A-Za-z0-9._:-]. */
bool vtcon_name_ok(const char *name);
/* Create the listening socket at p->path (replacing a stale one). */
int vtcon_port_listen(struct vtcon_port *p);
/* Take a waiting client (drops it if one is connected).  0 or -errno. */
int vtcon_port_accept(struct vtcon_port *p);
/* Close the client and the listener; remove the socket file we made. */
void vtcon_port_close(struct vtcon_port *p);

/* ---- control protocol and data paths (virtio_console_proto.c) ---- */

/* Forget the guest's side (device reset); host connections stay. */
void vtcon_reset_state(struct vtcon *sc);

/* Decode a control message from the readable segments; 0 or -EINVAL. */
int vtcon_ctl_parse(const struct vq_seg *segs, int nsegs,
    struct vtcon_ctl *m);
/*
 * Apply a message from the guest.  Returns the id of a port the guest has
 * just opened (data may flow to it now), else -1.
 */
int vtcon_ctl_handle(struct vtcon *sc, const struct vtcon_ctl *m);
/* The next message owed to the guest (false: none); payload for names. */
bool vtcon_ctl_next(struct vtcon *sc, struct vtcon_ctl *m,
    const void **payload, size_t *plen);
/* The message vtcon_ctl_next() gave was delivered. */
void vtcon_ctl_sent(struct vtcon *sc, const struct vtcon_ctl *m);
/*
 * Write a message (payload cut to fit) into the writable segments.
 * Returns the bytes written, or -1 if not even the header fits.
 */
int vtcon_ctl_encode(const struct vq_seg *segs, int nsegs,
    const struct vtcon_ctl *m, const void *payload, size_t plen);

/*
 * Queue workers.  Each handles at most VTCON_BUDGET chains, sets
 * *returned when a chain went back to the guest, and returns a
 * VTCON_* status below or -EBADMSG (the guest broke the queue).
 */
enum {
	VTCON_DONE = 0,    /* nothing more to do now */
	VTCON_MORE = 1,    /* budget spent, work left: come back */
	VTCON_BLOCKED = 2, /* tx: the client's socket is full */
	VTCON_WAIT = 3,    /* rx: the guest cannot take data now */
	VTCON_CLOSED = 4,  /* rx: the client went away (port hung up) */
};
/* Guest -> device control messages (control transmitq). */
int vtcon_ctl_receive(struct vtcon *sc, struct vqueue *vq, uint32_t *opened,
    bool *returned);
/* Device -> guest control messages owed (control receiveq). */
int vtcon_ctl_flush(struct vtcon *sc, struct vqueue *vq, bool *returned);
/* May client data go to the guest on this port now? */
bool vtcon_port_can_rx(const struct vtcon_port *p);
/* Client -> guest (the port's receiveq).  DONE: no client. */
int vtcon_port_rx(struct vtcon_port *p, struct vqueue *vq, bool *returned);
/*
 * Guest -> client (the port's transmitq); dropped without a client.  A
 * client that fails a write is hung up (p->cfd becomes -1).
 */
int vtcon_port_tx(struct vtcon_port *p, struct vqueue *vq, bool *returned);
/* Drop the client: events, fds; tell the guest the host side closed. */
void vtcon_port_hangup(struct vtcon_port *p);

#endif
