/*
 * blockif.c - the block back end: option parsing, opening the backing
 * store, and a pool of worker threads doing the I/O (see blockif.h).
 *
 * Structure (bhyve's block_if.c, simplified): submitted requests go on one
 * FIFO list under bc->mtx; BLOCKIF_NUMTHR workers take them off the head
 * and run them in parallel with plain preadv/pwritev/fdatasync/fallocate
 * calls, so up to NUMTHR requests are in the kernel at once.  Completion
 * order is therefore not submission order, which virtio allows (a driver
 * that needs ordering waits for completions).  bhyve serialises requests
 * whose ranges touch; nothing here needs that, since a guest that issues
 * overlapping writes concurrently gets whichever lands last on any disk.
 *
 * Lock order: a device lock (held while submitting) before bc->mtx;
 * callbacks run with no blockif lock held.  bc->sync_mtx only serialises
 * fdatasync calls so exactly one of them can observe a write-back error
 * (Linux reports it once per open file) and mark the back end failed
 * before any other flush is acknowledged.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend/blockif.h"
#include "common.h"
#include "config.h"
#include "sandbox/sandbox.h"
#include "thread.h"

#define BOUNCE_SIZE (1u << 20) /* O_DIRECT bounce buffer per worker */
#define ZERO_SIZE (64u << 10)  /* zero-fill chunk for write-zeroes */

struct blockif_worker {
	struct blockif_ctxt *bc;
	pthread_t tid;
	uint8_t *bounce; /* lazily allocated, BOUNCE_SIZE, page aligned */
};

struct blockif_ctxt {
	int fd;
	bool isblk; /* a block device, not a regular file */
	bool ro, candelete, direct;
	uint64_t size;
	uint32_t sectsz, psectsz, psectoff;
	uint32_t dio_align; /* O_DIRECT: buffer and length alignment */
	const char *what;   /* for messages, e.g. "virtio-blk 0:4:0" */
	char path[256];     /* for messages only */

	pthread_mutex_t mtx;
	pthread_cond_t cond;
	struct blockif_req *head, *tail; /* accepted, not yet taken */
	int outstanding; /* accepted and not yet past their callback */
	int busy;        /* taken by a worker, I/O not finished */
	pthread_cond_t idle; /* busy dropped to 0 */
	int limit;       /* qsize + nthreads */
	int qsize;
	bool closing;

	pthread_mutex_t sync_mtx;
	atomic_bool failed; /* an fdatasync failed: see blockif.h */

	int nthreads;
	struct blockif_worker *workers;
};

static const uint8_t zeroes[ZERO_SIZE] __attribute__((aligned(4096)));

/* ---- options ---------------------------------------------------------- */

static const char *const bool_keys[] = { "ro", "nocache", "direct", "sync",
	"nodelete" };

static bool is_pow2(unsigned long v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static int parse_size(const char *s, const char *end, uint32_t *out)
{
	unsigned long v = 0;
	const char *p;

	if (s == end || end - s > 5)
		return -EINVAL;
	for (p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (!is_pow2(v) || v < BLOCKIF_SECTOR_MIN || v > BLOCKIF_SECTOR_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int blockif_parse_sectorsize(const char *s, uint32_t *l, uint32_t *p)
{
	const char *slash = strchr(s, '/');
	uint32_t lv, pv;

	if (parse_size(s, slash ? slash : s + strlen(s), &lv) != 0)
		return -EINVAL;
	if (slash == NULL)
		pv = lv;
	else if (parse_size(slash + 1, slash + 1 + strlen(slash + 1), &pv) !=
	    0)
		return -EINVAL;
	if (lv > pv)
		return -EINVAL;
	*l = lv;
	*p = pv;
	return 0;
}

static const char sectorsize_why[] = "expected L or L/P, powers of two in "
				     "512..65536 with L <= P";

int blockif_config(struct config_node *cfg, const char *what,
    struct blockif_opts *o)
{
	const char *v;
	bool b[ARRAY_SIZE(bool_keys)];

	memset(o, 0, sizeof(*o));
	o->path = config_get(cfg, "path");
	if (o->path == NULL || o->path[0] == '\0') {
		khyve_warnx("%s: missing path of the backing file or device "
		    "(SLOT,EMULATION,PATH[,options])", what);
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(bool_keys); i++) {
		b[i] = false;
		/* -ENOENT leaves false; -EINVAL was printed. */
		if (config_get_bool(cfg, bool_keys[i], &b[i]) == -EINVAL)
			return -EINVAL;
	}
	o->ro = b[0];
	o->nocache = b[1];
	o->sync = b[2] || b[3]; /* bhyve: "direct" and "sync" are O_SYNC */
	o->nodelete = b[4];
	v = config_get(cfg, "sectorsize");
	if (v != NULL &&
	    blockif_parse_sectorsize(v, &o->sectsz, &o->psectsz) != 0) {
		khyve_warnx("%s: sectorsize=%s: %s", what, v, sectorsize_why);
		return -EINVAL;
	}
	return 0;
}

static bool in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; list != NULL && (n == 0 ? list[i] != NULL : i < n);
	     i++)
		if (strcmp(key, list[i]) == 0)
			return true;
	return false;
}

int blockif_legacy_config(struct config_node *dev, const char *conf,
    const char *what, const char *const *extra_keys)
{
	char *copy, *rest, *path, *tok, *eq;
	const char *key, *val;
	uint32_t l, p;
	bool bv;
	int rc = -EINVAL;

	copy = strdup(conf);
	if (copy == NULL) {
		khyve_warnx("%s: out of memory", what);
		return -ENOMEM;
	}
	rest = copy;
	path = strsep(&rest, ",");
	if (path[0] == '\0') {
		khyve_warnx("%s: missing path of the backing file or device "
		    "before \"%s\"", what, conf);
		goto out;
	}
	if (config_set(dev, "path", path) != 0) {
		khyve_warnx("%s: path \"%s\" is too long", what, path);
		goto out;
	}
	while ((tok = strsep(&rest, ",")) != NULL) {
		if (tok[0] == '\0') {
			khyve_warnx("%s: empty option in \"%s\"", what, conf);
			goto out;
		}
		eq = strchr(tok, '=');
		if (eq != NULL)
			*eq = '\0';
		key = tok;
		val = eq != NULL ? eq + 1 : "true";
		if (in_list(key, bool_keys, ARRAY_SIZE(bool_keys))) {
			if (config_parse_bool(val, &bv) != 0) {
				khyve_warnx("%s: %s=%s: expected a boolean "
				    "(true/false, on/off, yes/no, 1/0)", what,
				    key, val);
				goto out;
			}
		} else if (strcmp(key, "sectorsize") == 0) {
			if (blockif_parse_sectorsize(val, &l, &p) != 0) {
				khyve_warnx("%s: sectorsize=%s: %s", what, val,
				    sectorsize_why);
				goto out;
			}
		} else if (!in_list(key, extra_keys, 0)) {
			char more[128] = "";

			for (int i = 0; extra_keys != NULL &&
			     extra_keys[i] != NULL; i++) {
				size_t used = strlen(more);

				snprintf(more + used, sizeof(more) - used, ", %s",
				    extra_keys[i]);
			}
			khyve_warnx("%s: unknown option \"%s\" (known: ro, "
			    "nocache, direct, sync, sectorsize=L[/P], "
			    "nodelete%s)", what, key, more);
			goto out;
		}
		if (config_set(dev, key, val) != 0) {
			khyve_warnx("%s: cannot store %s=%s", what, key, val);
			goto out;
		}
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/* ---- opening ---------------------------------------------------------- */

/* Does the file system punch holes?  Probe past EOF, where it is a no-op. */
static bool probe_punch(int fd, uint64_t size)
{
	uint64_t off = ALIGN_UP(size, 4096) + 4096;
	int r;

	if (size > (uint64_t)INT64_MAX - 3 * 4096)
		return false;
	do
		r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    (off_t)off, 4096);
	while (r != 0 && errno == EINTR);
	return r == 0;
}

/* A block device discards if its queue says discard_max_bytes > 0. */
static bool probe_blkdiscard(const struct stat *st)
{
	char p[96];
	unsigned long long v = 0;
	FILE *f;
	int n = 0;

	/* Whole disks have queue/; partitions share their parent's. */
	for (int i = 0; i < 2 && n != 1; i++) {
		snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/%squeue/"
		    "discard_max_bytes", major(st->st_rdev), minor(st->st_rdev),
		    i == 0 ? "" : "../");
		f = fopen(p, "re");
		if (f == NULL)
			continue;
		n = fscanf(f, "%llu", &v);
		fclose(f);
	}
	return n == 1 && v > 0;
}

static uint32_t file_dio_align(int fd)
{
#ifdef STATX_DIOALIGN
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
	    (sx.stx_mask & STATX_DIOALIGN) != 0) {
		uint32_t a = MAX(sx.stx_dio_mem_align, sx.stx_dio_offset_align);

		if (is_pow2(a) && a <= BLOCKIF_SECTOR_MAX)
			return MAX(a, 512u);
	}
#else
	(void)fd;
#endif
	return 512;
}

static void *worker_main(void *arg);

static int geometry(struct blockif_ctxt *bc, const struct blockif_opts *o,
    const struct stat *st)
{
	uint64_t size;
	int ssz, aoff;
	unsigned int pssz;

	if (S_ISREG(st->st_mode)) {
		bc->size = (uint64_t)st->st_size;
		bc->sectsz = 512;
		/* bhyve reports st_blksize as the physical sector size. */
		bc->psectsz = is_pow2((unsigned long)st->st_blksize) &&
		    st->st_blksize <= BLOCKIF_SECTOR_MAX &&
		    st->st_blksize >= 512 ? (uint32_t)st->st_blksize : 512;
		bc->dio_align = file_dio_align(bc->fd);
		bc->candelete = !o->nodelete && !bc->ro &&
		    probe_punch(bc->fd, bc->size);
	} else if (S_ISBLK(st->st_mode)) {
		bc->isblk = true;
		if (ioctl(bc->fd, BLKGETSIZE64, &size) != 0 ||
		    ioctl(bc->fd, BLKSSZGET, &ssz) != 0) {
			khyve_warn("%s: cannot read the size of %s", bc->what,
			    o->path);
			return -errno;
		}
		if (ioctl(bc->fd, BLKPBSZGET, &pssz) != 0 || pssz < (unsigned)ssz)
			pssz = (unsigned)ssz;
		if (ioctl(bc->fd, BLKALIGNOFF, &aoff) != 0 || aoff < 0)
			aoff = 0;
		if (!is_pow2((unsigned long)ssz) || ssz < 512 ||
		    ssz > BLOCKIF_SECTOR_MAX) {
			khyve_warnx("%s: %s has an unusable sector size %d",
			    bc->what, o->path, ssz);
			return -ENODEV;
		}
		bc->size = size;
		bc->sectsz = (uint32_t)ssz;
		bc->psectsz = is_pow2(pssz) && pssz <= BLOCKIF_SECTOR_MAX ?
		    pssz : (uint32_t)ssz;
		bc->psectoff = (uint32_t)aoff % bc->psectsz;
		bc->dio_align = (uint32_t)ssz;
		bc->candelete = !o->nodelete && !bc->ro && probe_blkdiscard(st);
	} else {
		khyve_warnx("%s: %s is not a regular file or a block device",
		    bc->what, o->path);
		return -ENODEV;
	}
	if (o->sectsz != 0) {
		/*
		 * bhyve: an emulated sector must be a whole number of the
		 * device's sectors, or I/O on it could not be aligned.
		 */
		if (bc->isblk && o->sectsz % bc->sectsz != 0) {
			khyve_warnx("%s: sectorsize=%" PRIu32 " is not a "
			    "multiple of %s's sector size %" PRIu32, bc->what,
			    o->sectsz, o->path, bc->sectsz);
			return -EINVAL;
		}
		bc->sectsz = o->sectsz;
		bc->psectsz = o->psectsz;
		bc->psectoff = 0;
	}
	return 0;
}

static int start_workers(struct blockif_ctxt *bc, const char *ident)
{
	sigset_t all, old;
	char name[16];
	int rc = 0, i;

	bc->workers = calloc((size_t)bc->nthreads, sizeof(*bc->workers));
	if (bc->workers == NULL)
		return -ENOMEM;
	/* Workers inherit a full mask: signals belong to main and vCPUs. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < bc->nthreads; i++) {
		bc->workers[i].bc = bc;
		rc = khyve_thread_create(&bc->workers[i].tid, worker_main,
		    &bc->workers[i]);
		if (rc != 0)
			break;
		snprintf(name, sizeof(name), "blk-%s-%d", ident, i);
		pthread_setname_np(bc->workers[i].tid, name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		khyve_warnx("%s: cannot start I/O threads: %s", bc->what,
		    strerror(-rc));
		bc->nthreads = i; /* blockif_close joins the started ones */
	}
	return rc;
}

int blockif_open(const struct blockif_opts *o, const char *what,
    const char *ident, int qsize, struct blockif_ctxt **out)
{
	struct blockif_ctxt *bc;
	struct stat st;
	int flags, rc, e;

	*out = NULL;
	if (qsize < 1 || qsize > 65536 || o->path == NULL)
		return -EINVAL;
	bc = calloc(1, sizeof(*bc));
	if (bc == NULL)
		return -ENOMEM;
	bc->what = what;
	snprintf(bc->path, sizeof(bc->path), "%s", o->path);
	bc->fd = -1;
	bc->ro = o->ro;
	bc->direct = o->nocache;
	bc->qsize = qsize;
	bc->nthreads = o->nthreads > 0 ? o->nthreads : BLOCKIF_NUMTHR;
	bc->limit = qsize + bc->nthreads;
	pthread_mutex_init(&bc->mtx, NULL);
	pthread_cond_init(&bc->cond, NULL);
	pthread_cond_init(&bc->idle, NULL);
	pthread_mutex_init(&bc->sync_mtx, NULL);
	atomic_init(&bc->failed, false);

	flags = O_CLOEXEC | (o->nocache ? O_DIRECT : 0) |
	    (o->sync ? O_SYNC : 0);
	bc->fd = open(o->path, (bc->ro ? O_RDONLY : O_RDWR) | flags);
	if (bc->fd < 0 && !bc->ro &&
	    (errno == EACCES || errno == EPERM || errno == EROFS)) {
		e = errno;
		bc->fd = open(o->path, O_RDONLY | flags);
		if (bc->fd >= 0) {
			bc->ro = true;
			khyve_warnx("%s: %s cannot be opened for writing (%s); "
			    "the guest gets it read-only", what, o->path,
			    strerror(e));
		}
	}
	if (bc->fd < 0) {
		e = errno;
		khyve_warnx("%s: cannot open %s: %s%s", what, o->path,
		    strerror(e), e == EINVAL && o->nocache ?
		    " (nocache needs O_DIRECT, which this file system "
		    "refuses)" : "");
		/* Host trouble, not a configuration error: exit 4, not 64. */
		rc = e == EINVAL ? -EOPNOTSUPP : -e;
		goto fail;
	}
	if (fstat(bc->fd, &st) != 0) {
		rc = -errno;
		khyve_warn("%s: cannot stat %s", what, o->path);
		goto fail;
	}
	rc = geometry(bc, o, &st);
	if (rc != 0)
		goto fail;
	rc = start_workers(bc, ident);
	if (rc != 0) {
		blockif_close(bc);
		return rc;
	}
	*out = bc;
	return 0;
fail:
	if (bc->fd >= 0)
		close(bc->fd);
	pthread_mutex_destroy(&bc->mtx);
	pthread_cond_destroy(&bc->cond);
	pthread_cond_destroy(&bc->idle);
	pthread_mutex_destroy(&bc->sync_mtx);
	free(bc);
	return rc;
}

void blockif_close(struct blockif_ctxt *bc)
{
	if (bc == NULL)
		return;
	pthread_mutex_lock(&bc->mtx);
	bc->closing = true;
	pthread_cond_broadcast(&bc->cond);
	pthread_mutex_unlock(&bc->mtx);
	/* Workers drain the list before they exit (see worker_main). */
	for (int i = 0; i < bc->nthreads; i++) {
		pthread_join(bc->workers[i].tid, NULL);
		free(bc->workers[i].bounce);
	}
	free(bc->workers);
	close(bc->fd);
	pthread_mutex_destroy(&bc->mtx);
	pthread_cond_destroy(&bc->cond);
	pthread_cond_destroy(&bc->idle);
	pthread_mutex_destroy(&bc->sync_mtx);
	free(bc);
}

/* ---- the I/O ---------------------------------------------------------- */

/*
 * fdatasync, serialised, with the failure made sticky: after the first
 * error every call fails, so no flush is acknowledged once written-back
 * data may have been lost.
 */
static int sync_data(struct blockif_ctxt *bc)
{
	int rc = 0;

	pthread_mutex_lock(&bc->sync_mtx);
	if (atomic_load(&bc->failed)) {
		rc = -EIO;
	} else {
		while (fdatasync(bc->fd) != 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			atomic_store(&bc->failed, true);
			khyve_warnx("%s: flushing %s failed: %s; from now on "
			    "every write and flush to it fails", bc->what,
			    bc->path, strerror(-rc));
			break;
		}
	}
	pthread_mutex_unlock(&bc->sync_mtx);
	return rc;
}

/* Consume `n` bytes from the front of iov[*i..cnt). */
static void iov_advance(struct iovec *v, int *i, int cnt, size_t n)
{
	while (n > 0 && *i < cnt) {
		size_t k = MIN(n, v[*i].iov_len);

		v[*i].iov_base = (uint8_t *)v[*i].iov_base + k;
		v[*i].iov_len -= k;
		n -= k;
		if (v[*i].iov_len == 0)
			(*i)++;
	}
	while (*i < cnt && v[*i].iov_len == 0)
		(*i)++;
}

/* preadv/pwritev until done: short transfers continue, EOF is an error. */
static int rw_direct(struct blockif_ctxt *bc, struct blockif_req *req,
    bool write)
{
	struct iovec v[BLOCKIF_IOV_MAX];
	uint64_t off = req->offset;
	int i = 0, cnt = req->iovcnt;
	ssize_t n;

	memcpy(v, req->iov, (size_t)cnt * sizeof(v[0]));
	iov_advance(v, &i, cnt, 0);
	while (req->resid > 0 && i < cnt) {
		n = write ? pwritev(bc->fd, v + i, cnt - i, (off_t)off) :
		    preadv(bc->fd, v + i, cnt - i, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank under us */
		off += (uint64_t)n;
		req->resid -= (uint64_t)n;
		iov_advance(v, &i, cnt, (size_t)n);
	}
	return 0;
}

static int pio_full(int fd, uint8_t *buf, size_t len, uint64_t off,
    bool write)
{
	ssize_t n;

	while (len > 0) {
		n = write ? pwrite(fd, buf, len, (off_t)off) :
		    pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * O_DIRECT with guest buffers that are not aligned for it: go through an
 * aligned per-worker buffer, one chunk at a time.
 */
static int rw_bounce(struct blockif_worker *w, struct blockif_req *req,
    bool write)
{
	struct blockif_ctxt *bc = w->bc;
	struct iovec v[BLOCKIF_IOV_MAX];
	uint64_t off = req->offset;
	int i = 0, cnt = req->iovcnt, rc;
	size_t chunk, done, k;

	if (w->bounce == NULL &&
	    posix_memalign((void **)&w->bounce, 4096, BOUNCE_SIZE) != 0) {
		w->bounce = NULL;
		return -ENOMEM;
	}
	memcpy(v, req->iov, (size_t)cnt * sizeof(v[0]));
	while (req->resid > 0) {
		chunk = (size_t)MIN(req->resid, (uint64_t)BOUNCE_SIZE);
		if (write) {
			for (done = 0; done < chunk && i < cnt; done += k) {
				k = MIN(chunk - done, v[i].iov_len);
				memcpy(w->bounce + done, v[i].iov_base, k);
				iov_advance(v, &i, cnt, k);
			}
			rc = pio_full(bc->fd, w->bounce, chunk, off, true);
			if (rc != 0)
				return rc;
		} else {
			rc = pio_full(bc->fd, w->bounce, chunk, off, false);
			if (rc != 0)
				return rc;
			for (done = 0; done < chunk && i < cnt; done += k) {
				k = MIN(chunk - done, v[i].iov_len);
				memcpy(v[i].iov_base, w->bounce + done, k);
				iov_advance(v, &i, cnt, k);
			}
		}
		off += chunk;
		req->resid -= chunk;
	}
	return 0;
}

static bool needs_bounce(const struct blockif_ctxt *bc,
    const struct blockif_req *req)
{
	uintptr_t mask = bc->dio_align - 1;

	if (!bc->direct)
		return false;
	for (int i = 0; i < req->iovcnt; i++)
		if (((uintptr_t)req->iov[i].iov_base | req->iov[i].iov_len) &
		    mask)
			return true;
	return false;
}

static int write_zero_bytes(struct blockif_ctxt *bc, uint64_t off,
    uint64_t len)
{
	size_t k;
	int rc;

	while (len > 0) {
		k = (size_t)MIN(len, (uint64_t)ZERO_SIZE);
		rc = pio_full(bc->fd, (uint8_t *)zeroes, k, off, true);
		if (rc != 0)
			return rc;
		off += k;
		len -= k;
	}
	return 0;
}

static bool unsupported(int e)
{
	return e == EOPNOTSUPP || e == ENOTTY || e == ENOSYS;
}

static int do_discard(struct blockif_ctxt *bc, struct blockif_req *req)
{
	uint64_t range[2] = { req->offset, req->len };
	int r;

	if (req->len == 0)
		return 0;
	do
		r = bc->isblk ? ioctl(bc->fd, BLKDISCARD, range) :
		    fallocate(bc->fd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, (off_t)req->offset, (off_t)req->len);
	while (r != 0 && errno == EINTR);
	if (r != 0)
		return unsupported(errno) ? -EOPNOTSUPP : -errno;
	return 0;
}

static int do_write_zeroes(struct blockif_ctxt *bc, struct blockif_req *req)
{
	uint64_t range[2] = { req->offset, req->len };
	int r, mode;

	if (req->len == 0)
		return 0;
	if (bc->isblk) {
		/* BLKZEROOUT itself falls back to writing zeroes. */
		do
			r = ioctl(bc->fd, BLKZEROOUT, range);
		while (r != 0 && errno == EINTR);
	} else {
		/* A punched hole reads back as zeroes on every Linux fs. */
		mode = (req->flags & BLOCKIF_F_UNMAP) && bc->candelete ?
		    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
		    FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		do
			r = fallocate(bc->fd, mode, (off_t)req->offset,
			    (off_t)req->len);
		while (r != 0 && errno == EINTR);
	}
	if (r == 0)
		return 0;
	if (!unsupported(errno) && errno != EINVAL)
		return -errno;
	return write_zero_bytes(bc, req->offset, req->len);
}

static int process(struct blockif_worker *w, struct blockif_req *req)
{
	struct blockif_ctxt *bc = w->bc;
	bool modifies = req->op != BLOCKIF_OP_READ;
	int rc;

	/* After a failed fdatasync nothing may be acknowledged as stored. */
	if (modifies && atomic_load(&bc->failed))
		return -EIO;
	switch (req->op) {
	case BLOCKIF_OP_READ:
		return needs_bounce(bc, req) ? rw_bounce(w, req, false) :
		    rw_direct(bc, req, false);
	case BLOCKIF_OP_WRITE:
		rc = needs_bounce(bc, req) ? rw_bounce(w, req, true) :
		    rw_direct(bc, req, true);
		break;
	case BLOCKIF_OP_FLUSH:
		return sync_data(bc);
	case BLOCKIF_OP_DISCARD:
		return do_discard(bc, req);
	case BLOCKIF_OP_WRITE_ZEROES:
		rc = do_write_zeroes(bc, req);
		break;
	default:
		return -EINVAL;
	}
	if (rc == 0 && (req->flags & BLOCKIF_F_FUA))
		rc = sync_data(bc);
	return rc;
}

static void *worker_main(void *arg)
{
	struct blockif_worker *w = arg;
	struct blockif_ctxt *bc = w->bc;
	struct blockif_req *req;
	int err;

	sandbox_enter(SANDBOX_BLOCK);
	pthread_mutex_lock(&bc->mtx);
	for (;;) {
		while (bc->head == NULL && !bc->closing)
			pthread_cond_wait(&bc->cond, &bc->mtx);
		/* Closing: finish what was accepted, then leave. */
		if (bc->head == NULL)
			break;
		req = bc->head;
		bc->head = req->next;
		if (bc->head == NULL)
			bc->tail = NULL;
		bc->busy++;
		pthread_mutex_unlock(&bc->mtx);

		err = process(w, req);

		/* The buffers are done with: tell blockif_quiesce. */
		pthread_mutex_lock(&bc->mtx);
		if (--bc->busy == 0)
			pthread_cond_broadcast(&bc->idle);
		pthread_mutex_unlock(&bc->mtx);

		req->callback(req, err); /* may submit: no lock held */

		pthread_mutex_lock(&bc->mtx);
		bc->outstanding--;
	}
	pthread_mutex_unlock(&bc->mtx);
	return NULL;
}

void blockif_quiesce(struct blockif_ctxt *bc,
    void (*cancelled)(struct blockif_req *req, void *arg), void *arg)
{
	struct blockif_req *list, *req;

	pthread_mutex_lock(&bc->mtx);
	list = bc->head;
	bc->head = bc->tail = NULL;
	for (req = list; req != NULL; req = req->next)
		bc->outstanding--;
	/*
	 * Only the I/O is waited for, not the callbacks: those may need the
	 * caller's lock.  Nothing new is queued meanwhile (the caller does
	 * not submit), so no worker needs to run a callback to get here.
	 */
	while (bc->busy > 0)
		pthread_cond_wait(&bc->idle, &bc->mtx);
	pthread_mutex_unlock(&bc->mtx);
	while ((req = list) != NULL) {
		list = req->next;
		cancelled(req, arg);
	}
}

/* ---- submission ------------------------------------------------------- */

static int in_range(const struct blockif_ctxt *bc, uint64_t off, uint64_t len)
{
	return off <= bc->size && len <= bc->size - off ? 0 : -EINVAL;
}

static int submit(struct blockif_ctxt *bc, struct blockif_req *req,
    enum blockif_op op)
{
	uint64_t len = 0;
	int rc;

	req->op = op;
	req->next = NULL;
	switch (op) {
	case BLOCKIF_OP_READ:
	case BLOCKIF_OP_WRITE:
		if (req->iovcnt < 0 || req->iovcnt > BLOCKIF_IOV_MAX)
			return -EINVAL;
		for (int i = 0; i < req->iovcnt; i++) {
			if (req->iov[i].iov_len > UINT64_MAX - len)
				return -EINVAL;
			len += req->iov[i].iov_len;
		}
		req->len = len;
		if (op == BLOCKIF_OP_WRITE && bc->ro)
			return -EROFS;
		break;
	case BLOCKIF_OP_FLUSH:
		req->len = 0;
		break;
	case BLOCKIF_OP_DISCARD:
		if (bc->ro)
			return -EROFS;
		if (!bc->candelete)
			return -EOPNOTSUPP;
		break;
	case BLOCKIF_OP_WRITE_ZEROES:
		if (bc->ro)
			return -EROFS;
		break;
	default:
		return -EINVAL;
	}
	if (op != BLOCKIF_OP_FLUSH) {
		rc = in_range(bc, req->offset, req->len);
		if (rc != 0)
			return rc;
	}
	req->resid = op == BLOCKIF_OP_READ || op == BLOCKIF_OP_WRITE ?
	    req->len : 0;

	pthread_mutex_lock(&bc->mtx);
	if (bc->closing) {
		rc = -ESHUTDOWN;
	} else if (bc->outstanding >= bc->limit) {
		rc = -EAGAIN;
	} else {
		if (bc->tail != NULL)
			bc->tail->next = req;
		else
			bc->head = req;
		bc->tail = req;
		bc->outstanding++;
		pthread_cond_signal(&bc->cond);
		rc = 0;
	}
	pthread_mutex_unlock(&bc->mtx);
	return rc;
}

int blockif_read(struct blockif_ctxt *bc, struct blockif_req *req)
{
	return submit(bc, req, BLOCKIF_OP_READ);
}

int blockif_write(struct blockif_ctxt *bc, struct blockif_req *req)
{
	return submit(bc, req, BLOCKIF_OP_WRITE);
}

int blockif_flush(struct blockif_ctxt *bc, struct blockif_req *req)
{
	return submit(bc, req, BLOCKIF_OP_FLUSH);
}

int blockif_discard(struct blockif_ctxt *bc, struct blockif_req *req)
{
	return submit(bc, req, BLOCKIF_OP_DISCARD);
}

int blockif_write_zeroes(struct blockif_ctxt *bc, struct blockif_req *req)
{
	return submit(bc, req, BLOCKIF_OP_WRITE_ZEROES);
}

/* ---- accessors -------------------------------------------------------- */

uint64_t blockif_size(const struct blockif_ctxt *bc)
{
	return bc->size;
}

uint32_t blockif_sectsz(const struct blockif_ctxt *bc)
{
	return bc->sectsz;
}

void blockif_psectsz(const struct blockif_ctxt *bc, uint32_t *size,
    uint32_t *off)
{
	*size = bc->psectsz;
	*off = bc->psectoff;
}

int blockif_queuesz(const struct blockif_ctxt *bc)
{
	return bc->qsize;
}

bool blockif_is_ro(const struct blockif_ctxt *bc)
{
	return bc->ro;
}

bool blockif_candelete(const struct blockif_ctxt *bc)
{
	return bc->candelete;
}

bool blockif_failed(const struct blockif_ctxt *bc)
{
	return atomic_load(&((struct blockif_ctxt *)bc)->failed);
}

int blockif_fd(const struct blockif_ctxt *bc)
{
	return bc->fd;
}
