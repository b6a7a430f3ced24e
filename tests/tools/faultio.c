/*
 * faultio.so - an LD_PRELOAD shim for khyve's disk tests: fails, or logs,
 * the I/O calls made on one file.
 *
 * The file is FAULTIO_PATH; a call is "on it" when its descriptor was
 * opened (open, openat and their 64-bit and fortified forms) on a path
 * with FAULTIO_PATH's last component whose fstat then showed the same
 * device and inode; close forgets the descriptor.  All of the shim's own
 * system calls (stat, the log's open, fstat at such an open) happen at
 * load time or inside an open: an I/O call adds only the log's write(2),
 * so khyve's block workers run under their usual seccomp filter.
 * Environment:
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
 *                  descriptor was opened with O_DSYNC, i.e. O_SYNC or
 *                  O_DSYNC),
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

/* Per descriptor: T_TARGET when it is the file, T_DSYNC when opened so. */
enum { T_TARGET = 1, T_DSYNC = 2 };
#define MAX_FDS 65536

static bool active;
static dev_t tdev;
static ino_t tino;
/* FAULTIO_PATH's last component, copied: khyve's setproctitle writes
 * over the environment strings. */
static char tbase[256];
static int ops, err = EIO, logfd = -1;
static long after, count = -1;
static atomic_long seen, syncid;
static _Atomic unsigned char fds[MAX_FDS];

static void *real(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* The real calls, looked up at load time (no dlsym on khyve's threads);
 * REAL looks one up late in a call made before the constructor ran. */
#define REAL(v, name) ({ if ((v) == NULL) (v) = real(name); (v); })
static ssize_t (*r_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*r_pwritev2)(int, const struct iovec *, int, off_t, int);
static ssize_t (*r_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*r_preadv)(int, const struct iovec *, int, off_t);
static ssize_t (*r_preadv2)(int, const struct iovec *, int, off_t, int);
static ssize_t (*r_pread)(int, void *, size_t, off_t);
static int (*r_fdatasync)(int), (*r_fsync)(int), (*r_close)(int);
static int (*r_fallocate)(int, int, off_t, off_t);
static int (*r_open)(const char *, int, ...);
static int (*r_openat)(int, const char *, int, ...);
static int (*r_open_2)(const char *, int);
static int (*r_openat_2)(int, const char *, int);

__attribute__((constructor)) static void init(void)
{
	const char *p = getenv("FAULTIO_PATH"), *v;
	struct stat st;

	r_pwritev = real("pwritev");
	r_pwritev2 = real("pwritev2");
	r_pwrite = real("pwrite");
	r_preadv = real("preadv");
	r_preadv2 = real("preadv2");
	r_pread = real("pread");
	r_fdatasync = real("fdatasync");
	r_fsync = real("fsync");
	r_close = real("close");
	r_fallocate = real("fallocate");
	r_open = real("open");
	r_openat = real("openat");
	r_open_2 = real("__open_2");
	r_openat_2 = real("__openat_2");
	if (p == NULL || stat(p, &st) != 0)
		return;
	tdev = st.st_dev;
	tino = st.st_ino;
	v = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
	if (strlen(v) >= sizeof(tbase))
		return;
	strcpy(tbase, v);
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
		logfd = r_open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0644);
	active = true;
}

/* After an open returned `fd` for `path`: is it the target?  fstat only
 * when the last path component matches, so other opens (on threads
 * whose filter may lack fstat) cost no system call. */
static int note_open(int fd, const char *path, int flags)
{
	const char *b;
	struct stat st;
	int e = errno;

	if (fd < 0 || fd >= MAX_FDS)
		return fd;
	atomic_store(&fds[fd], 0);
	if (!active || path == NULL)
		return fd;
	b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (strcmp(b, tbase) == 0 && fstat(fd, &st) == 0 &&
	    st.st_dev == tdev && st.st_ino == tino)
		atomic_store(&fds[fd], T_TARGET |
		    ((flags & O_DSYNC) == O_DSYNC ? T_DSYNC : 0));
	errno = e;
	return fd;
}

static bool on_target(int fd)
{
	return fd >= 0 && fd < MAX_FDS && (atomic_load(&fds[fd]) & T_TARGET);
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
	    va_arg(ap, mode_t) : 0;
}

/* `mode`: open's optional third argument, after `last`. */
#define GET_MODE(mode, flags, last)                    \
	do {                                           \
		va_list ap;                            \
		va_start(ap, last);                    \
		mode = open_mode(flags, ap);           \
		va_end(ap);                            \
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode;

	GET_MODE(mode, flags, flags);
	return note_open(REAL(r_open, "open")(path, flags, mode), path, flags);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	GET_MODE(mode, flags, flags);
	return note_open(REAL(r_openat, "openat")(dirfd, path, flags, mode),
	    path, flags);
}

/* _FORTIFY_SOURCE's open with flags not known at compile time. */
int __open_2(const char *path, int flags)
{
	return note_open(REAL(r_open_2, "__open_2")(path, flags), path,
	    flags);
}

int __openat_2(int dirfd, const char *path, int flags)
{
	return note_open(REAL(r_openat_2, "__openat_2")(dirfd, path, flags),
	    path, flags);
}

/* The 64-bit names are the same calls on x86-64. */
int open64(const char *path, int flags, ...) __attribute__((alias("open")));
int openat64(int dirfd, const char *path, int flags, ...)
    __attribute__((alias("openat")));
int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));
int __openat64_2(int dirfd, const char *path, int flags)
    __attribute__((alias("__openat_2")));

int close(int fd)
{
	if (fd >= 0 && fd < MAX_FDS)
		atomic_store(&fds[fd], 0);
	return REAL(r_close, "close")(fd);
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

static void log_write(int fd, off_t off, ssize_t n)
{
	if (n > 0)
		logf_("W %lld %lld %d\n", (long long)off, (long long)n,
		    (atomic_load(&fds[fd]) & T_DSYNC) != 0);
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
	bool tgt = on_target(fd);
	ssize_t n;

	FAIL_IF(OP_WRITE);
	n = REAL(r_pwritev, "pwritev")(fd, iov, cnt, off);
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
	bool tgt = on_target(fd);
	ssize_t n;

	FAIL_IF(OP_WRITE);
	n = REAL(r_pwritev2, "pwritev2")(fd, iov, cnt, off, flags);
	if (tgt)
		log_write(fd, off, n);
	return n;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	bool tgt = on_target(fd);
	ssize_t n;

	FAIL_IF(OP_WRITE);
	n = REAL(r_pwrite, "pwrite")(fd, buf, len, off);
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
	bool tgt = on_target(fd);

	FAIL_IF(OP_READ);
	return REAL(r_preadv, "preadv")(fd, iov, cnt, off);
}

ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return preadv(fd, iov, cnt, off);
}

ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off,
    int flags)
{
	bool tgt = on_target(fd);

	FAIL_IF(OP_READ);
	return REAL(r_preadv2, "preadv2")(fd, iov, cnt, off, flags);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	bool tgt = on_target(fd);

	FAIL_IF(OP_READ);
	return REAL(r_pread, "pread")(fd, buf, len, off);
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off);
}

static int do_sync(int fd, int (*f)(int))
{
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
	return do_sync(fd, REAL(r_fdatasync, "fdatasync"));
}

int fsync(int fd)
{
	return do_sync(fd, REAL(r_fsync, "fsync"));
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	bool tgt = on_target(fd);

	FAIL_IF(OP_ALLOC);
	return REAL(r_fallocate, "fallocate")(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}
