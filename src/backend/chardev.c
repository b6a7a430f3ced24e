/*
 * chardev.c - byte-stream back ends: stdio, a path, or a TCP listener
 * (see chardev.h for the contract).
 *
 * Never blocking a vCPU.  Every descriptor we read or write is non-blocking
 * (sockets through MSG_DONTWAIT, pipes and ttys through a private
 * O_NONBLOCK open of /proc/self/fd/N, so the flag does not leak into the
 * file description the shell shares with us).  Output that the host
 * cannot take right now goes into a bounded ring drained by the event loop
 * (EVF_WRITE); what does not fit in the ring is dropped.
 *
 * Events exist only while wanted.  epoll reports hang-up and error even on
 * a descriptor whose event mask is empty, so a merely disabled event on a
 * dead pipe or socket would make the loop spin.  Instead the read event is
 * deleted while the device is paused or the input is gone, and the write
 * event exists only while the ring holds data.
 *
 * Descriptors epoll refuses (regular files, /dev/null: EPERM) are read
 * from a periodic timer instead; they are always "readable".
 *
 * Locking: cd->lock protects every field below `lock`.  The rx callback
 * into the device is made WITHOUT cd->lock held, because the device calls
 * back into chardev_read()/chardev_rx_pause() with its own lock held: the
 * lock order is device -> chardev, everywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "backend/chardev.h"
#include "common.h"
#include "event/mevent.h"

#define CHARDEV_TXBUF (64 * 1024) /* bound on buffered output per chardev */
#define CHARDEV_RX_POLL_MS 20     /* input polling period where epoll can't */

enum cd_kind { CD_STDIO, CD_PATH, CD_TCP };

struct chardev {
	enum cd_kind kind;
	struct mevent_loop *loop;
	chardev_rx_cb_t *cb; /* NULL: polled by the device, no rx events */
	void *arg;
	char *spec; /* for messages */

	pthread_mutex_t lock;

	/* Input: rfd < 0 means nothing to read (EOF, no client). */
	int rfd;
	bool rx_sock; /* use recv(MSG_DONTWAIT) */
	bool rx_poll; /* epoll refuses rfd: poll it with a timer */
	bool paused;
	struct mevent *rx_ev;

	/* Output: wfd < 0 means output is dropped. */
	int wfd;
	bool tx_sock;
	struct mevent *tx_ev;
	uint8_t *ring; /* CHARDEV_TXBUF bytes, or NULL without a loop */
	size_t rhead, rlen;

	/* Descriptors opened here, closed by chardev_close() (-1 = none). */
	int own[2];
	bool stdio_owner; /* this chardev holds stdio_state.in_use */

	/*
	 * TCP: the listener and the one connected client (or -1).  The
	 * client is read through conn and written through connw, a dup:
	 * epoll takes each descriptor once, and the read and write events
	 * are separate registrations.  A path uses own[0]/own[1] the same way.
	 */
	int lfd;
	int conn, connw;
	struct mevent *accept_ev;

	/* A tty opened by path: its settings before raw mode. */
	bool tty_saved;
	struct termios tio;
};

/*
 * The terminal is a process-wide resource, and chardev_restore_tty() takes
 * no argument and runs from signal handlers, so its state is global.  It
 * is written only while `raw` is 0 (before raw mode is applied) and read
 * by the async-signal-safe restore.
 */
static struct {
	atomic_bool in_use;          /* a chardev owns stdio */
	volatile sig_atomic_t raw;   /* `tio` is valid and stdin is raw */
	struct termios tio;
	volatile sig_atomic_t fl_saved[2]; /* fcntl flags changed on fd 0/1 */
	int fl[2];
	bool handlers; /* fatal-signal handlers installed (main thread) */
} stdio_state;

void chardev_restore_tty(void)
{
	/* Only async-signal-safe calls here (tcsetattr, fcntl). */
	if (stdio_state.raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &stdio_state.tio);
		stdio_state.raw = 0;
	}
	for (int i = 0; i < 2; i++) {
		if (stdio_state.fl_saved[i]) {
			fcntl(i, F_SETFL, stdio_state.fl[i]);
			stdio_state.fl_saved[i] = 0;
		}
	}
}

static void restore_at_exit(void)
{
	chardev_restore_tty();
}

static void fatal_signal(int sig)
{
	/* SA_RESETHAND restored the default action: die with it, after
	 * giving the user their terminal back. */
	chardev_restore_tty();
	raise(sig);
}

/*
 * Signals that would kill us with the terminal still raw.  Only take over
 * those whose action is still the default: main's signalfd-handled ones
 * are blocked anyway, and a sanitizer's own handlers are left alone.
 */
static void install_tty_guards(void)
{
	/* Not SIGUSR1/2 or SIGALRM: other parts use them (vCPU kicks). */
	static const int sigs[] = { SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS,
		SIGFPE, SIGILL, SIGTERM, SIGINT };
	struct sigaction sa, old;

	if (stdio_state.handlers)
		return;
	stdio_state.handlers = true;
	atexit(restore_at_exit);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_signal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO))
			sigaction(sigs[i], &sa, NULL);
	}
}

/* Writing to a pipe nobody reads must not kill the VMM (SIGPIPE). */
static void ignore_sigpipe(void)
{
	struct sigaction sa, old;

	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
	    !(old.sa_flags & SA_SIGINFO)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

static void make_raw(struct termios *t)
{
	cfmakeraw(t);
	t->c_cflag |= CLOCAL; /* no modem control lines to wait for */
}

/* ---- event management (cd->lock held) ---------------------------------- */

static void on_rx(int fd, enum mevent_type type, void *arg);
static void on_tx(int fd, enum mevent_type type, void *arg);

static void rx_update(struct chardev *cd)
{
	bool want = cd->cb != NULL && cd->rfd >= 0 && !cd->paused &&
	    cd->loop != NULL;

	if (!want && cd->rx_ev != NULL) {
		mevent_delete(cd->rx_ev);
		cd->rx_ev = NULL;
	} else if (want && cd->rx_ev == NULL) {
		if (!cd->rx_poll) {
			cd->rx_ev = mevent_add(cd->loop, cd->rfd, EVF_READ,
			    on_rx, cd);
			if (cd->rx_ev == NULL && errno == EPERM)
				cd->rx_poll = true;
		}
		if (cd->rx_poll)
			cd->rx_ev = mevent_add(cd->loop, CHARDEV_RX_POLL_MS,
			    EVF_TIMER, on_rx, cd);
		if (cd->rx_ev == NULL)
			khyve_warn("%s: cannot watch for input", cd->spec);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void drop_output(struct chardev *cd)
{
	if (cd->tx_ev != NULL) {
		mevent_delete(cd->tx_ev);
		cd->tx_ev = NULL;
	}
	cd->rhead = cd->rlen = 0;
}

/* The TCP client went away: back to listening, output dropped. */
static void tcp_disconnect(struct chardev *cd)
{
	drop_output(cd);
	cd->rfd = cd->wfd = -1;
	rx_update(cd);
	close_fd(&cd->conn);
	close_fd(&cd->connw);
	khyve_dbg("%s: client disconnected", cd->spec);
}

/* Input ended (EOF or a hard error): stop reading, keep writing. */
static void input_gone(struct chardev *cd)
{
	if (cd->kind == CD_TCP) {
		tcp_disconnect(cd);
		return;
	}
	cd->rfd = -1;
	rx_update(cd);
}

static void output_gone(struct chardev *cd)
{
	if (cd->kind == CD_TCP) {
		tcp_disconnect(cd);
		return;
	}
	drop_output(cd);
	cd->wfd = -1;
}

/* ---- I/O --------------------------------------------------------------- */

static ssize_t raw_write(struct chardev *cd, const uint8_t *buf, size_t len)
{
	if (cd->tx_sock)
		return send(cd->wfd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(cd->wfd, buf, len);
}

/* Write what the host takes now; -1 after a hard error (handled). */
static ssize_t try_write(struct chardev *cd, const uint8_t *buf, size_t len)
{
	ssize_t n = raw_write(cd, buf, len);

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	output_gone(cd);
	return -1;
}

static void ring_flush(struct chardev *cd)
{
	while (cd->rlen > 0 && cd->wfd >= 0) {
		size_t chunk = MIN(cd->rlen, CHARDEV_TXBUF - cd->rhead);
		ssize_t n = try_write(cd, cd->ring + cd->rhead, chunk);

		if (n <= 0)
			break;
		cd->rhead = (cd->rhead + (size_t)n) % CHARDEV_TXBUF;
		cd->rlen -= (size_t)n;
	}
	if (cd->rlen == 0)
		cd->rhead = 0;
}

static size_t ring_put(struct chardev *cd, const uint8_t *buf, size_t len)
{
	size_t take = MIN(len, CHARDEV_TXBUF - cd->rlen);

	for (size_t i = 0; i < take; i++)
		cd->ring[(cd->rhead + cd->rlen + i) % CHARDEV_TXBUF] = buf[i];
	cd->rlen += take;
	return take;
}

size_t chardev_write(struct chardev *cd, const uint8_t *buf, size_t len)
{
	size_t taken = 0;
	ssize_t n;

	if (cd == NULL || len == 0)
		return 0;
	pthread_mutex_lock(&cd->lock);
	if (cd->wfd < 0)
		goto out; /* no client / output gone: dropped */
	if (cd->rlen == 0) {
		n = try_write(cd, buf, len);
		if (n < 0)
			goto out;
		taken = (size_t)n;
	}
	if (taken < len && cd->ring != NULL && cd->wfd >= 0) {
		/* Behind what is already queued, to keep the order. */
		taken += ring_put(cd, buf + taken, len - taken);
		if (cd->rlen > 0 && cd->tx_ev == NULL) {
			cd->tx_ev = mevent_add(cd->loop, cd->wfd, EVF_WRITE,
			    on_tx, cd);
			if (cd->tx_ev == NULL)
				drop_output(cd);
		}
	}
out:
	pthread_mutex_unlock(&cd->lock);
	return taken;
}

size_t chardev_read(struct chardev *cd, uint8_t *buf, size_t len)
{
	ssize_t n;
	size_t got = 0;

	if (cd == NULL || len == 0)
		return 0;
	pthread_mutex_lock(&cd->lock);
	if (cd->rfd < 0)
		goto out;
	if (cd->rx_sock)
		n = recv(cd->rfd, buf, len, MSG_DONTWAIT);
	else
		n = read(cd->rfd, buf, len);
	if (n > 0)
		got = (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR))
		input_gone(cd); /* EOF, hang-up (EIO on a tty), reset */
out:
	pthread_mutex_unlock(&cd->lock);
	return got;
}

void chardev_rx_pause(struct chardev *cd, int paused)
{
	if (cd == NULL)
		return;
	pthread_mutex_lock(&cd->lock);
	cd->paused = paused != 0;
	rx_update(cd);
	pthread_mutex_unlock(&cd->lock);
}

/* ---- event callbacks (loop thread) ------------------------------------- */

static void on_rx(int fd, enum mevent_type type, void *arg)
{
	struct chardev *cd = arg;
	bool go;

	(void)fd;
	(void)type;
	pthread_mutex_lock(&cd->lock);
	go = cd->rx_ev != NULL && cd->rfd >= 0 && !cd->paused;
	pthread_mutex_unlock(&cd->lock);
	if (go)
		cd->cb(cd->arg);
}

static void on_tx(int fd, enum mevent_type type, void *arg)
{
	struct chardev *cd = arg;

	(void)fd;
	(void)type;
	pthread_mutex_lock(&cd->lock);
	if (cd->tx_ev != NULL) {
		ring_flush(cd);
		if (cd->rlen == 0 && cd->tx_ev != NULL) {
			mevent_delete(cd->tx_ev);
			cd->tx_ev = NULL;
		}
	}
	pthread_mutex_unlock(&cd->lock);
}

static void on_accept(int fd, enum mevent_type type, void *arg)
{
	static const char busy[] = "Socket already connected\n";
	struct chardev *cd = arg;
	int c;

	(void)type;
	c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	pthread_mutex_lock(&cd->lock);
	if (cd->conn < 0) {
		cd->connw = fcntl(c, F_DUPFD_CLOEXEC, 0);
		if (cd->connw < 0) {
			khyve_warn("%s: cannot accept a client", cd->spec);
			close(c);
			goto out;
		}
		cd->conn = cd->rfd = c;
		cd->wfd = cd->connw;
		cd->rx_sock = cd->tx_sock = true;
		cd->rx_poll = false;
		rx_update(cd);
		khyve_dbg("%s: client connected", cd->spec);
	} else {
		/* One client at a time, as bhyve's uart_backend. */
		if (send(c, busy, sizeof(busy) - 1,
			MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* Nothing to do: the client is refused anyway. */
		}
		close(c);
	}
out:
	pthread_mutex_unlock(&cd->lock);
}

/* ---- opening ----------------------------------------------------------- */

/*
 * A non-blocking descriptor for standard fd `fd` (0 or 1), stored in *out
 * (with *owned set when we opened it and must close it).
 */
static int stdio_end(struct chardev *cd, int fd, int oflags, int *out,
    bool *sock)
{
	struct stat st;
	char path[32];
	int nfd, fl;

	*sock = false;
	*out = fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISSOCK(st.st_mode)) {
		*sock = true;
		return 0;
	}
	if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		return 0; /* regular file: never blocks for long */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, oflags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (nfd >= 0) {
		*out = nfd;
		cd->own[fd] = nfd;
		return 0;
	}
	/* No /proc (or a FIFO without reader): flag the shared description
	 * and put it back at exit. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK)) {
		stdio_state.fl[fd] = fl;
		stdio_state.fl_saved[fd] = 1;
		if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -errno;
	}
	return 0;
}

static int open_stdio(struct chardev *cd)
{
	struct termios t;
	int rc;

	if (atomic_exchange(&stdio_state.in_use, true)) {
		/* A configuration error, hence -EINVAL (a usage status). */
		khyve_warnx("%s: stdio is already used by another device",
		    cd->spec);
		return -EINVAL;
	}
	cd->stdio_owner = true;
	if ((rc = stdio_end(cd, STDIN_FILENO, O_RDONLY, &cd->rfd,
		 &cd->rx_sock)) != 0 ||
	    (rc = stdio_end(cd, STDOUT_FILENO, O_WRONLY, &cd->wfd,
		 &cd->tx_sock)) != 0) {
		khyve_warnx("%s: cannot set up standard input/output: %s",
		    cd->spec, strerror(-rc));
		return rc;
	}
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &t) == 0) {
		stdio_state.tio = t;
		install_tty_guards();
		stdio_state.raw = 1;
		make_raw(&t);
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	return 0;
}

static int open_path(struct chardev *cd, const char *path)
{
	struct stat st;
	struct termios t;
	int fd;

	fd = open(path, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;

		khyve_warnx("%s: cannot open: %s", cd->spec, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	cd->own[0] = fd;
	if (S_ISREG(st.st_mode)) {
		/* A log file: reading our own output back as input would
		 * make no sense, so it is output only, appended. */
		fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND);
		cd->wfd = fd;
		return 0;
	}
	cd->own[1] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (cd->own[1] < 0) {
		int e = errno;

		khyve_warnx("%s: %s", cd->spec, strerror(e));
		return -e;
	}
	cd->rfd = fd;
	cd->wfd = cd->own[1];
	if (isatty(fd) && tcgetattr(fd, &t) == 0) {
		cd->tio = t;
		cd->tty_saved = true;
		make_raw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return 0;
}

/* "tcp=HOST:PORT" or "tcp=[V6]:PORT" into host/port; 0 or -EINVAL. */
static int split_tcp(const char *s, char *host, size_t hlen, char *port,
    size_t plen)
{
	const char *h = s, *colon;
	size_t n;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		n = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= hlen)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	n = strlen(colon + 1);
	if (n == 0 || n >= plen || strspn(colon + 1, "0123456789") != n)
		return -EINVAL;
	memcpy(port, colon + 1, n + 1);
	if (strtoul(port, NULL, 10) > 65535)
		return -EINVAL;
	return 0;
}

static int open_tcp(struct chardev *cd, const char *addr)
{
	struct addrinfo hints, *ai = NULL;
	char host[256], port[8];
	int one = 1, rc;

	if (split_tcp(addr, host, sizeof(host), port, sizeof(port)) != 0) {
		khyve_warnx("%s: expected tcp=ADDR:PORT or tcp=[ADDR]:PORT",
		    cd->spec);
		return -EINVAL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		khyve_warnx("%s: bad address: %s", cd->spec, gai_strerror(rc));
		return -EINVAL;
	}
	cd->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (cd->lfd < 0)
		goto fail;
	setsockopt(cd->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(cd->lfd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(cd->lfd, 1) < 0)
		goto fail;
	freeaddrinfo(ai);
	cd->accept_ev = mevent_add(cd->loop, cd->lfd, EVF_READ, on_accept, cd);
	if (cd->accept_ev == NULL) {
		rc = -errno;
		khyve_warn("%s: cannot watch the listener", cd->spec);
		return rc;
	}
	return 0;
fail:
	rc = -errno;
	khyve_warn("%s: cannot listen on %s port %s", cd->spec, host, port);
	freeaddrinfo(ai);
	return rc;
}

int chardev_open(struct chardev **out, const char *spec,
    struct mevent_loop *loop, chardev_rx_cb_t *cb, void *arg)
{
	struct chardev *cd;
	int rc;

	*out = NULL;
	if (spec == NULL || *spec == '\0') {
		khyve_warnx("empty character device name");
		return -EINVAL;
	}
	if (loop == NULL && (cb != NULL || strncmp(spec, "tcp=", 4) == 0)) {
		khyve_warnx("%s: no event loop", spec);
		return -EINVAL;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -ENOMEM;
	cd->spec = strdup(spec);
	cd->ring = loop != NULL ? malloc(CHARDEV_TXBUF) : NULL;
	if (cd->spec == NULL || (loop != NULL && cd->ring == NULL)) {
		free(cd->ring);
		free(cd->spec);
		free(cd);
		return -ENOMEM;
	}
	pthread_mutex_init(&cd->lock, NULL);
	cd->loop = loop;
	cd->cb = cb;
	cd->arg = arg;
	cd->rfd = cd->wfd = cd->lfd = cd->conn = cd->connw = -1;
	cd->own[0] = cd->own[1] = -1;
	ignore_sigpipe();

	if (strcmp(spec, "stdio") == 0) {
		cd->kind = CD_STDIO;
		rc = open_stdio(cd);
	} else if (strncmp(spec, "tcp=", 4) == 0) {
		cd->kind = CD_TCP;
		rc = open_tcp(cd, spec + 4);
	} else {
		cd->kind = CD_PATH;
		rc = open_path(cd, spec);
	}
	if (rc != 0) {
		chardev_close(cd);
		return rc;
	}
	/* Publish *out before input can arrive: on_rx() takes cd->lock
	 * before calling the device, so it sees *out written. */
	*out = cd;
	pthread_mutex_lock(&cd->lock);
	rx_update(cd);
	pthread_mutex_unlock(&cd->lock);
	return 0;
}

void chardev_close(struct chardev *cd)
{
	if (cd == NULL)
		return;
	pthread_mutex_lock(&cd->lock);
	if (cd->rx_ev != NULL)
		mevent_delete(cd->rx_ev);
	if (cd->tx_ev != NULL)
		mevent_delete(cd->tx_ev);
	if (cd->accept_ev != NULL)
		mevent_delete(cd->accept_ev);
	cd->rx_ev = cd->tx_ev = cd->accept_ev = NULL;
	if (cd->tty_saved)
		tcsetattr(cd->own[0], TCSANOW, &cd->tio);
	close_fd(&cd->conn);
	close_fd(&cd->connw);
	close_fd(&cd->lfd);
	close_fd(&cd->own[0]);
	close_fd(&cd->own[1]);
	if (cd->stdio_owner) {
		chardev_restore_tty();
		atomic_store(&stdio_state.in_use, false);
	}
	pthread_mutex_unlock(&cd->lock);
	pthread_mutex_destroy(&cd->lock);
	free(cd->ring);
	free(cd->spec);
	free(cd);
}
