/*
 * net_slirp.c - the slirp back end: user-mode NAT through libslirp, the
 * unprivileged default (bhyve's net_backend_slirp.c, FreeBSD 15).
 *
 * The guest sees QEMU's usual network: 10.0.2.0/24, the host/gateway
 * 10.0.2.2 (also DHCP server), DNS 10.0.2.3, DHCP leases from 10.0.2.15;
 * IPv6 fec0::/64 with the host at fec0::2 and DNS at fec0::3.
 *
 * Keys: hostfwd=tcp:127.0.0.1:2222-:22;udp::5353-:53 (';'-separated
 * rules, bhyve's and QEMU's syntax) and open (bool, bhyve's keyword).
 * open=true (khyve's default) lets the guest connect out through NAT and
 * use the DNS proxy; open=false is "restricted" slirp, bhyve 15.0's only
 * mode (its capsicum sandbox forbids outbound sockets): the guest then
 * reaches only slirp's own services (ARP, DHCP without a gateway or DNS,
 * ping to 10.0.2.2/10.0.2.3) and what comes in through hostfwd rules.
 * khyve has no such sandbox, and a user-mode network that cannot reach
 * out is not what a new user expects, hence the different default.
 *
 * Threads.  libslirp is built around a poll() loop whose file
 * descriptors change as connections come and go, with timeouts it
 * recomputes on every round.  Mapping that onto the device's event loop
 * would mean re-registering every socket on every round, so the back end
 * runs its own thread (as bhyve does): slirp_pollfds_fill, poll() with
 * the timeout slirp asks for (shortened for our timers), then
 * slirp_pollfds_poll and the expired timers.  One mutex serialises every
 * libslirp call: the poll thread's and the device thread's slirp_input.
 * An eventfd wakes the poll thread when the device sent something (slirp
 * may have new sockets to watch), a timer changed, or it must stop.
 *
 * Frames for the guest go through a non-blocking datagram socket pair:
 * slirp's send_packet writes one datagram per frame (a full socket buffer
 * drops the frame; TCP in slirp recovers), the device's loop watches the
 * other end like a tap fd.  So the device never waits for slirp, the
 * queue towards the guest is bounded by the socket buffer, and slirp's
 * thread never touches the device.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend/net_backend.h"
#include "backend/slirp_dl.h"
#include "common.h"
#include "config.h"
#include "event/mevent.h"
#include "sandbox/sandbox.h"
#include "thread.h"

#define SLIRP_IF_MTU 1500

struct slirp_timer {
	struct slirp_timer *next;
	SlirpTimerId id;       /* timer_new_opaque form */
	SlirpTimerCb cb;       /* timer_new form (NULL otherwise) */
	void *cb_opaque;
	int64_t expire_ms;     /* CLOCK_MONOTONIC */
	bool armed;
};

struct slirp_priv {
	const struct slirp_dl *dl; /* libslirp, loaded at init */
	Slirp *slirp;
	pthread_mutex_t mtx; /* every libslirp call, the timers, pollfds */
	bool mtx_init;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	int wake_fd;
	int sock[2]; /* [0]: the device reads frames; [1]: slirp writes */
	struct mevent *ev;
	net_be_rx_cb_t *cb;
	void *cb_arg;
	struct pollfd *pfd;
	int npfd, pfd_cap;
	struct slirp_timer *timers;
	const char *who;
	uint8_t txbuf[NETBE_MAX_FRAME];
};

static const char *const slirp_prefixes[] = { "slirp", NULL };

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void wake(struct slirp_priv *p)
{
	uint64_t one = 1;

	if (write(p->wake_fd, &one, sizeof(one)) < 0) {
		/* Only fails when the counter is huge: already awake. */
	}
}

/* ---- libslirp callbacks (called with p->mtx held) ----------------------- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_priv *p = opaque;

	/* A full socket buffer drops the frame, as a busy NIC would. */
	if (send(p->sock[1], buf, len, MSG_DONTWAIT) < 0 && errno != EAGAIN &&
	    errno != ENOBUFS)
		return -errno;
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct slirp_priv *p = opaque;

	khyve_dbg("%s: slirp: guest error: %s", p->who, msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	return now_ns();
}

static struct slirp_timer *timer_add(struct slirp_priv *p)
{
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->next = p->timers;
	p->timers = t;
	return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = timer_add(opaque);

	if (t != NULL) {
		t->cb = cb;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque,
    void *opaque)
{
	struct slirp_timer *t = timer_add(opaque);

	if (t != NULL) {
		t->id = id;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct slirp_priv *p = opaque;

	for (struct slirp_timer **tp = &p->timers; *tp; tp = &(*tp)->next) {
		if (*tp == timer) {
			*tp = (*tp)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;

	t->expire_ms = expire_ms;
	t->armed = true;
	wake(opaque); /* the poll thread recomputes its timeout */
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	/* Every round re-reads the fds from slirp_pollfds_fill. */
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
	wake(opaque);
}

static const SlirpCb slirp_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
	.timer_new_opaque = cb_timer_new_opaque,
};

/* ---- the poll thread ---------------------------------------------------- */

static short to_poll(int ev)
{
	return (short)(((ev & SLIRP_POLL_IN) ? POLLIN : 0) |
	    ((ev & SLIRP_POLL_OUT) ? POLLOUT : 0) |
	    ((ev & SLIRP_POLL_PRI) ? POLLPRI : 0) |
	    ((ev & SLIRP_POLL_ERR) ? POLLERR : 0) |
	    ((ev & SLIRP_POLL_HUP) ? POLLHUP : 0));
}

static int from_poll(short ev)
{
	return ((ev & POLLIN) ? SLIRP_POLL_IN : 0) |
	    ((ev & POLLOUT) ? SLIRP_POLL_OUT : 0) |
	    ((ev & POLLPRI) ? SLIRP_POLL_PRI : 0) |
	    ((ev & POLLERR) ? SLIRP_POLL_ERR : 0) |
	    ((ev & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

static int add_poll(int fd, int events, void *opaque)
{
	struct slirp_priv *p = opaque;

	if (p->npfd == p->pfd_cap) {
		int cap = p->pfd_cap ? p->pfd_cap * 2 : 16;
		struct pollfd *n = realloc(p->pfd, (size_t)cap * sizeof(*n));

		if (n == NULL)
			return -1; /* slirp skips this fd for one round */
		p->pfd = n;
		p->pfd_cap = cap;
	}
	p->pfd[p->npfd].fd = fd;
	p->pfd[p->npfd].events = to_poll(events);
	p->pfd[p->npfd].revents = 0;
	return p->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_priv *p = opaque;

	if (idx < 0 || idx >= p->npfd)
		return 0;
	return from_poll(p->pfd[idx].revents);
}

/* Fire the expired timers; the poll timeout (ms) until the next one. */
static uint32_t run_timers(struct slirp_priv *p, uint32_t timeout)
{
	int64_t now = now_ns() / 1000000;
	bool again;

	do {
		again = false;
		for (struct slirp_timer *t = p->timers; t; t = t->next) {
			if (!t->armed)
				continue;
			if (t->expire_ms <= now) {
				t->armed = false;
				/* The handler may free or re-arm timers:
				 * restart the walk afterwards. */
				if (t->cb != NULL)
					t->cb(t->cb_opaque);
				else
					p->dl->handle_timer(p->slirp, t->id,
					    t->cb_opaque);
				again = true;
				break;
			}
			if ((uint64_t)(t->expire_ms - now) < timeout)
				timeout = (uint32_t)(t->expire_ms - now);
		}
	} while (again);
	return timeout;
}

static void *slirp_thread(void *arg)
{
	struct slirp_priv *p = arg;
	uint32_t timeout;
	uint64_t v;
	int rc;

	sandbox_enter(SANDBOX_NET);
	pthread_mutex_lock(&p->mtx);
	while (!atomic_load(&p->stop)) {
		p->npfd = 0;
		add_poll(p->wake_fd, SLIRP_POLL_IN, p);
		timeout = UINT32_MAX;
		p->dl->pollfds_fill(p->slirp, &timeout, add_poll, p);
		timeout = run_timers(p, timeout);
		pthread_mutex_unlock(&p->mtx);

		rc = poll(p->pfd, (nfds_t)p->npfd,
		    timeout == UINT32_MAX ? -1 : (int)MIN(timeout, INT32_MAX));
		if (rc < 0 && errno != EINTR)
			khyve_warn("%s: slirp poll", p->who);
		if (p->pfd[0].revents & POLLIN) {
			if (read(p->wake_fd, &v, sizeof(v)) < 0) {
				/* A counter: nothing to do. */
			}
		}

		pthread_mutex_lock(&p->mtx);
		if (atomic_load(&p->stop))
			break;
		p->dl->pollfds_poll(p->slirp, rc < 0, get_revents, p);
		run_timers(p, UINT32_MAX);
	}
	pthread_mutex_unlock(&p->mtx);
	return NULL;
}

/* ---- hostfwd ------------------------------------------------------------ */

static int parse_port(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* "[ADDR]:PORT" of length n into addr/port. */
static int parse_endpoint(const char *s, size_t n, uint32_t *addr,
    uint16_t *port)
{
	const char *colon = memchr(s, ':', n);
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;
	size_t alen;

	if (colon == NULL)
		return -EINVAL;
	alen = (size_t)(colon - s);
	*addr = 0;
	if (alen > 0) {
		if (alen >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s, alen);
		buf[alen] = '\0';
		if (inet_pton(AF_INET, buf, &a) != 1)
			return -EINVAL;
		*addr = a.s_addr;
	}
	return parse_port(colon + 1, n - alen - 1, port);
}

int net_slirp_parse_hostfwd(const char *rule, struct net_hostfwd *out)
{
	const char *host, *dash;
	struct net_hostfwd f;

	memset(&f, 0, sizeof(f));
	if (strncmp(rule, "tcp:", 4) == 0) {
		host = rule + 4;
	} else if (strncmp(rule, "udp:", 4) == 0) {
		f.udp = true;
		host = rule + 4;
	} else {
		return -EINVAL;
	}
	dash = strchr(host, '-');
	if (dash == NULL || strchr(dash + 1, '-') != NULL)
		return -EINVAL;
	if (parse_endpoint(host, (size_t)(dash - host), &f.host_addr,
	    &f.host_port) != 0 ||
	    parse_endpoint(dash + 1, strlen(dash + 1), &f.guest_addr,
	    &f.guest_port) != 0)
		return -EINVAL;
	*out = f;
	return 0;
}

/*
 * Check every ';'-separated rule (p NULL) or install them all.  Empty
 * rules (a trailing ';') are skipped.
 */
static int hostfwds(struct slirp_priv *p, const char *rules, const char *who)
{
	char *copy = strdup(rules), *s, *rule;
	struct sockaddr_in h, g;
	struct net_hostfwd f;
	int rc = 0, e;

	if (copy == NULL)
		return -ENOMEM;
	s = copy;
	while (rc == 0 && (rule = strsep(&s, ";")) != NULL) {
		if (*rule == '\0')
			continue;
		if (net_slirp_parse_hostfwd(rule, &f) != 0) {
			khyve_warnx("%s: bad hostfwd rule \"%s\" (expected "
			    "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT,"
			    " rules separated by ';')", who, rule);
			rc = -EINVAL;
			break;
		}
		if (p == NULL)
			continue;
		memset(&h, 0, sizeof(h));
		memset(&g, 0, sizeof(g));
		h.sin_family = g.sin_family = AF_INET;
		h.sin_addr.s_addr = f.host_addr;
		h.sin_port = htons(f.host_port);
		g.sin_addr.s_addr = f.guest_addr;
		g.sin_port = htons(f.guest_port);
		errno = 0;
		if (p->dl->add_hostxfwd(p->slirp, (struct sockaddr *)&h,
		    sizeof(h), (struct sockaddr *)&g, sizeof(g),
		    f.udp ? SLIRP_HOSTFWD_UDP : 0) != 0) {
			e = errno ? errno : EADDRINUSE;
			khyve_warnx("%s: hostfwd \"%s\": cannot listen on the "
			    "host: %s", who, rule, strerror(e));
			/* A host that refuses is not a config error. */
			rc = e == EINVAL ? -EADDRNOTAVAIL : -e;
		}
	}
	free(copy);
	return rc;
}

/* ---- back-end ops ------------------------------------------------------- */

static void slirp_cleanup_be(struct net_backend *be);

static int slirp_init_be(struct net_backend *be, const char *name,
    struct config_node *cfg, const char *who)
{
	struct slirp_priv *p = netbe_priv(be);
	SlirpConfig sc;
	const char *rules;
	bool open = true; /* bhyve: false (see the top of the file) */
	int rc, sndbuf = 1 << 20;

	p->who = who;
	p->wake_fd = p->sock[0] = p->sock[1] = -1;
	if (strcmp(name, "slirp") != 0) {
		khyve_warnx("%s: bad slirp back end \"%s\" (just \"slirp\")",
		    who, name);
		return -EINVAL;
	}
	rc = config_get_bool(cfg, "open", &open);
	if (rc != 0 && rc != -ENOENT)
		return -EINVAL; /* config_get_bool named it */
	rules = config_get(cfg, "hostfwd");
	/* Check the syntax before opening anything. */
	if (rules != NULL && (rc = hostfwds(NULL, rules, who)) != 0)
		return rc;

	if ((p->dl = slirp_dl_get(who)) == NULL)
		return -ENOENT;
	pthread_mutex_init(&p->mtx, NULL);
	p->mtx_init = true;
	p->pfd_cap = 16;
	p->pfd = calloc((size_t)p->pfd_cap, sizeof(*p->pfd));
	if (p->pfd == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->wake_fd < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    p->sock) != 0) {
		rc = -errno;
		khyve_warn("%s: slirp: cannot create its sockets", who);
		goto fail;
	}
	/* Room for a burst of full-size frames before slirp drops any. */
	setsockopt(p->sock[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));

	memset(&sc, 0, sizeof(sc));
	sc.version = 4;
	sc.restricted = !open;
	sc.in_enabled = true;
	sc.vnetwork.s_addr = htonl(0x0a000200);    /* 10.0.2.0 */
	sc.vnetmask.s_addr = htonl(0xffffff00);    /* /24 */
	sc.vhost.s_addr = htonl(0x0a000202);       /* 10.0.2.2 */
	sc.vdhcp_start.s_addr = htonl(0x0a00020f); /* 10.0.2.15 */
	sc.vnameserver.s_addr = htonl(0x0a000203); /* 10.0.2.3 */
	sc.in6_enabled = true;
	inet_pton(AF_INET6, "fec0::", &sc.vprefix_addr6);
	sc.vprefix_len = 64;
	inet_pton(AF_INET6, "fec0::2", &sc.vhost6);
	inet_pton(AF_INET6, "fec0::3", &sc.vnameserver6);
	sc.if_mtu = SLIRP_IF_MTU;
	sc.if_mru = SLIRP_IF_MTU;
	sc.enable_emu = false;
	p->slirp = p->dl->new_(&sc, &slirp_callbacks, p);
	if (p->slirp == NULL) {
		khyve_warnx("%s: cannot create the slirp stack", who);
		rc = -ENOMEM;
		goto fail;
	}
	if (rules != NULL) {
		rc = hostfwds(p, rules, who);
		if (rc != 0)
			goto fail;
	}
	rc = khyve_thread_create(&p->thread, slirp_thread, p);
	if (rc != 0) {
		khyve_warnx("%s: slirp: cannot start its thread: %s", who,
		    strerror(-rc));
		goto fail;
	}
	p->thread_started = true;
	return 0;

fail:
	slirp_cleanup_be(be);
	return rc;
}

static void slirp_readable(int fd, enum mevent_type type, void *arg)
{
	struct slirp_priv *p = arg;

	p->cb(p->cb_arg);
}

static int slirp_start(struct net_backend *be, struct mevent_loop *loop,
    net_be_rx_cb_t *cb, void *arg)
{
	struct slirp_priv *p = netbe_priv(be);

	p->cb = cb;
	p->cb_arg = arg;
	p->ev = mevent_add_disabled(loop, p->sock[0], EVF_READ, slirp_readable,
	    p);
	return p->ev != NULL ? 0 : -errno;
}

static void slirp_stop(struct net_backend *be)
{
	struct slirp_priv *p = netbe_priv(be);

	if (p->ev != NULL)
		mevent_delete(p->ev);
	p->ev = NULL;
}

static void slirp_cleanup_be(struct net_backend *be)
{
	struct slirp_priv *p = netbe_priv(be);

	slirp_stop(be);
	if (p->thread_started) {
		atomic_store(&p->stop, true);
		wake(p);
		pthread_join(p->thread, NULL);
		p->thread_started = false;
	}
	if (p->slirp != NULL)
		p->dl->cleanup(p->slirp); /* frees its timers through us */
	p->slirp = NULL;
	while (p->timers != NULL) {
		struct slirp_timer *t = p->timers;

		p->timers = t->next;
		free(t);
	}
	free(p->pfd);
	p->pfd = NULL;
	for (int i = 0; i < 2; i++)
		if (p->sock[i] >= 0)
			close(p->sock[i]);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	p->sock[0] = p->sock[1] = p->wake_fd = -1;
	if (p->mtx_init)
		pthread_mutex_destroy(&p->mtx);
	p->mtx_init = false;
}

static ssize_t slirp_send_be(struct net_backend *be, const struct iovec *iov,
    int iovcnt)
{
	struct slirp_priv *p = netbe_priv(be);
	const uint8_t *pkt;
	size_t len = 0;

	if (iovcnt == 1) {
		pkt = iov[0].iov_base;
		len = iov[0].iov_len;
	} else {
		for (int i = 0; i < iovcnt; i++) {
			if (iov[i].iov_len > sizeof(p->txbuf) - len)
				return -EMSGSIZE;
			memcpy(p->txbuf + len, iov[i].iov_base, iov[i].iov_len);
			len += iov[i].iov_len;
		}
		pkt = p->txbuf;
	}
	if (len > INT32_MAX)
		return -EMSGSIZE;
	pthread_mutex_lock(&p->mtx);
	p->dl->input(p->slirp, pkt, (int)len);
	pthread_mutex_unlock(&p->mtx);
	/* slirp may have opened a socket to watch: new poll round. */
	wake(p);
	return (ssize_t)len;
}

static ssize_t slirp_peek_recvlen(struct net_backend *be)
{
	struct slirp_priv *p = netbe_priv(be);
	ssize_t n;

	for (;;) {
		n = recv(p->sock[0], NULL, 0, MSG_PEEK | MSG_TRUNC |
		    MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n > 0)
			return n;
		/* An empty datagram would keep the fd readable forever. */
		if (recv(p->sock[0], NULL, 0, MSG_DONTWAIT) < 0)
			return 0;
	}
}

static ssize_t slirp_recv_be(struct net_backend *be, const struct iovec *iov,
    int iovcnt)
{
	struct slirp_priv *p = netbe_priv(be);
	struct msghdr mh = { .msg_iov = (struct iovec *)iov,
		.msg_iovlen = (size_t)iovcnt };
	ssize_t n = recvmsg(p->sock[0], &mh, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return n;
}

static void slirp_recv_enable(struct net_backend *be)
{
	struct slirp_priv *p = netbe_priv(be);

	if (p->ev != NULL)
		mevent_enable(p->ev);
}

static void slirp_recv_disable(struct net_backend *be)
{
	struct slirp_priv *p = netbe_priv(be);

	if (p->ev != NULL)
		mevent_disable(p->ev);
}

static uint64_t slirp_get_cap(struct net_backend *be)
{
	return 0; /* slirp wants whole frames with their checksums */
}

static int slirp_set_cap(struct net_backend *be, uint64_t features,
    unsigned vnet_hdr_len)
{
	/* No header on slirp's frames: the device adds/strips it. */
	be->be_hdrlen = 0;
	return features == 0 ? 0 : -ENOTSUP;
}

static const struct net_backend_ops slirp_ops = {
	.type = "slirp",
	.prefixes = slirp_prefixes,
	.priv_size = sizeof(struct slirp_priv),
	.init = slirp_init_be,
	.start = slirp_start,
	.stop = slirp_stop,
	.cleanup = slirp_cleanup_be,
	.send = slirp_send_be,
	.peek_recvlen = slirp_peek_recvlen,
	.recv = slirp_recv_be,
	.recv_enable = slirp_recv_enable,
	.recv_disable = slirp_recv_disable,
	.get_cap = slirp_get_cap,
	.set_cap = slirp_set_cap,
};
NET_BACKEND_SET(slirp_ops);
