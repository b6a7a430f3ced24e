/*
 * test_blockif.c - the block back end (src/backend/blockif.c) against
 * temporary files: options, open flags, read/write/flush/discard/
 * write-zeroes, range and read-only checks, several requests in flight,
 * the bounded queue, and I/O errors (ENOSPC from /dev/full, a failed
 * fdatasync made sticky).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/blockif.h"
#include "backend/md5.h"
#include "config.h"
#include "options.h"
#include "test.h"

#define DISK (1024 * 1024) /* 1 MiB test image */

/* ---- helpers ---------------------------------------------------------- */

static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 13 + (off >> 9) + 1);
}

/* A temporary image of `size` bytes holding pat(offset). */
static int mkimage(char *path, size_t plen, uint64_t size)
{
	static uint8_t buf[65536];
	int fd;

	snprintf(path, plen, "/tmp/khyve-blk-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = (size_t)MIN((uint64_t)sizeof(buf), size - off);

		for (size_t i = 0; i < n; i++)
			buf[i] = pat(off + i);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
			close(fd);
			unlink(path);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static int file_holds(const char *path, uint64_t off, const void *data,
    size_t len)
{
	uint8_t *buf = malloc(len);
	int fd = open(path, O_RDONLY), ok;

	ok = buf != NULL && fd >= 0 &&
	    pread(fd, buf, len, (off_t)off) == (ssize_t)len &&
	    memcmp(buf, data, len) == 0;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ok;
}

static int file_is_pat(const char *path, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len);
	int ok;

	if (buf == NULL)
		return 0;
	for (size_t i = 0; i < len; i++)
		buf[i] = pat(off + i);
	ok = file_holds(path, off, buf, len);
	free(buf);
	return ok;
}

static int file_is_zero(const char *path, uint64_t off, size_t len)
{
	uint8_t *buf = calloc(1, len);
	int ok = buf != NULL && file_holds(path, off, buf, len);

	free(buf);
	return ok;
}

/* A request and the means to wait for its completion. */
struct waiter {
	struct blockif_req req;
	pthread_mutex_t m;
	pthread_cond_t c;
	int done, err, calls;
};

static void waiter_cb(struct blockif_req *r, int err)
{
	struct waiter *w = r->param;

	pthread_mutex_lock(&w->m);
	w->err = err;
	w->done = 1;
	w->calls++;
	pthread_cond_signal(&w->c);
	pthread_mutex_unlock(&w->m);
}

static void waiter_init(struct waiter *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->m, NULL);
	pthread_cond_init(&w->c, NULL);
	w->req.callback = waiter_cb;
	w->req.param = w;
}

/*
 * Submit and wait.  Returns the synchronous refusal, or the completion's
 * error; 1000 if the callback did not come within 10 s.
 */
static int run(int (*fn)(struct blockif_ctxt *, struct blockif_req *),
    struct blockif_ctxt *bc, struct waiter *w)
{
	struct timespec ts;
	int rc;

	w->done = 0;
	rc = fn(bc, &w->req);
	if (rc != 0)
		return rc;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&w->m);
	while (!w->done && pthread_cond_timedwait(&w->c, &w->m, &ts) == 0)
		;
	rc = w->done ? w->err : 1000;
	pthread_mutex_unlock(&w->m);
	return rc;
}

static void set_iov(struct blockif_req *r, uint64_t off, void *buf,
    const size_t *lens, int n)
{
	uint8_t *p = buf;

	r->offset = off;
	r->iovcnt = n;
	for (int i = 0; i < n; i++) {
		r->iov[i].iov_base = p;
		r->iov[i].iov_len = lens[i];
		p += lens[i];
	}
}

static struct blockif_ctxt *open_opts(const char *path, bool ro, int *rc)
{
	struct blockif_opts o = { .path = path, .ro = ro };
	struct blockif_ctxt *bc = NULL;

	*rc = blockif_open(&o, "test-blk", "t", 16, &bc);
	return bc;
}

/* Run fn with stderr sent to /dev/null (expected error lines). */
static int quiet_fd = -1;
static void quiet(bool on)
{
	fflush(stderr);
	if (on) {
		int n = open("/dev/null", O_WRONLY);

		quiet_fd = dup(2);
		dup2(n, 2);
		close(n);
	} else if (quiet_fd >= 0) {
		dup2(quiet_fd, 2);
		close(quiet_fd);
		quiet_fd = -1;
	}
}

/* ---- options ---------------------------------------------------------- */

TEST(blockif_sectorsize)
{
	static const struct {
		const char *s;
		uint32_t l, p;
	} good[] = {
		{ "512", 512, 512 },
		{ "4096", 4096, 4096 },
		{ "512/4096", 512, 4096 },
		{ "4096/65536", 4096, 65536 },
		{ "65536", 65536, 65536 },
	};
	static const char *const bad[] = { "", "0", "1000", "256", "131072",
		"4096/512", "512/", "/512", "512/4096/8192", "+512", " 512",
		"512x", "0x200", "99999999999", "512/1000", "-512", "1024/2048x",
		"000512" };
	uint32_t l, p;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		l = p = 0;
		CHECK_EQ(blockif_parse_sectorsize(good[i].s, &l, &p), 0);
		CHECK_EQ(l, good[i].l);
		CHECK_EQ(p, good[i].p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (blockif_parse_sectorsize(bad[i], &l, &p) != -EINVAL) {
			printf("  accepted sectorsize \"%s\"\n", bad[i]);
			*failed = 1;
		}
	}
}

static const char *const extra[] = { "ser", NULL };

TEST(blockif_legacy_config)
{
	static const char *const bad[] = {
		",ro",              /* no path */
		"",                 /* no path */
		"disk.img,foo",     /* unknown option */
		"disk.img,bootindex=1",
		"disk.img,ro=maybe",
		"disk.img,nocache=2",
		"disk.img,sectorsize=1000",
		"disk.img,sectorsize=4096/512",
		"disk.img,sectorsize",
		"disk.img,,ro",     /* empty item */
		"disk.img,ro,",
	};
	struct config_node *dev;

	config_init();
	dev = config_create(NULL, "pci.0.4.0");
	CHECK_EQ(blockif_legacy_config(dev, "/img/disk.raw,ro,nocache,direct,"
	    "sync,sectorsize=512/4096,nodelete,ser=SER123", "t", extra), 0);
	CHECK_STR(config_get(dev, "path"), "/img/disk.raw");
	CHECK_STR(config_get(dev, "ro"), "true");
	CHECK_STR(config_get(dev, "nocache"), "true");
	CHECK_STR(config_get(dev, "direct"), "true");
	CHECK_STR(config_get(dev, "sync"), "true");
	CHECK_STR(config_get(dev, "nodelete"), "true");
	CHECK_STR(config_get(dev, "sectorsize"), "512/4096");
	CHECK_STR(config_get(dev, "ser"), "SER123");
	/* Explicit values are kept as given. */
	dev = config_create(NULL, "pci.0.5.0");
	CHECK_EQ(blockif_legacy_config(dev, "d,ro=false,sectorsize=4096", "t",
	    extra), 0);
	CHECK_STR(config_get(dev, "ro"), "false");
	CHECK_STR(config_get(dev, "sectorsize"), "4096");
	/* The path alone. */
	dev = config_create(NULL, "pci.0.6.0");
	CHECK_EQ(blockif_legacy_config(dev, "only-a-path", "t", NULL), 0);
	CHECK_STR(config_get(dev, "path"), "only-a-path");
	CHECK(config_get(dev, "ro") == NULL);

	quiet(true);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		dev = config_create(NULL, "pci.0.7.0");
		if (blockif_legacy_config(dev, bad[i], "t", extra) != -EINVAL) {
			quiet(false);
			printf("  accepted \"%s\"\n", bad[i]);
			*failed = 1;
			quiet(true);
		}
		config_unset(NULL, "pci.0.7.0");
	}
	/* Not a device key without the device's list. */
	dev = config_create(NULL, "pci.0.7.0");
	CHECK_EQ(blockif_legacy_config(dev, "d,ser=x", "t", NULL), -EINVAL);
	quiet(false);
	config_fini();
}

/* The -s form through the real option parser and the device's table. */
TEST(virtio_blk_option)
{
	static const char *const bad[] = {
		"4,virtio-blk,/d,foo",
		"4,virtio-blk,/d,sectorsize=1000",
		"4,virtio-blk,/d,sectorsize=512/256",
		"4,virtio-blk,/d,sectorsize=131072",
		"4,virtio-blk,,ro",
		"4,virtio-blk,/d,ro=perhaps",
	};

	config_init();
	CHECK_EQ(options_parse_pci_slot("4,virtio-blk,/dev/sdz,ro,nocache,"
	    "sectorsize=4096,ser=ABC,transport=modern"), 0);
	CHECK_STR(config_get(NULL, "pci.0.4.0.device"), "virtio-blk");
	CHECK_STR(config_get(NULL, "pci.0.4.0.path"), "/dev/sdz");
	CHECK_STR(config_get(NULL, "pci.0.4.0.ro"), "true");
	CHECK_STR(config_get(NULL, "pci.0.4.0.nocache"), "true");
	CHECK_STR(config_get(NULL, "pci.0.4.0.sectorsize"), "4096");
	CHECK_STR(config_get(NULL, "pci.0.4.0.ser"), "ABC");
	CHECK_STR(config_get(NULL, "pci.0.4.0.transport"), "modern");
	config_unset(NULL, "pci.0.4.0");
	quiet(true);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (options_parse_pci_slot(bad[i]) != -EINVAL) {
			quiet(false);
			printf("  accepted -s %s\n", bad[i]);
			*failed = 1;
			quiet(true);
		}
		/* A refused slot leaves nothing behind. */
		if (config_find(NULL, "pci.0.4.0") != NULL) {
			quiet(false);
			printf("  -s %s left settings\n", bad[i]);
			*failed = 1;
			quiet(true);
		}
		config_unset(NULL, "pci.0.4.0");
	}
	quiet(false);
	config_fini();
}

TEST(blockif_config_keys)
{
	struct blockif_opts o;
	struct config_node *dev;

	config_init();
	dev = config_create(NULL, "pci.0.4.0");
	quiet(true);
	CHECK_EQ(blockif_config(dev, "t", &o), -EINVAL); /* no path */
	config_set(dev, "path", "");
	CHECK_EQ(blockif_config(dev, "t", &o), -EINVAL);
	config_set(dev, "path", "/x");
	quiet(false);
	CHECK_EQ(blockif_config(dev, "t", &o), 0);
	CHECK_STR(o.path, "/x");
	CHECK(!o.ro && !o.nocache && !o.sync && !o.nodelete);
	CHECK_EQ(o.sectsz, 0);
	config_set(dev, "direct", "true");
	CHECK_EQ(blockif_config(dev, "t", &o), 0);
	CHECK(o.sync && !o.nocache); /* bhyve: direct is O_SYNC */
	config_unset(dev, "direct");
	config_set(dev, "sync", "on");
	config_set(dev, "nocache", "yes");
	config_set(dev, "ro", "1");
	config_set(dev, "nodelete", "true");
	config_set(dev, "sectorsize", "512/4096");
	CHECK_EQ(blockif_config(dev, "t", &o), 0);
	CHECK(o.sync && o.nocache && o.ro && o.nodelete);
	CHECK_EQ(o.sectsz, 512);
	CHECK_EQ(o.psectsz, 4096);
	/* -o / -k values get the same checks as the -s form. */
	quiet(true);
	config_set(dev, "sectorsize", "520");
	CHECK_EQ(blockif_config(dev, "t", &o), -EINVAL);
	config_set(dev, "sectorsize", "512");
	config_set(dev, "ro", "sometimes");
	CHECK_EQ(blockif_config(dev, "t", &o), -EINVAL);
	quiet(false);
	config_fini();
}

/* ---- opening ---------------------------------------------------------- */

TEST(blockif_open_errors)
{
	struct blockif_opts o = { 0 };
	struct blockif_ctxt *bc = NULL;
	char path[64], dir[64];

	quiet(true);
	o.path = "/nonexistent/khyve-disk.img";
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), -ENOENT);
	CHECK(bc == NULL);
	snprintf(dir, sizeof(dir), "/tmp/khyve-blkdir-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	o.path = dir;
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), -EISDIR);
	o.ro = true; /* opens, but a directory is no disk */
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), -ENODEV);
	rmdir(dir);
	o.path = "/dev/null"; /* a character device */
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), -ENODEV);
	CHECK(bc == NULL);
	quiet(false);
	/* Sector sizes: files default to 512 and st_blksize. */
	CHECK_EQ(mkimage(path, sizeof(path), 8192), 0);
	o = (struct blockif_opts){ .path = path };
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), 0);
	if (bc != NULL) {
		uint32_t ps, po;
		struct stat st;

		stat(path, &st);
		CHECK_EQ(blockif_size(bc), 8192);
		CHECK_EQ(blockif_sectsz(bc), 512);
		blockif_psectsz(bc, &ps, &po);
		CHECK_EQ(ps, st.st_blksize);
		CHECK_EQ(po, 0);
		CHECK_EQ(blockif_queuesz(bc), 16);
		CHECK(!blockif_is_ro(bc));
		CHECK(blockif_candelete(bc)); /* ext4/tmpfs punch holes */
		blockif_close(bc);
	}
	o.sectsz = 4096;
	o.psectsz = 16384;
	o.nodelete = true;
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), 0);
	if (bc != NULL) {
		uint32_t ps, po;

		CHECK_EQ(blockif_sectsz(bc), 4096);
		blockif_psectsz(bc, &ps, &po);
		CHECK_EQ(ps, 16384);
		CHECK(!blockif_candelete(bc));
		blockif_close(bc);
	}
	unlink(path);
}

TEST(blockif_open_flags)
{
	struct blockif_opts o = { 0 };
	struct blockif_ctxt *bc = NULL;
	char path[64];
	int fl;

	CHECK_EQ(mkimage(path, sizeof(path), 8192), 0);
	o.path = path;
	o.nocache = true;
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), 0);
	if (bc != NULL) {
		fl = fcntl(blockif_fd(bc), F_GETFL);
		CHECK((fl & O_DIRECT) != 0);
		CHECK((fl & O_SYNC) != O_SYNC);
		CHECK_EQ(fl & O_ACCMODE, O_RDWR);
		blockif_close(bc);
	}
	o.nocache = false;
	o.sync = true;
	o.ro = true;
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), 0);
	if (bc != NULL) {
		fl = fcntl(blockif_fd(bc), F_GETFL);
		CHECK((fl & O_SYNC) == O_SYNC);
		CHECK((fl & O_DIRECT) == 0);
		CHECK_EQ(fl & O_ACCMODE, O_RDONLY);
		CHECK(blockif_is_ro(bc));
		CHECK(!blockif_candelete(bc)); /* never on a read-only disk */
		blockif_close(bc);
	}
	unlink(path);
}

/* ---- I/O -------------------------------------------------------------- */

TEST(blockif_read_write)
{
	static const size_t wl[] = { 512, 1536, 4096, 2048 }; /* 8 KiB */
	static const size_t rl[] = { 3000, 5192 };
	static uint8_t wbuf[8192], rbuf[8192];
	struct waiter w;
	struct blockif_ctxt *bc;
	char path[64];
	int rc;

	CHECK_EQ(mkimage(path, sizeof(path), DISK), 0);
	bc = open_opts(path, false, &rc);
	CHECK_EQ(rc, 0);
	if (bc == NULL)
		return;
	waiter_init(&w);
	for (size_t i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 31 + 7);
	set_iov(&w.req, 4096, wbuf, wl, 4);
	CHECK_EQ(run(blockif_write, bc, &w), 0);
	CHECK_EQ(w.req.len, 8192);
	CHECK_EQ(w.req.resid, 0);
	CHECK(file_holds(path, 4096, wbuf, sizeof(wbuf)));
	CHECK(file_is_pat(path, 0, 4096));
	CHECK(file_is_pat(path, 12288, 4096));
	/* Read back with a different split. */
	memset(rbuf, 0, sizeof(rbuf));
	set_iov(&w.req, 4096, rbuf, rl, 2);
	CHECK_EQ(run(blockif_read, bc, &w), 0);
	CHECK_EQ(w.req.resid, 0);
	CHECK(memcmp(rbuf, wbuf, sizeof(rbuf)) == 0);
	/* The last sector, and a zero-length read. */
	set_iov(&w.req, DISK - 512, rbuf, wl, 1);
	CHECK_EQ(run(blockif_read, bc, &w), 0);
	CHECK(rbuf[0] == pat(DISK - 512) && rbuf[511] == pat(DISK - 1));
	set_iov(&w.req, DISK, rbuf, wl, 0);
	CHECK_EQ(run(blockif_read, bc, &w), 0);
	/* Flush. */
	CHECK_EQ(run(blockif_flush, bc, &w), 0);
	CHECK(!blockif_failed(bc));
	CHECK_EQ(w.calls, 5);
	blockif_close(bc);
	unlink(path);
}

/* O_DIRECT with buffers no disk would accept goes through a bounce. */
TEST(blockif_nocache_unaligned)
{
	static const size_t l1[] = { 1000, 24, 3072 }; /* 4096, odd pieces */
	struct blockif_opts o = { 0 };
	struct blockif_ctxt *bc = NULL;
	struct waiter w;
	uint8_t *mem = malloc(3 * 4096), *wb = mem + 3, *rb = mem + 4096 + 5;
	char path[64];

	CHECK_EQ(mkimage(path, sizeof(path), DISK), 0);
	o.path = path;
	o.nocache = true;
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), 0);
	if (bc == NULL || mem == NULL)
		goto out;
	waiter_init(&w);
	for (int i = 0; i < 4096; i++)
		wb[i] = (uint8_t)(i ^ 0x5a);
	set_iov(&w.req, 8192, wb, l1, 3);
	CHECK_EQ(run(blockif_write, bc, &w), 0);
	CHECK(file_holds(path, 8192, wb, 4096));
	memset(rb, 0, 4096);
	set_iov(&w.req, 8192, rb, l1, 3);
	CHECK_EQ(run(blockif_read, bc, &w), 0);
	CHECK(memcmp(rb, wb, 4096) == 0);
	CHECK(file_is_pat(path, 12288, 4096));
	blockif_close(bc);
out:
	free(mem);
	unlink(path);
}

TEST(blockif_out_of_range)
{
	static uint8_t buf[4096];
	static const size_t l1[] = { 1024 };
	struct waiter w;
	struct blockif_ctxt *bc;
	char path[64];
	int rc;

	CHECK_EQ(mkimage(path, sizeof(path), DISK), 0);
	bc = open_opts(path, false, &rc);
	if (bc == NULL) {
		CHECK(bc != NULL);
		return;
	}
	waiter_init(&w);
	memset(buf, 0xee, sizeof(buf));
	set_iov(&w.req, DISK - 512, buf, l1, 1); /* straddles the end */
	CHECK_EQ(run(blockif_write, bc, &w), -EINVAL);
	CHECK_EQ(run(blockif_read, bc, &w), -EINVAL);
	set_iov(&w.req, DISK + 512, buf, l1, 1);
	CHECK_EQ(run(blockif_write, bc, &w), -EINVAL);
	set_iov(&w.req, UINT64_MAX - 511, buf, l1, 1); /* offset + len wraps */
	CHECK_EQ(run(blockif_write, bc, &w), -EINVAL);
	set_iov(&w.req, 0, buf, l1, 1);
	w.req.iovcnt = BLOCKIF_IOV_MAX + 1;
	CHECK_EQ(run(blockif_write, bc, &w), -EINVAL);
	w.req.iovcnt = -1;
	CHECK_EQ(run(blockif_read, bc, &w), -EINVAL);
	/* Iovec lengths that wrap 64 bits. */
	w.req.iovcnt = 2;
	w.req.iov[0].iov_len = SIZE_MAX;
	w.req.iov[1].iov_len = 2;
	CHECK_EQ(run(blockif_read, bc, &w), -EINVAL);
	w.req.offset = DISK - 512;
	w.req.len = 1024;
	CHECK_EQ(run(blockif_discard, bc, &w), -EINVAL);
	CHECK_EQ(run(blockif_write_zeroes, bc, &w), -EINVAL);
	w.req.offset = 512;
	w.req.len = UINT64_MAX;
	CHECK_EQ(run(blockif_write_zeroes, bc, &w), -EINVAL);
	/* Nothing was done and no callback ran. */
	CHECK_EQ(w.calls, 0);
	CHECK(file_is_pat(path, 0, DISK));
	blockif_close(bc);
	unlink(path);
}

TEST(blockif_read_only)
{
	static uint8_t buf[4096];
	static const size_t l1[] = { 4096 };
	struct waiter w;
	struct blockif_ctxt *bc;
	char path[64];
	int rc;

	CHECK_EQ(mkimage(path, sizeof(path), DISK), 0);
	bc = open_opts(path, true, &rc);
	if (bc == NULL) {
		CHECK(bc != NULL);
		return;
	}
	waiter_init(&w);
	memset(buf, 0xee, sizeof(buf));
	set_iov(&w.req, 0, buf, l1, 1);
	CHECK_EQ(run(blockif_write, bc, &w), -EROFS);
	w.req.offset = 0;
	w.req.len = 4096;
	CHECK_EQ(run(blockif_discard, bc, &w), -EROFS);
	CHECK_EQ(run(blockif_write_zeroes, bc, &w), -EROFS);
	CHECK_EQ(w.calls, 0);
	set_iov(&w.req, 4096, buf, l1, 1);
	CHECK_EQ(run(blockif_read, bc, &w), 0);
	CHECK(buf[0] == pat(4096) && buf[4095] == pat(8191));
	CHECK(file_is_pat(path, 0, DISK));
	blockif_close(bc);
	unlink(path);
}

TEST(blockif_discard_write_zeroes)
{
	struct blockif_opts o = { 0 };
	struct waiter w;
	struct blockif_ctxt *bc = NULL;
	struct stat st0, st1;
	char path[64];

	CHECK_EQ(mkimage(path, sizeof(path), DISK), 0);
	o.path = path;
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), 0);
	if (bc == NULL)
		return;
	waiter_init(&w);
	stat(path, &st0);
	/* Discard 64 KiB: reads back as zeroes, blocks freed, size kept. */
	w.req.offset = 65536;
	w.req.len = 65536;
	CHECK_EQ(run(blockif_discard, bc, &w), 0);
	CHECK(file_is_zero(path, 65536, 65536));
	CHECK(file_is_pat(path, 0, 65536));
	CHECK(file_is_pat(path, 131072, 4096));
	stat(path, &st1);
	CHECK_EQ(st1.st_size, DISK);
	CHECK(st1.st_blocks < st0.st_blocks);
	/* Write zeroes, not block aligned, with and without UNMAP. */
	w.req.offset = 512 * 3;
	w.req.len = 512 * 5;
	w.req.flags = 0;
	CHECK_EQ(run(blockif_write_zeroes, bc, &w), 0);
	CHECK(file_is_zero(path, 1536, 2560));
	CHECK(file_is_pat(path, 0, 1536));
	CHECK(file_is_pat(path, 4096, 4096));
	w.req.offset = 200 * 1024;
	w.req.len = 12 * 1024;
	w.req.flags = BLOCKIF_F_UNMAP;
	CHECK_EQ(run(blockif_write_zeroes, bc, &w), 0);
	CHECK(file_is_zero(path, 200 * 1024, 12 * 1024));
	CHECK(file_is_pat(path, 212 * 1024, 4096));
	CHECK(file_is_pat(path, 196 * 1024, 4096));
	/* Up to the very end. */
	w.req.offset = DISK - 1024;
	w.req.len = 1024;
	w.req.flags = 0;
	CHECK_EQ(run(blockif_write_zeroes, bc, &w), 0);
	CHECK(file_is_zero(path, DISK - 1024, 1024));
	stat(path, &st1);
	CHECK_EQ(st1.st_size, DISK);
	blockif_close(bc);

	/* nodelete: no discard at all, write zeroes still works. */
	o.nodelete = true;
	CHECK_EQ(blockif_open(&o, "t", "t", 16, &bc), 0);
	if (bc == NULL)
		goto out;
	w.req.offset = 0;
	w.req.len = 4096;
	CHECK_EQ(run(blockif_discard, bc, &w), -EOPNOTSUPP);
	CHECK(file_is_pat(path, 0, 1536));
	w.req.flags = BLOCKIF_F_UNMAP;
	CHECK_EQ(run(blockif_write_zeroes, bc, &w), 0);
	CHECK(file_is_zero(path, 0, 4096));
	blockif_close(bc);
out:
	unlink(path);
}

/* ---- concurrency ------------------------------------------------------ */

/*
 * Callbacks that hold their worker until `want` of them run at once (or
 * 5 s pass): only a pool really working in parallel gets there.
 */
struct gate {
	pthread_mutex_t m;
	pthread_cond_t c;
	int running, peak, want, completed, released;
};

struct gated {
	struct blockif_req req;
	struct gate *g;
	int err;
};

static void gated_cb(struct blockif_req *r, int err)
{
	struct gated *x = r->param;
	struct gate *g = x->g;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&g->m);
	x->err = err;
	g->running++;
	g->peak = MAX(g->peak, g->running);
	if (g->running >= g->want)
		g->released = 1; /* the goal was met: let everyone go */
	pthread_cond_broadcast(&g->c);
	while (!g->released &&
	    pthread_cond_timedwait(&g->c, &g->m, &ts) == 0)
		;
	g->running--;
	g->completed++;
	pthread_cond_broadcast(&g->c);
	pthread_mutex_unlock(&g->m);
}

static void gate_wait(struct gate *g, int completed)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&g->m);
	while (g->completed < completed &&
	    pthread_cond_timedwait(&g->c, &g->m, &ts) == 0)
		;
	pthread_mutex_unlock(&g->m);
}

TEST(blockif_in_flight)
{
	static uint8_t bufs[BLOCKIF_NUMTHR][4096];
	struct gated x[BLOCKIF_NUMTHR];
	struct gate g = { .m = PTHREAD_MUTEX_INITIALIZER,
		.c = PTHREAD_COND_INITIALIZER, .want = BLOCKIF_NUMTHR };
	struct blockif_ctxt *bc;
	char path[64];
	int rc;

	CHECK_EQ(mkimage(path, sizeof(path), DISK), 0);
	bc = open_opts(path, false, &rc);
	if (bc == NULL) {
		CHECK(bc != NULL);
		return;
	}
	for (int i = 0; i < BLOCKIF_NUMTHR; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		x[i].g = &g;
		x[i].req.callback = gated_cb;
		x[i].req.param = &x[i];
		x[i].req.offset = (uint64_t)i * 8192;
		x[i].req.iovcnt = 1;
		x[i].req.iov[0].iov_base = bufs[i];
		x[i].req.iov[0].iov_len = sizeof(bufs[i]);
		CHECK_EQ(blockif_read(bc, &x[i].req), 0);
	}
	gate_wait(&g, BLOCKIF_NUMTHR);
	CHECK_EQ(g.completed, BLOCKIF_NUMTHR);
	CHECK_EQ(g.peak, BLOCKIF_NUMTHR); /* all eight at once */
	for (int i = 0; i < BLOCKIF_NUMTHR; i++) {
		CHECK_EQ(x[i].err, 0);
		CHECK(bufs[i][0] == pat((uint64_t)i * 8192));
	}
	blockif_close(bc);
	unlink(path);
}

/* At most qsize + one per worker outstanding; then -EAGAIN. */
TEST(blockif_queue_bound)
{
	static uint8_t buf[512];
	struct gated x[6];
	struct gate g = { .m = PTHREAD_MUTEX_INITIALIZER,
		.c = PTHREAD_COND_INITIALIZER, .want = 1000 };
	struct blockif_opts o = { 0 };
	struct blockif_ctxt *bc = NULL;
	char path[64];
	int ok = 0;

	CHECK_EQ(mkimage(path, sizeof(path), DISK), 0);
	o.path = path;
	o.nthreads = 1;
	CHECK_EQ(blockif_open(&o, "t", "t", 2, &bc), 0);
	if (bc == NULL)
		return;
	for (int i = 0; i < 6; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		x[i].g = &g;
		x[i].req.callback = gated_cb;
		x[i].req.param = &x[i];
		x[i].req.iovcnt = 1;
		x[i].req.iov[0].iov_base = buf;
		x[i].req.iov[0].iov_len = sizeof(buf);
	}
	/* The single worker blocks in the first callback. */
	for (int i = 0; i < 3; i++)
		ok += blockif_read(bc, &x[i].req) == 0;
	CHECK_EQ(ok, 3);
	CHECK_EQ(blockif_read(bc, &x[3].req), -EAGAIN);
	CHECK_EQ(blockif_flush(bc, &x[4].req), -EAGAIN);
	pthread_mutex_lock(&g.m);
	g.released = 1;
	pthread_cond_broadcast(&g.c);
	pthread_mutex_unlock(&g.m);
	gate_wait(&g, 3);
	CHECK_EQ(g.completed, 3);
	CHECK_EQ(g.peak, 1);
	/* Room again. */
	CHECK_EQ(blockif_read(bc, &x[5].req), 0);
	gate_wait(&g, 4);
	CHECK_EQ(g.completed, 4);
	blockif_close(bc);
	unlink(path);
}

/*
 * Quiesce: requests not started are handed back (no callback ever), the
 * started one's I/O is over when it returns, its callback still comes.
 */
static void count_cancelled_w(struct blockif_req *req, void *arg)
{
	(void)req;
	(*(int *)arg)++;
}

/* Wait for a waiter's callback (10 s at most); its error or 1000. */
static int run_wait(struct waiter *w)
{
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&w->m);
	while (!w->done && pthread_cond_timedwait(&w->c, &w->m, &ts) == 0)
		;
	rc = w->done ? w->err : 1000;
	pthread_mutex_unlock(&w->m);
	return rc;
}

static void count_cancelled(struct blockif_req *req, void *arg)
{
	struct gated *x = req->param;

	x->err = 4242;
	(*(int *)arg)++;
}

TEST(blockif_quiesce)
{
	static uint8_t buf[4][4096];
	struct gated x[4];
	struct gate g = { .m = PTHREAD_MUTEX_INITIALIZER,
		.c = PTHREAD_COND_INITIALIZER, .want = 1000 };
	struct blockif_opts o = { 0 };
	struct blockif_ctxt *bc = NULL;
	char path[64];
	int cancelled = 0;

	CHECK_EQ(mkimage(path, sizeof(path), DISK), 0);
	o.path = path;
	o.nthreads = 1;
	CHECK_EQ(blockif_open(&o, "t", "t", 8, &bc), 0);
	if (bc == NULL)
		return;
	for (int i = 0; i < 4; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		memset(buf[i], 0xcc, sizeof(buf[i]));
		x[i].g = &g;
		x[i].req.callback = gated_cb;
		x[i].req.param = &x[i];
		x[i].req.offset = (uint64_t)i * 4096;
		x[i].req.iovcnt = 1;
		x[i].req.iov[0].iov_base = buf[i];
		x[i].req.iov[0].iov_len = 4096;
		CHECK_EQ(blockif_read(bc, &x[i].req), 0);
	}
	/* The single worker is held in the first callback. */
	for (int i = 0; i < 5000; i++) {
		pthread_mutex_lock(&g.m);
		int r = g.running;
		pthread_mutex_unlock(&g.m);
		if (r == 1)
			break;
		usleep(1000);
	}
	blockif_quiesce(bc, count_cancelled, &cancelled);
	CHECK_EQ(cancelled, 3);
	CHECK(buf[0][0] == pat(0));
	for (int i = 1; i < 4; i++) {
		CHECK_EQ(x[i].err, 4242);
		CHECK(buf[i][0] == 0xcc && buf[i][4095] == 0xcc);
	}
	pthread_mutex_lock(&g.m);
	g.released = 1;
	pthread_cond_broadcast(&g.c);
	pthread_mutex_unlock(&g.m);
	gate_wait(&g, 1);
	/* The slots are free again: a full queue's worth is accepted. */
	for (int i = 1; i < 4; i++)
		CHECK_EQ(blockif_read(bc, &x[i].req), 0);
	gate_wait(&g, 4);
	blockif_close(bc);
	CHECK_EQ(g.completed, 4);
	for (int i = 1; i < 4; i++)
		CHECK(buf[i][0] == pat((uint64_t)i * 4096));
	unlink(path);
}

/*
 * Quiesce during one long read (32 MiB of a sparse file): afterwards the
 * buffer is either untouched (cancelled before it started) or completely
 * read, never half-written.
 */
TEST(blockif_quiesce_mid_io)
{
	const size_t big = 32u << 20;
	struct blockif_opts o = { 0 };
	struct blockif_ctxt *bc = NULL;
	struct waiter w;
	char path[] = "/tmp/khyve-blk-big-XXXXXX";
	uint8_t *buf = malloc(big);
	int fd = mkstemp(path), cancelled = 0, whole = 0, untouched = 0;

	CHECK(buf != NULL && fd >= 0 && ftruncate(fd, (off_t)big) == 0);
	close(fd);
	o.path = path;
	o.nthreads = 1;
	CHECK_EQ(blockif_open(&o, "t", "t", 8, &bc), 0);
	if (bc == NULL || buf == NULL)
		goto out;
	for (int round = 0; round < 4; round++) {
		memset(buf, 0xcc, big);
		waiter_init(&w);
		w.req.iovcnt = 1;
		w.req.iov[0].iov_base = buf;
		w.req.iov[0].iov_len = big;
		cancelled = 0;
		CHECK_EQ(blockif_read(bc, &w.req), 0);
		usleep(500 + 500 * (useconds_t)round);
		blockif_quiesce(bc, count_cancelled_w, &cancelled);
		if (cancelled) {
			untouched += buf[0] == 0xcc && buf[big - 1] == 0xcc;
		} else {
			whole += buf[0] == 0 && buf[big / 2] == 0 &&
			    buf[big - 1] == 0;
			/* Its callback still comes. */
			CHECK_EQ(run_wait(&w), 0);
		}
	}
	CHECK_EQ(whole + untouched, 4);
	blockif_close(bc);
out:
	free(buf);
	unlink(path);
}

/* Close lets every accepted request complete. */
TEST(blockif_close_drains)
{
	static uint8_t buf[16][4096];
	struct waiter w[16];
	struct blockif_ctxt *bc;
	char path[64];
	int rc, calls = 0, errs = 0;

	CHECK_EQ(mkimage(path, sizeof(path), DISK), 0);
	bc = open_opts(path, false, &rc);
	if (bc == NULL) {
		CHECK(bc != NULL);
		return;
	}
	for (int i = 0; i < 16; i++) {
		waiter_init(&w[i]);
		w[i].req.offset = (uint64_t)i * 4096;
		w[i].req.iovcnt = 1;
		w[i].req.iov[0].iov_base = buf[i];
		w[i].req.iov[0].iov_len = 4096;
		CHECK_EQ(blockif_write(bc, &w[i].req), 0);
	}
	blockif_close(bc);
	for (int i = 0; i < 16; i++) {
		calls += w[i].calls;
		errs += w[i].err != 0;
	}
	CHECK_EQ(calls, 16);
	CHECK_EQ(errs, 0);
	unlink(path);
}

/* ---- errors ----------------------------------------------------------- */

TEST(blockif_io_errors)
{
	static uint8_t buf[4096];
	static const size_t l1[] = { 4096 };
	struct waiter w;
	struct blockif_ctxt *bc;
	char path[64];
	int rc, full, saved, rdonly;

	CHECK_EQ(mkimage(path, sizeof(path), DISK), 0);
	bc = open_opts(path, false, &rc);
	if (bc == NULL) {
		CHECK(bc != NULL);
		return;
	}
	waiter_init(&w);
	saved = dup(blockif_fd(bc));
	/* A descriptor open for reading only: writes fail with EBADF. */
	rdonly = open(path, O_RDONLY);
	dup2(rdonly, blockif_fd(bc));
	close(rdonly);
	set_iov(&w.req, 0, buf, l1, 1);
	CHECK_EQ(run(blockif_write, bc, &w), -EBADF);
	CHECK_EQ(run(blockif_read, bc, &w), 0);
	/* /dev/full: writes get ENOSPC, fdatasync EINVAL. */
	full = open("/dev/full", O_RDWR);
	CHECK(full >= 0);
	dup2(full, blockif_fd(bc));
	close(full);
	set_iov(&w.req, 0, buf, l1, 1);
	CHECK_EQ(run(blockif_write, bc, &w), -ENOSPC);
	CHECK(!blockif_failed(bc));
	quiet(true);
	rc = run(blockif_flush, bc, &w);
	quiet(false);
	CHECK(rc < 0 && rc != 1000);
	CHECK(blockif_failed(bc));
	/* The real file back: still every flush and write fails. */
	dup2(saved, blockif_fd(bc));
	close(saved);
	CHECK_EQ(run(blockif_flush, bc, &w), -EIO);
	set_iov(&w.req, 0, buf, l1, 1);
	CHECK_EQ(run(blockif_write, bc, &w), -EIO);
	w.req.offset = 0;
	w.req.len = 4096;
	CHECK_EQ(run(blockif_write_zeroes, bc, &w), -EIO);
	CHECK_EQ(run(blockif_discard, bc, &w), -EIO);
	/* With FUA a write also waits for (and reports) the sync. */
	set_iov(&w.req, 0, buf, l1, 1);
	w.req.flags = BLOCKIF_F_FUA;
	CHECK_EQ(run(blockif_write, bc, &w), -EIO);
	/* Reads still work, and nothing was written. */
	set_iov(&w.req, 0, buf, l1, 1);
	w.req.flags = 0;
	CHECK_EQ(run(blockif_read, bc, &w), 0);
	CHECK(buf[0] == pat(0));
	CHECK(file_is_pat(path, 0, DISK));
	blockif_close(bc);
	unlink(path);
}

/* ---- md5 (for the default serial) ------------------------------------- */

TEST(md5_vectors)
{
	/* RFC 1321 appendix A.5. */
	static const struct {
		const char *in, *hex;
	} v[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz",
		    "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		    "d174ab98d277d9f5a5611c2c9f419d9f" },
		{ "1234567890123456789012345678901234567890123456789012345678901"
		  "2345678901234567890", "57edf4a22be3c955ac49da2e2107b67a" },
	};
	uint8_t d[16];
	char hex[33];
	struct md5_ctx c;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		md5_digest(v[i].in, strlen(v[i].in), d);
		for (int j = 0; j < 16; j++)
			snprintf(hex + 2 * j, 3, "%02x", d[j]);
		CHECK_STR(hex, v[i].hex);
	}
	/* Fed in odd pieces. */
	md5_init(&c);
	for (const char *p = v[6].in; *p; p += MIN(strlen(p), (size_t)7))
		md5_update(&c, p, MIN(strlen(p), (size_t)7));
	md5_final(&c, d);
	for (int j = 0; j < 16; j++)
		snprintf(hex + 2 * j, 3, "%02x", d[j]);
	CHECK_STR(hex, v[6].hex);
}
