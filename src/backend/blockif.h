/*
 * blockif.h - the block back end behind virtio-blk (bhyve's block_if.c):
 * a raw image file or a host block device, served by a pool of worker
 * threads so that several guest requests are in flight at once.
 *
 * Options (bhyve(8) "block-device-options", bhyve_config(5) keys below a
 * device's node; the -s form is PATH[,ro][,nocache][,direct][,sync]
 * [,sectorsize=L[/P]][,nodelete]):
 *   path        the image file or block device (required);
 *   ro          open read-only; writes, discards and write-zeroes fail;
 *   nocache     O_DIRECT: bypass the host page cache;
 *   direct,sync O_SYNC: every write is on stable storage when it
 *               completes (bhyve maps both names to O_SYNC);
 *   sectorsize  logical[/physical] sector size reported to the guest:
 *               powers of two in 512..65536, logical <= physical (default:
 *               512 and the file's st_blksize, or the device's
 *               BLKSSZGET/BLKPBSZGET);
 *   nodelete    never deallocate (no discard, write-zeroes never punches).
 * If a read-write open is refused (EACCES, EPERM, EROFS) the image is
 * opened read-only, as bhyve does, with one line saying so.
 *
 * Requests.  The caller owns each struct blockif_req until its callback
 * has run; blockif validates it when it is submitted (the whole byte range
 * inside the disk, no overflow, iovcnt bounded, op allowed) and refuses a
 * bad one synchronously with a negative errno before any I/O happens.  An
 * accepted request is completed exactly once by `callback`, on a worker
 * thread, with 0 or a negative errno; blockif holds none of its locks
 * while the callback runs, so the callback may take the device's lock and
 * submit new requests.  At most `qsize` requests (the value given to
 * blockif_open) may be outstanding at once, plus one per worker whose
 * callback is running; beyond that submission fails with -EAGAIN.
 *
 * Durability.  A flush is acknowledged only after fdatasync() succeeded.
 * Once an fdatasync() failed, Linux may already have dropped the dirty
 * pages it could not write, so the back end is marked failed: every later
 * flush, write, discard and write-zeroes fails with -EIO (reads still
 * work).  Nothing that was lost is ever reported as stored.
 */
#ifndef KHYVE_BACKEND_BLOCKIF_H
#define KHYVE_BACKEND_BLOCKIF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct config_node;
struct blockif_ctxt;

#define BLOCKIF_IOV_MAX 128 /* segments in one read/write request */
#define BLOCKIF_NUMTHR 8    /* worker threads (bhyve's BLOCKIF_NUMTHR) */
#define BLOCKIF_SECTOR_MIN 512
#define BLOCKIF_SECTOR_MAX 65536

enum blockif_op {
	BLOCKIF_OP_READ = 0,
	BLOCKIF_OP_WRITE,
	BLOCKIF_OP_FLUSH,
	BLOCKIF_OP_DISCARD,
	BLOCKIF_OP_WRITE_ZEROES,
};

/* Request flags. */
#define BLOCKIF_F_FUA 1u   /* write: fdatasync before completing */
#define BLOCKIF_F_UNMAP 2u /* write-zeroes: may deallocate the range */

struct blockif_req {
	/* Set by the caller before submitting. */
	struct iovec iov[BLOCKIF_IOV_MAX]; /* read/write data */
	int iovcnt;                        /* 0..BLOCKIF_IOV_MAX */
	uint64_t offset;                   /* bytes */
	uint64_t len; /* discard/write-zeroes: bytes; set by blockif for r/w */
	unsigned flags;
	void (*callback)(struct blockif_req *req, int err);
	void *param;

	/* Set by blockif. */
	uint64_t resid; /* read/write: bytes not transferred */
	enum blockif_op op;
	struct blockif_req *next; /* pending list (private) */
};

/* The options, as read from a device's configuration node. */
struct blockif_opts {
	const char *path;
	bool ro, nocache, sync, nodelete;
	uint32_t sectsz, psectsz; /* 0: from the backing store */
	int nthreads;             /* 0: BLOCKIF_NUMTHR */
};

/*
 * Read and check the block options below `cfg` (path, ro, nocache,
 * direct, sync, sectorsize, nodelete).  0, or -EINVAL after one line
 * naming the bad key and value (a missing path included); `what` starts
 * every message ("virtio-blk 0:4:0").  o->path points into the
 * configuration tree.
 */
int blockif_config(struct config_node *cfg, const char *what,
    struct blockif_opts *o);

/*
 * "L" or "L/P": each a power of two in 512..65536, L <= P.  0 or -EINVAL
 * (nothing printed).
 */
int blockif_parse_sectorsize(const char *s, uint32_t *l, uint32_t *p);

/*
 * bhyve's blockif_legacy_config(): the -s conf string "PATH[,opt...]".
 * The first item is always the path; the rest are "key=value" or a bare
 * "key" (= true), each a block option or one of `extra_keys` (a
 * NULL-terminated list from the device, e.g. "ser").  Values of the
 * options blockif knows are checked here too.  0, or -EINVAL after one
 * line naming the item (unknown option, empty path, bad value).
 */
int blockif_legacy_config(struct config_node *dev, const char *conf,
    const char *what, const char *const *extra_keys);

/*
 * Open the backing store and start the workers.  `ident` names the
 * threads ("blk-IDENT-N"); `qsize` bounds the requests outstanding;
 * `what` starts messages and must outlive the context.
 * Returns 0 and *out, or a negative errno after one line: -EINVAL for a
 * configuration error (sectorsize incompatible with the device), else
 * the host's error (-ENOENT missing file, -EACCES, -ENODEV not a regular
 * file or block device, ...).
 */
int blockif_open(const struct blockif_opts *o, const char *what,
    const char *ident, int qsize, struct blockif_ctxt **out);

/*
 * Stop accepting requests, let the workers finish every request already
 * accepted (their callbacks run), join them and close the file.
 */
void blockif_close(struct blockif_ctxt *bc);

/*
 * For a device reset: take every accepted request that no worker has
 * started off the queue, hand each to `cancelled` (on this thread; its
 * callback will never run), and wait until the started ones have finished
 * their I/O.  Their callbacks may still be pending (they may be waiting
 * for a lock the caller holds; nothing here waits for them).  When this
 * returns, blockif no longer touches any buffer of a request submitted
 * before the call.  The caller must not submit concurrently.
 */
void blockif_quiesce(struct blockif_ctxt *bc,
    void (*cancelled)(struct blockif_req *req, void *arg), void *arg);

/*
 * Submit a request.  0 (the callback will run), or without any I/O:
 * -EINVAL (bad range or iovcnt), -EROFS (modifying a read-only disk),
 * -EOPNOTSUPP (discard with nodelete or on a store that cannot), -EAGAIN
 * (queue full), -ESHUTDOWN (closing).
 */
int blockif_read(struct blockif_ctxt *bc, struct blockif_req *req);
int blockif_write(struct blockif_ctxt *bc, struct blockif_req *req);
int blockif_flush(struct blockif_ctxt *bc, struct blockif_req *req);
int blockif_discard(struct blockif_ctxt *bc, struct blockif_req *req);
int blockif_write_zeroes(struct blockif_ctxt *bc, struct blockif_req *req);

uint64_t blockif_size(const struct blockif_ctxt *bc);  /* bytes */
uint32_t blockif_sectsz(const struct blockif_ctxt *bc); /* logical */
/* Physical sector size and the offset of the first aligned one. */
void blockif_psectsz(const struct blockif_ctxt *bc, uint32_t *size,
    uint32_t *off);
int blockif_queuesz(const struct blockif_ctxt *bc);
bool blockif_is_ro(const struct blockif_ctxt *bc);
bool blockif_candelete(const struct blockif_ctxt *bc);
/* True once an fdatasync failed (see Durability above). */
bool blockif_failed(const struct blockif_ctxt *bc);
/* The backing fd (tests swap it to provoke I/O errors). */
int blockif_fd(const struct blockif_ctxt *bc);

#endif
