/*
 * test_chardev.c - backend/chardev.c against real descriptors: a TCP
 * listener on 127.0.0.1, a pty, pipes on stdin/stdout, a log file.  The
 * event loop runs on its own thread as it does in khyve.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "backend/chardev.h"
#include "event/mevent.h"
#include "test.h"

/* A device stand-in: buffers input, optionally with a tiny buffer so
 * that it has to pause the back end. */
struct sink {
	pthread_mutex_t lock;
	struct chardev *cd;
	uint8_t buf[4096];
	size_t n, room;
	int paused;
	int calls;
};

static void sink_rx(void *arg)
{
	struct sink *s = arg;

	pthread_mutex_lock(&s->lock);
	s->calls++;
	for (;;) {
		size_t lim = MIN(s->room, sizeof(s->buf)) - s->n;
		size_t got;

		if (lim == 0) {
			chardev_rx_pause(s->cd, 1);
			s->paused = 1;
			break;
		}
		got = chardev_read(s->cd, s->buf + s->n, lim);
		if (got == 0)
			break;
		s->n += got;
	}
	pthread_mutex_unlock(&s->lock);
}

static size_t sink_count(struct sink *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->n;
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct looper {
	struct mevent_loop *loop;
	pthread_t thr;
};

static void *loop_main(void *arg)
{
	mevent_dispatch(arg);
	return NULL;
}

static int looper_start(struct looper *l)
{
	l->loop = mevent_loop_create();
	if (l->loop == NULL)
		return -1;
	return pthread_create(&l->thr, NULL, loop_main, l->loop) ? -1 : 0;
}

static void looper_stop(struct looper *l)
{
	mevent_loop_stop(l->loop, 0);
	pthread_join(l->thr, NULL);
	mevent_loop_destroy(l->loop);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool wait_count(struct sink *s, size_t want)
{
	double end = now_s() + 5;

	while (now_s() < end) {
		if (sink_count(s) >= want)
			return true;
		usleep(2000);
	}
	return false;
}

/* A free TCP port on 127.0.0.1 (bind to 0, read it back, release). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &al) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int tcp_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Read up to len bytes from fd within `ms` milliseconds. */
static size_t read_for(int fd, uint8_t *buf, size_t len, int ms)
{
	size_t got = 0;
	double end = now_s() + ms / 1000.0;

	while (got < len && now_s() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10) <= 0)
			continue;
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void sink_init(struct sink *s, size_t room)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->room = room;
}

TEST(chardev_bad_specs)
{
	struct looper l;
	struct chardev *cd = (struct chardev *)1;

	CHECK_EQ(looper_start(&l), 0);
	CHECK_EQ(chardev_open(&cd, "", l.loop, NULL, NULL), -EINVAL);
	CHECK(cd == NULL);
	CHECK_EQ(chardev_open(&cd, NULL, l.loop, NULL, NULL), -EINVAL);
	CHECK_EQ(chardev_open(&cd, "tcp=", l.loop, NULL, NULL), -EINVAL);
	CHECK_EQ(chardev_open(&cd, "tcp=127.0.0.1", l.loop, NULL, NULL),
	    -EINVAL);
	CHECK_EQ(chardev_open(&cd, "tcp=127.0.0.1:", l.loop, NULL, NULL),
	    -EINVAL);
	CHECK_EQ(chardev_open(&cd, "tcp=:1234", l.loop, NULL, NULL), -EINVAL);
	CHECK_EQ(chardev_open(&cd, "tcp=127.0.0.1:99999", l.loop, NULL,
	    NULL), -EINVAL);
	CHECK_EQ(chardev_open(&cd, "tcp=127.0.0.1:12x", l.loop, NULL, NULL),
	    -EINVAL);
	CHECK_EQ(chardev_open(&cd, "tcp=[::1:1234", l.loop, NULL, NULL),
	    -EINVAL);
	CHECK_EQ(chardev_open(&cd, "tcp=localhost:1234", l.loop, NULL, NULL),
	    -EINVAL); /* numeric addresses only */
	CHECK_EQ(chardev_open(&cd, "/nonexistent/khyve-tty", l.loop, NULL,
	    NULL), -ENOENT);
	/* An rx callback needs an event loop. */
	CHECK_EQ(chardev_open(&cd, "/dev/null", NULL, sink_rx, NULL), -EINVAL);
	/* Harmless on NULL. */
	chardev_close(NULL);
	CHECK_EQ(chardev_write(NULL, (const uint8_t *)"x", 1), 0);
	looper_stop(&l);
}

TEST(chardev_tcp_roundtrip)
{
	struct looper l;
	struct sink s;
	char spec[64];
	uint8_t buf[64];
	int port = free_port(), c, c2;

	sink_init(&s, sizeof(s.buf));
	CHECK(port > 0);
	CHECK_EQ(looper_start(&l), 0);
	snprintf(spec, sizeof(spec), "tcp=127.0.0.1:%d", port);
	CHECK_EQ(chardev_open(&s.cd, spec, l.loop, sink_rx, &s), 0);

	/* Output with no client is dropped, not queued. */
	CHECK_EQ(chardev_write(s.cd, (const uint8_t *)"lost", 4), 0);

	c = tcp_connect(port);
	CHECK(c >= 0);
	CHECK_EQ(write(c, "hello", 5), 5);
	CHECK(wait_count(&s, 5));
	CHECK(memcmp(s.buf, "hello", 5) == 0);
	/* Once the accept ran, output reaches the client. */
	CHECK_EQ(chardev_write(s.cd, (const uint8_t *)"world", 5), 5);
	CHECK_EQ(read_for(c, buf, 5, 2000), 5);
	CHECK(memcmp(buf, "world", 5) == 0);

	/* A second client is turned away. */
	c2 = tcp_connect(port);
	CHECK(c2 >= 0);
	memset(buf, 0, sizeof(buf));
	CHECK(read_for(c2, buf, sizeof(buf) - 1, 2000) > 0);
	CHECK(strstr((char *)buf, "already connected") != NULL);
	close(c2);

	/* The first client leaves; a new one is accepted. */
	close(c);
	for (int i = 0; i < 500; i++) {
		if (chardev_write(s.cd, (const uint8_t *)"z", 1) == 0)
			break;
		usleep(2000);
	}
	CHECK_EQ(chardev_write(s.cd, (const uint8_t *)"z", 1), 0);
	c = tcp_connect(port);
	CHECK(c >= 0);
	CHECK_EQ(write(c, "again", 5), 5);
	CHECK(wait_count(&s, 10));
	CHECK(memcmp(s.buf + 5, "again", 5) == 0);
	close(c);

	chardev_close(s.cd);
	looper_stop(&l);
}

TEST(chardev_tcp_never_blocks)
{
	struct looper l;
	struct sink s;
	char spec[64];
	uint8_t chunk[1024];
	size_t taken = 0;
	double t0;
	int port = free_port(), c;

	sink_init(&s, sizeof(s.buf));
	memset(chunk, 'x', sizeof(chunk));
	CHECK_EQ(looper_start(&l), 0);
	snprintf(spec, sizeof(spec), "tcp=127.0.0.1:%d", port);
	CHECK_EQ(chardev_open(&s.cd, spec, l.loop, sink_rx, &s), 0);
	c = tcp_connect(port);
	CHECK(c >= 0);
	/* Wait for the accept: the first byte gets through. */
	for (int i = 0; i < 500 && chardev_write(s.cd, chunk, 1) == 0; i++)
		usleep(2000);
	CHECK_EQ(read_for(c, chunk, 1, 2000), 1);

	/* The peer never reads: 64 MiB of writes must neither block nor be
	 * buffered without bound. */
	t0 = now_s();
	for (int i = 0; i < 64 * 1024; i++)
		taken += chardev_write(s.cd, chunk, sizeof(chunk));
	CHECK(now_s() - t0 < 10.0);
	CHECK(taken < 32u * 1024 * 1024);
	CHECK(taken > 0);
	close(c);
	chardev_close(s.cd);
	looper_stop(&l);
}

TEST(chardev_pty_path)
{
	struct looper l;
	struct sink s;
	struct termios t;
	uint8_t buf[16];
	char *name;
	int m;

	sink_init(&s, 8); /* small: the back end must be paused */
	m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0);
	if (m < 0)
		return;
	CHECK_EQ(grantpt(m), 0);
	CHECK_EQ(unlockpt(m), 0);
	name = ptsname(m);
	CHECK(name != NULL);
	CHECK_EQ(looper_start(&l), 0);
	CHECK_EQ(chardev_open(&s.cd, name, l.loop, sink_rx, &s), 0);

	/* The tty is raw while open. */
	{
		int fd = open(name, O_RDWR | O_NOCTTY);

		CHECK(fd >= 0 && tcgetattr(fd, &t) == 0);
		CHECK((t.c_lflag & (ICANON | ECHO)) == 0);
		close(fd);
	}
	CHECK_EQ(chardev_write(s.cd, (const uint8_t *)"out\n", 4), 4);
	CHECK_EQ(read_for(m, buf, 4, 2000), 4);
	CHECK(memcmp(buf, "out\n", 4) == 0); /* raw: no \r added */

	/* 12 bytes in, the device takes 8 and pauses. */
	CHECK_EQ(write(m, "abcdefghijkl", 12), 12);
	CHECK(wait_count(&s, 8));
	usleep(50000);
	CHECK_EQ(sink_count(&s), 8);
	CHECK_EQ(s.paused, 1);
	/* The device drains its buffer and resumes: the rest arrives. */
	pthread_mutex_lock(&s.lock);
	s.n = 0;
	s.paused = 0;
	chardev_rx_pause(s.cd, 0);
	pthread_mutex_unlock(&s.lock);
	CHECK(wait_count(&s, 4));
	CHECK(memcmp(s.buf, "ijkl", 4) == 0);

	chardev_close(s.cd);
	/* Settings are put back on close. */
	{
		int fd = open(name, O_RDWR | O_NOCTTY);

		CHECK(fd >= 0 && tcgetattr(fd, &t) == 0);
		CHECK((t.c_lflag & ICANON) != 0);
		close(fd);
	}
	looper_stop(&l);
	close(m);
}

TEST(chardev_logfile_path)
{
	char path[] = "/tmp/khyve-chardev-XXXXXX";
	struct chardev *cd;
	struct looper l;
	char buf[32] = "";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "old:", 4), 4);
	CHECK_EQ(looper_start(&l), 0);
	CHECK_EQ(chardev_open(&cd, path, l.loop, NULL, NULL), 0);
	/* Output only: appended, never read back as input. */
	CHECK_EQ(chardev_write(cd, (const uint8_t *)"new", 3), 3);
	CHECK_EQ(chardev_read(cd, (uint8_t *)buf, sizeof(buf)), 0);
	chardev_close(cd);
	CHECK_EQ(pread(fd, buf, sizeof(buf) - 1, 0), 7);
	CHECK(memcmp(buf, "old:new", 7) == 0);
	close(fd);
	unlink(path);
	looper_stop(&l);
}

/* Run `fn` with stdin/stdout replaced by `in`/`out`, then put them back. */
static void with_stdio(int in, int out, void (*fn)(int *, void *),
    int *failed, void *arg)
{
	int sin = dup(0), sout = dup(1);

	fflush(stdout);
	dup2(in, 0);
	dup2(out, 1);
	fn(failed, arg);
	dup2(sin, 0);
	dup2(sout, 1);
	close(sin);
	close(sout);
}

static void stdio_pipes_body(int *failed, void *arg)
{
	int *p = arg; /* p[0]: writes to our stdin, p[1]: reads our stdout */
	struct looper l;
	struct sink s;
	struct chardev *other;
	uint8_t buf[8];

	sink_init(&s, sizeof(s.buf));
	CHECK_EQ(looper_start(&l), 0);
	CHECK_EQ(chardev_open(&s.cd, "stdio", l.loop, sink_rx, &s), 0);
	/* Only one user of stdio. */
	CHECK_EQ(chardev_open(&other, "stdio", l.loop, NULL, NULL), -EINVAL);
	/* Our stdin/stdout descriptors stay blocking: the shell shares them. */
	CHECK((fcntl(0, F_GETFL) & O_NONBLOCK) == 0);
	CHECK((fcntl(1, F_GETFL) & O_NONBLOCK) == 0);

	CHECK_EQ(write(p[0], "in", 2), 2);
	CHECK(wait_count(&s, 2));
	CHECK_EQ(chardev_write(s.cd, (const uint8_t *)"out", 3), 3);
	CHECK_EQ(read_for(p[1], buf, 3, 2000), 3);
	CHECK(memcmp(buf, "out", 3) == 0);
	/* EOF on stdin stops reading; output still works. */
	close(p[0]);
	usleep(50000);
	CHECK_EQ(chardev_read(s.cd, buf, sizeof(buf)), 0);
	CHECK_EQ(chardev_write(s.cd, (const uint8_t *)"more", 4), 4);
	CHECK_EQ(read_for(p[1], buf, 4, 2000), 4);
	chardev_close(s.cd);
	looper_stop(&l);
}

TEST(chardev_stdio_pipes)
{
	int in[2], out[2], p[2];

	CHECK_EQ(pipe(in), 0);
	CHECK_EQ(pipe(out), 0);
	p[0] = in[1];
	p[1] = out[0];
	with_stdio(in[0], out[1], stdio_pipes_body, failed, p);
	close(in[0]);
	close(out[0]);
	close(out[1]);
}

static void stdio_devnull_body(int *failed, void *arg)
{
	int *p = arg;
	struct looper l;
	struct sink s;
	uint8_t buf[8];

	sink_init(&s, sizeof(s.buf));
	CHECK_EQ(looper_start(&l), 0);
	/* /dev/null cannot be watched by epoll: polled, EOF at once. */
	CHECK_EQ(chardev_open(&s.cd, "stdio", l.loop, sink_rx, &s), 0);
	usleep(100000);
	CHECK_EQ(sink_count(&s), 0);
	CHECK(s.calls <= 2); /* stopped after EOF, no busy polling */
	CHECK_EQ(chardev_write(s.cd, (const uint8_t *)"ok", 2), 2);
	CHECK_EQ(read_for(p[1], buf, 2, 2000), 2);
	chardev_close(s.cd);
	looper_stop(&l);
}

TEST(chardev_stdio_devnull)
{
	int out[2], p[2], dn = open("/dev/null", O_RDONLY);

	CHECK(dn >= 0);
	CHECK_EQ(pipe(out), 0);
	p[0] = -1;
	p[1] = out[0];
	with_stdio(dn, out[1], stdio_devnull_body, failed, p);
	close(dn);
	close(out[0]);
	close(out[1]);
}
