/*
 * faultio.so - an LD_PRELOAD shim for khyve's disk tests: fails, or logs,
 * the I/O calls made on one file.
 *
 * The file is FAULTIO_PATH; a call is "on it" when its descriptor has the
 * same device and inode (fstat), so the shim needs no knowledge of how
 * khyve opens it.  Environment:
 *   FAULTIO_PATH   the backing file (required; without it nothing changes)
 *   FAULTIO_OPS    comma list of the calls to fail: write (pwrite,
 *                  pwritev, pwritev2), read (pread, preadv,
 *                  preadv2), sync (fdatasync, fsync), alloc
 *                  (fallocate); empty: none
 *   FAULTIO_ERRNO  EIO (default), ENOSPC, or a number
 *   FAULTIO_AFTER  matching calls that still succeed first (default 0)
 *   FAULTIO_COUNT  matching calls that fail after those (default: all)
 *   FAULTIO_LOG    append one line per completed call on the file:
 *                  "W OFF LEN SYNC" after a write returned (SYNC 1 when the
 *                  descriptor has O_DSYNC, i.e. O_SYNC or O_DSYNC),
 *                  "B ID" before an fdatasync/fsync, "S ID" after one
 *                  succeeded, "E ID" after one failed.
 * The log is written with one write(2) per line on an O_APPEND descriptor
 * before the call returns to khyve, so it is complete up to a SIGKILL and
 * orders each write before any flush khyve starts after it returned; the
 * crash test's checker replays it as a power-loss model (see blkcheck.c).
 * A failing call does nothing and returns -1 with errno set, as a device
 * error would.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

enum { OP_WRITE = 1, OP_READ = 2, OP_SYNC = 4, OP_ALLOC = 8 };

static bool active;
static dev_t tdev;
static ino_t tino;
static int ops, err = EIO, logfd = -1;
static long after, count = -1;
static atomic_long seen, syncid;

static void init_once(void)
{
	const char *p = getenv("FAULTIO_PATH"), *v;
	struct stat st;

	if (p == NULL || stat(p, &st) != 0)
		return;
	tdev = st.st_dev;
	tino = st.st_ino;
	v = getenv("FAULTIO_OPS");
	if (v != NULL) {
		ops |= strstr(v, "write") ? OP_WRITE : 0;
		ops |= strstr(v, "read") ? OP_READ : 0;
		ops |= strstr(v, "sync") ? OP_SYNC : 0;
		ops |= strstr(v, "alloc") ? OP_ALLOC : 0;
	}
	v = getenv("FAULTIO_ERRNO");
	if (v != NULL)
		err = strcmp(v, "ENOSPC") == 0 ? ENOSPC :
		    strcmp(v, "EIO") == 0 ? EIO : atoi(v);
	if ((v = getenv("FAULTIO_AFTER")) != NULL)
		after = atol(v);
	if ((v = getenv("FAULTIO_COUNT")) != NULL)
		count = atol(v);
	if ((v = getenv("FAULTIO_LOG")) != NULL)
		logfd = open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	active = true;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static bool on_target(int fd)
{
	struct stat st;

	pthread_once(&once, init_once);
	return active && fstat(fd, &st) == 0 && st.st_dev == tdev &&
	    st.st_ino == tino;
}

/* Should this call (of kind `op`, on the target) fail? */
static bool inject(int op)
{
	long n;

	if (!(ops & op))
		return false;
	n = atomic_fetch_add(&seen, 1);
	return n >= after && (count < 0 || n < after + count);
}

static void logf_(const char *fmt, ...)
{
	char line[96];
	va_list ap;
	int n;

	if (logfd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && write(logfd, line, (size_t)n) < 0) {
		/* nothing to do: the test sees a short log */
	}
}

static void *real(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void log_write(int fd, off_t off, ssize_t n)
{
	int fl = fcntl(fd, F_GETFL);

	if (n > 0)
		logf_("W %lld %lld %d\n", (long long)off, (long long)n,
		    fl >= 0 && (fl & O_DSYNC) == O_DSYNC);
}

#define FAIL_IF(op)                                    \
	do {                                           \
		if (tgt && inject(op)) {               \
			errno = err;                   \
			return -1;                     \
		}                                      \
	} while (0)

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	static ssize_t (*f)(int, const struct iovec *, int, off_t);
	bool tgt = on_target(fd);
	ssize_t n;

	FAIL_IF(OP_WRITE);
	if (f == NULL)
		f = real("pwritev");
	n = f(fd, iov, cnt, off);
	if (tgt)
		log_write(fd, off, n);
	return n;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return pwritev(fd, iov, cnt, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
    int flags)
{
	static ssize_t (*f)(int, const struct iovec *, int, off_t, int);
	bool tgt = on_target(fd);
	ssize_t n;

	FAIL_IF(OP_WRITE);
	if (f == NULL)
		f = real("pwritev2");
	n = f(fd, iov, cnt, off, flags);
	if (tgt)
		log_write(fd, off, n);
	return n;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static ssize_t (*f)(int, const void *, size_t, off_t);
	bool tgt = on_target(fd);
	ssize_t n;

	FAIL_IF(OP_WRITE);
	if (f == NULL)
		f = real("pwrite");
	n = f(fd, buf, len, off);
	if (tgt)
		log_write(fd, off, n);
	return n;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	return pwrite(fd, buf, len, off);
}

ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	static ssize_t (*f)(int, const struct iovec *, int, off_t);
	bool tgt = on_target(fd);

	FAIL_IF(OP_READ);
	if (f == NULL)
		f = real("preadv");
	return f(fd, iov, cnt, off);
}

ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return preadv(fd, iov, cnt, off);
}

ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off,
    int flags)
{
	static ssize_t (*f)(int, const struct iovec *, int, off_t, int);
	bool tgt = on_target(fd);

	FAIL_IF(OP_READ);
	if (f == NULL)
		f = real("preadv2");
	return f(fd, iov, cnt, off, flags);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	static ssize_t (*f)(int, void *, size_t, off_t);
	bool tgt = on_target(fd);

	FAIL_IF(OP_READ);
	if (f == NULL)
		f = real("pread");
	return f(fd, buf, len, off);
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off);
}

static int do_sync(int fd, const char *name)
{
	int (*f)(int) = real(name);
	bool tgt = on_target(fd);
	long id = 0;
	int r;

	if (tgt) {
		id = atomic_fetch_add(&syncid, 1);
		logf_("B %ld\n", id);
	}
	if (tgt && inject(OP_SYNC)) {
		logf_("E %ld\n", id);
		errno = err;
		return -1;
	}
	r = f(fd);
	if (tgt)
		logf_("%c %ld\n", r == 0 ? 'S' : 'E', id);
	return r;
}

int fdatasync(int fd)
{
	return do_sync(fd, "fdatasync");
}

int fsync(int fd)
{
	return do_sync(fd, "fsync");
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	static int (*f)(int, int, off_t, off_t);
	bool tgt = on_target(fd);

	FAIL_IF(OP_ALLOC);
	if (f == NULL)
		f = real("fallocate");
	return f(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}
