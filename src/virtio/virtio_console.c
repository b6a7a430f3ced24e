/*
 * virtio_console.c - the virtio console device (virtio 1.2 section 5.3),
 * bhyve's "virtio-console": up to 16 named ports, each a listening Unix
 * socket on the host that one client at a time may connect to.
 *
 *   -s 5,virtio-console,NAME=PATH[,NAME=PATH...][,transport=...]
 *
 * stores, as bhyve_config(5) spells it, pci.B.S.F.port.N.name and
 * pci.B.S.F.port.N.path for N = 0, 1, ... in the order given.  The name is
 * what the guest sees (Linux: /dev/virtio-ports/NAME).  bhyve gives the
 * name no further meaning and has no console ports; khyve adds
 * pci.B.S.F.port.N.console=true (-o only) to announce a port as a
 * console (Linux: hvcN).  The device offers VIRTIO_CONSOLE_F_MULTIPORT
 * only (no resize, no emergency write).
 *
 * Sockets are made at init, replacing only a stale socket (nothing
 * listening), and removed at fini if still ours.  Client I/O runs on the
 * device's I/O thread (virtio_dev_loop): client bytes go straight into the
 * port's receive buffers while a guest program has the port open, and
 * transmit chains go straight to the client; without a client transmitted
 * data is dropped (bhyve does the same).  See virtio_console_proto.c for
 * the protocol and the bounds on guest input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bus/pci_emul.h"
#include "common.h"
#include "config.h"
#include "event/mevent.h"
#include "virtio/virtio_console.h"

#define VTCON_PCI_CLASS 0x078000 /* simple communications, other */

/* ---- options and configuration ------------------------------------- */

bool vtcon_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= VTCON_NAME_MAX &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._:-") == n;
}

static bool path_ok(const char *path)
{
	struct sockaddr_un sa;

	return path[0] != '\0' && strlen(path) < sizeof(sa.sun_path);
}

/* One line naming the problem; the caller returns -EINVAL. */
static int bad_port(const char *what, const char *val)
{
	struct sockaddr_un sa;

	khyve_warnx("virtio-console: %s \"%s\": a port needs a name of 1 to "
	    "%d letters, digits or ._:- and a socket path of 1 to %zu bytes",
	    what, val, VTCON_NAME_MAX, sizeof(sa.sun_path) - 1);
	return -EINVAL;
}

int vtcon_legacy_config(struct config_node *dev, const char *conf)
{
	char *copy, *s, *tok, key[32];
	int n = 0, rc = 0;

	copy = s = strdup(conf);
	if (copy == NULL)
		return -ENOMEM;
	while (rc == 0 && (tok = strsep(&s, ",")) != NULL) {
		char *eq = strchr(tok, '=');

		if (eq == NULL || eq == tok) {
			khyve_warnx("virtio-console: \"%s\": expected NAME=PATH "
			    "(a port name and its Unix socket path)", tok);
			rc = -EINVAL;
			break;
		}
		*eq++ = '\0';
		if (strcmp(tok, "transport") == 0) {
			/* The transport checks the value. */
			if (config_set(dev, "transport", eq) != 0)
				rc = bad_port("transport", eq);
			continue;
		}
		if (!vtcon_name_ok(tok)) {
			rc = bad_port("port name", tok);
			break;
		}
		if (!path_ok(eq)) {
			rc = bad_port("socket path", eq);
			break;
		}
		if (n == VTCON_MAXPORTS) {
			khyve_warnx("virtio-console: too many ports (at most "
			    "%d)", VTCON_MAXPORTS);
			rc = -EINVAL;
			break;
		}
		snprintf(key, sizeof(key), "port.%d.name", n);
		if (config_set(dev, key, tok) != 0) {
			rc = bad_port("port name", tok);
			break;
		}
		snprintf(key, sizeof(key), "port.%d.path", n);
		if (config_set(dev, key, eq) != 0) {
			rc = bad_port("socket path", eq);
			break;
		}
		n++;
	}
	free(copy);
	return rc;
}

/* "0".."15", decimal digits only.  -1 otherwise. */
static int port_index(const char *s)
{
	int v = 0;

	if (*s == '\0' || strlen(s) > 2)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < VTCON_MAXPORTS ? v : -1;
}

int vtcon_config_ports(struct vtcon *sc, struct config_node *cfg)
{
	struct config_node *ports, *n;
	uint32_t max = 0;

	for (int i = 0; i < VTCON_MAXPORTS; i++) {
		sc->port[i].sc = sc;
		sc->port[i].id = (uint32_t)i;
		sc->port[i].lfd = sc->port[i].cfd = sc->port[i].wfd = -1;
	}
	ports = config_find(cfg, "port");
	if (ports != NULL && config_node_is_leaf(ports)) {
		khyve_warnx("virtio-console: \"port\" must hold port.N.name and "
		    "port.N.path");
		return -EINVAL;
	}
	for (n = ports ? config_node_first(ports) : NULL; n != NULL;
	    n = config_node_next(n)) {
		const char *idx = config_node_name(n), *name, *path;
		int id = port_index(idx);
		struct vtcon_port *p;

		if (id < 0 || config_node_is_leaf(n)) {
			khyve_warnx("virtio-console: port.%s: ports are "
			    "port.0 to port.%d, each with a name and a path",
			    idx, VTCON_MAXPORTS - 1);
			return -EINVAL;
		}
		p = &sc->port[id];
		name = config_get(n, "name");
		path = config_get(n, "path");
		if (name == NULL || path == NULL) {
			khyve_warnx("virtio-console: port.%d needs both a name "
			    "and a path", id);
			return -EINVAL;
		}
		if (!vtcon_name_ok(name))
			return bad_port("port name", name);
		if (!path_ok(path))
			return bad_port("socket path", path);
		if (config_get_bool(n, "console", &p->console) == -EINVAL)
			return -EINVAL;
		for (int j = 0; j < VTCON_MAXPORTS; j++) {
			const struct vtcon_port *o = &sc->port[j];

			if (!o->enabled)
				continue;
			if (strcmp(o->name, name) == 0 ||
			    strcmp(o->path, path) == 0) {
				khyve_warnx("virtio-console: ports %u and %d "
				    "share a name or a path", o->id, id);
				return -EINVAL;
			}
		}
		p->path = strdup(path);
		if (p->path == NULL)
			return -ENOMEM;
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->enabled = true;
		max = MAX(max, (uint32_t)id + 1);
	}
	/* A multiport driver wants at least port 0's queues. */
	sc->max_nr_ports = MAX(max, 1u);
	return 0;
}

/* ---- sockets ------------------------------------------------------- */

/* Is `path` a socket nobody listens on (left by a crashed run)? */
static bool stale_socket(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return rc < 0 && errno == ECONNREFUSED;
}

int vtcon_port_listen(struct vtcon_port *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (!path_ok(p->path))
		return bad_port("socket path", p->path);
	memcpy(sa.sun_path, p->path, strlen(p->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 && errno == EADDRINUSE && stale_socket(&sa) &&
	    unlink(sa.sun_path) == 0)
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0)
		goto fail;
	/* Remember what we made, so fini removes only that. */
	if (lstat(sa.sun_path, &st) == 0) {
		p->bound = true;
		p->sock_dev = st.st_dev;
		p->sock_ino = st.st_ino;
	}
	if (listen(fd, 1) < 0)
		goto fail;
	p->lfd = fd;
	return 0;

fail:
	rc = -errno;
	khyve_warn("virtio-console: port %s: cannot listen on %s", p->name,
	    p->path);
	if (fd >= 0)
		close(fd);
	if (p->bound)
		unlink(p->path);
	p->bound = false;
	return rc;
}

static void on_client_rx(int fd, enum mevent_type type, void *arg);
static void on_client_tx(int fd, enum mevent_type type, void *arg);

int vtcon_port_accept(struct vtcon_port *p)
{
	struct mevent_loop *loop = virtio_dev_loop(&p->sc->vd);
	int c, w, rc;

	c = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return -errno;
	if (p->cfd >= 0) {
		close(c); /* one client at a time, as bhyve */
		return -EBUSY;
	}
	w = fcntl(c, F_DUPFD_CLOEXEC, 0);
	if (w < 0) {
		rc = -errno;
		close(c);
		return rc;
	}
	p->cfd = c;
	p->wfd = w;
	p->rx_paused = p->tx_blocked = false;
	if (loop != NULL) {
		p->rx_ev = mevent_add(loop, c, EVF_READ, on_client_rx, p);
		p->tx_ev = mevent_add_disabled(loop, w, EVF_WRITE, on_client_tx,
		    p);
		if (p->rx_ev == NULL || p->tx_ev == NULL) {
			rc = -errno;
			khyve_warn("virtio-console: port %s: cannot watch a "
			    "client", p->name);
			vtcon_port_hangup(p);
			return rc;
		}
	}
	if (p->guest_ready)
		p->pending |= VTCON_SEND_OPEN;
	return 0;
}

void vtcon_port_close(struct vtcon_port *p)
{
	struct stat st;

	vtcon_port_hangup(p);
	if (p->accept_ev != NULL)
		mevent_delete(p->accept_ev);
	p->accept_ev = NULL;
	if (p->lfd >= 0)
		close(p->lfd);
	p->lfd = -1;
	/* Only if the file is still the socket we bound. */
	if (p->bound && lstat(p->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == p->sock_dev && st.st_ino == p->sock_ino)
		unlink(p->path);
	p->bound = false;
}

/* ---- glue: queues, events, interrupts (vd->lock held) --------------- */

/* Come back to queue `vq` later: after a budget, let others run. */
static void vtcon_rekick(struct vtcon *sc, struct vqueue *vq)
{
	uint64_t one = 1;
	int fd = sc->vd.kick_fd[vq->index];

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		khyve_dbg("virtio-console: cannot re-kick queue %u", vq->index);
}

static void service_ctl(struct vtcon *sc)
{
	struct vqueue *vq = &sc->vd.vq[VTCON_CTRL_RXQ];
	bool returned = false;
	int rc;

	if (!sc->multiport)
		return;
	rc = vtcon_ctl_flush(sc, vq, &returned);
	if (returned || rc < 0)
		virtio_vq_done(&sc->vd, vq);
	if (rc == VTCON_MORE)
		vtcon_rekick(sc, vq);
}

static void service_tx(struct vtcon_port *p)
{
	struct vtcon *sc = p->sc;
	struct vqueue *vq = &sc->vd.vq[vtcon_txq(p->id)];
	bool returned = false, had = p->cfd >= 0, out;
	int rc;

	rc = vtcon_port_tx(p, vq, &returned);
	if (returned || rc < 0)
		virtio_vq_done(&sc->vd, vq);
	/* Watch for the client's room only while a chain waits for it. */
	out = rc == VTCON_BLOCKED;
	if (p->tx_ev != NULL && out != p->tx_blocked) {
		if (out)
			mevent_enable(p->tx_ev);
		else
			mevent_disable(p->tx_ev);
		p->tx_blocked = out;
	}
	if (rc == VTCON_MORE)
		vtcon_rekick(sc, vq);
	if (had && p->cfd < 0)
		service_ctl(sc); /* PORT_OPEN(0) */
}

static void service_rx(struct vtcon_port *p)
{
	struct vtcon *sc = p->sc;
	struct vqueue *vq = &sc->vd.vq[vtcon_rxq(p->id)];
	bool returned = false, pause;
	int rc;

	rc = vtcon_port_rx(p, vq, &returned);
	if (returned || rc < 0)
		virtio_vq_done(&sc->vd, vq);
	if (rc == VTCON_CLOSED) {
		service_tx(p); /* release a chain held for the client */
		service_ctl(sc);
		return;
	}
	/*
	 * The socket is level-triggered: while the guest cannot take data,
	 * stop watching it (the data waits in the socket, the client blocks)
	 * and resume when the guest adds buffers or opens the port.
	 */
	pause = rc == VTCON_WAIT || rc < 0;
	if (p->rx_ev != NULL && pause != p->rx_paused) {
		if (pause)
			mevent_disable(p->rx_ev);
		else
			mevent_enable(p->rx_ev);
		p->rx_paused = pause;
	}
}

static void on_accept(int fd, enum mevent_type type, void *arg)
{
	struct vtcon_port *p = arg;
	struct vtcon *sc = p->sc;

	(void)fd;
	(void)type;
	virtio_lock(&sc->vd);
	if (!sc->closing && vtcon_port_accept(p) == 0) {
		service_ctl(sc); /* PORT_OPEN(1) */
		service_rx(p);
	}
	virtio_unlock(&sc->vd);
}

static void on_client_rx(int fd, enum mevent_type type, void *arg)
{
	struct vtcon_port *p = arg;
	struct vtcon *sc = p->sc;

	(void)type;
	virtio_lock(&sc->vd);
	if (!sc->closing && p->cfd == fd)
		service_rx(p);
	virtio_unlock(&sc->vd);
}

static void on_client_tx(int fd, enum mevent_type type, void *arg)
{
	struct vtcon_port *p = arg;
	struct vtcon *sc = p->sc;

	(void)type;
	virtio_lock(&sc->vd);
	if (!sc->closing && p->wfd == fd)
		service_tx(p);
	virtio_unlock(&sc->vd);
}

/* The guest kicked a queue (I/O thread, lock held). */
static void vtcon_notify(void *arg, struct vqueue *vq)
{
	struct vtcon *sc = arg;
	int q = vq->index, id;

	if (sc->closing)
		return;
	if (q == VTCON_CTRL_TXQ && sc->multiport) {
		uint32_t opened = 0;
		bool returned = false;
		int rc = vtcon_ctl_receive(sc, vq, &opened, &returned);

		if (returned || rc < 0)
			virtio_vq_done(&sc->vd, vq);
		for (int i = 0; i < VTCON_MAXPORTS; i++)
			if (opened & (1u << i))
				service_rx(&sc->port[i]);
		service_ctl(sc);
		if (rc == VTCON_MORE)
			vtcon_rekick(sc, vq);
		return;
	}
	if (q == VTCON_CTRL_RXQ) {
		service_ctl(sc);
		return;
	}
	id = vtcon_q_port(q);
	if (id < 0 || !sc->port[id].enabled || (!sc->multiport && id != 0))
		return; /* not a queue of a port the guest was told about */
	if (q % 2 == 0)
		service_rx(&sc->port[id]); /* new receive buffers */
	else
		service_tx(&sc->port[id]);
}

static void vtcon_set_features(void *arg, uint64_t negotiated)
{
	struct vtcon *sc = arg;

	sc->multiport = (negotiated >> VIRTIO_CONSOLE_F_MULTIPORT) & 1;
}

static void vtcon_reset(void *arg)
{
	vtcon_reset_state(arg);
}

static void vtcon_cfgread(void *arg, uint32_t offset, int size, uint32_t *val)
{
	struct vtcon *sc = arg;
	uint8_t img[VTCON_CFGSIZE] = {
		80, 0, 25, 0, /* cols, rows (meaningless without F_SIZE) */
		(uint8_t)sc->max_nr_ports, (uint8_t)(sc->max_nr_ports >> 8),
		0, 0,
		0, 0, 0, 0, /* emerg_wr */
	};

	*val = 0;
	if (size > 0 && size <= 4 && offset <= VTCON_CFGSIZE - (uint32_t)size)
		memcpy(val, img + offset, (size_t)size);
}

static void vtcon_cfgwrite(void *arg, uint32_t offset, int size, uint32_t val)
{
	/* Only emerg_wr is writable, and EMERG_WRITE is not offered. */
	(void)arg;
	(void)offset;
	(void)size;
	(void)val;
}

static const struct virtio_ops vtcon_ops = {
	.name = "virtio-console",
	.device_type = VIRTIO_ID_CONSOLE,
	.pci_class = VTCON_PCI_CLASS,
	.nqueues = 4, /* set per device from max_nr_ports */
	.qsize = VTCON_QSIZE,
	.cfgsize = VTCON_CFGSIZE,
	.features = 1ULL << VIRTIO_CONSOLE_F_MULTIPORT,
	.set_features = vtcon_set_features,
	.reset = vtcon_reset,
	.notify = vtcon_notify,
	.cfgread = vtcon_cfgread,
	.cfgwrite = vtcon_cfgwrite,
};

static void vtcon_free(struct vtcon *sc)
{
	for (int i = 0; i < VTCON_MAXPORTS; i++)
		free(sc->port[i].path);
	free(sc);
}

/* Stop the callbacks: lock, mark, drop every event (fds stay open). */
static void vtcon_quiesce(struct vtcon *sc)
{
	virtio_lock(&sc->vd);
	sc->closing = true;
	for (int i = 0; i < VTCON_MAXPORTS; i++) {
		struct vtcon_port *p = &sc->port[i];

		if (p->accept_ev != NULL)
			mevent_delete(p->accept_ev);
		if (p->rx_ev != NULL)
			mevent_delete(p->rx_ev);
		if (p->tx_ev != NULL)
			mevent_delete(p->tx_ev);
		p->accept_ev = p->rx_ev = p->tx_ev = NULL;
	}
	virtio_unlock(&sc->vd);
}

static int vtcon_init(struct pci_devinst *pi, struct config_node *cfg)
{
	struct vtcon *sc;
	int rc;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	rc = vtcon_config_ports(sc, cfg);
	if (rc != 0)
		goto fail_free;
	sc->ops = vtcon_ops;
	sc->ops.nqueues = 2 * ((int)sc->max_nr_ports + 1);
	rc = virtio_dev_init(&sc->vd, &sc->ops, sc, pi, cfg);
	if (rc != 0)
		goto fail_free;
	for (int i = 0; i < VTCON_MAXPORTS; i++) {
		struct vtcon_port *p = &sc->port[i];

		if (!p->enabled)
			continue;
		rc = vtcon_port_listen(p);
		if (rc != 0)
			goto fail_dev;
		p->accept_ev = mevent_add(virtio_dev_loop(&sc->vd), p->lfd,
		    EVF_READ, on_accept, p);
		if (p->accept_ev == NULL) {
			rc = -errno;
			khyve_warn("virtio-console: port %s: cannot watch %s",
			    p->name, p->path);
			goto fail_dev;
		}
	}
	return 0;

fail_dev:
	vtcon_quiesce(sc);
	virtio_dev_fini(&sc->vd);
	for (int i = 0; i < VTCON_MAXPORTS; i++)
		vtcon_port_close(&sc->port[i]);
	pi->pi_arg = NULL;
fail_free:
	vtcon_free(sc);
	return rc;
}

static void vtcon_fini(struct pci_devinst *pi)
{
	struct virtio_dev *vd = pi->pi_arg;
	struct vtcon *sc;

	if (vd == NULL)
		return;
	sc = vd->sc;
	vtcon_quiesce(sc);
	virtio_dev_fini(vd); /* joins the I/O thread: no callback after */
	for (int i = 0; i < VTCON_MAXPORTS; i++)
		vtcon_port_close(&sc->port[i]);
	vtcon_free(sc);
	pi->pi_arg = NULL;
}

static const struct pci_devemu vtcon_devemu = {
	.pe_emu = "virtio-console",
	.pe_help = "Unix-socket ports: NAME=PATH[,NAME=PATH...] (up to 16)",
	.pe_legacy_config = vtcon_legacy_config,
	.pe_init = vtcon_init,
	.pe_fini = vtcon_fini,
	.pe_cfgread = virtio_pci_cfgread,
	.pe_cfgwrite = virtio_pci_cfgwrite,
	.pe_barread = virtio_pci_barread,
	.pe_barwrite = virtio_pci_barwrite,
	.pe_baraddr = virtio_pci_baraddr,
};
PCI_EMUL_SET(vtcon_devemu);
