/*
 * virtio_blk.h - the virtio block device protocol (virtio 1.2 section 5.2)
 * and the request parser behind virtio_blk.c.
 *
 * The parser is a pure function over one chain's segments as the
 * virtqueue walker returns them (device-readable first, then
 * device-writable, already translated to host pointers): it reads the
 * header, decides what the request asks, and checks every guest-supplied
 * number against the device's limits.  It writes nothing; the caller
 * writes the status byte and any data.
 *
 * Framing (2.6.4): a driver may split or merge the parts of a request
 * across descriptors as it likes, so the parser treats the readable
 * segments as one byte stream [16-byte header | data-out] and the writable
 * ones as [data-in | status byte], and cuts the data parts into iovecs.
 */
#ifndef KHYVE_VIRTIO_VIRTIO_BLK_H
#define KHYVE_VIRTIO_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backend/blockif.h"
#include "virtio/virtqueue.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types (5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Status byte values. */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR 512u   /* request sectors are always 512 bytes */
#define VIRTIO_BLK_HDR_SIZE 16u  /* le32 type, le32 reserved, le64 sector */
#define VIRTIO_BLK_ID_BYTES 20u  /* GET_ID answer, NUL-padded */
#define VIRTIO_BLK_DWZ_SIZE 16u  /* le64 sector, le32 num_sectors, le32 flags */
#define VIRTIO_BLK_WZ_FLAG_UNMAP 1u

/* Device configuration layout (5.2.4), byte offsets. */
#define VTBLK_CFG_CAPACITY 0
#define VTBLK_CFG_SIZE_MAX 8
#define VTBLK_CFG_SEG_MAX 12
#define VTBLK_CFG_GEOMETRY 16 /* le16 cylinders, u8 heads, u8 sectors */
#define VTBLK_CFG_BLK_SIZE 20
#define VTBLK_CFG_PHYS_BLOCK_EXP 24
#define VTBLK_CFG_ALIGN_OFFSET 25
#define VTBLK_CFG_MIN_IO_SIZE 26
#define VTBLK_CFG_OPT_IO_SIZE 28
#define VTBLK_CFG_WRITEBACK 32
#define VTBLK_CFG_NUM_QUEUES 34
#define VTBLK_CFG_MAX_DISCARD_SECTORS 36
#define VTBLK_CFG_MAX_DISCARD_SEG 40
#define VTBLK_CFG_DISCARD_ALIGN 44
#define VTBLK_CFG_MAX_WZ_SECTORS 48
#define VTBLK_CFG_MAX_WZ_SEG 52
#define VTBLK_CFG_WZ_MAY_UNMAP 56
#define VTBLK_CFG_SIZE 60 /* through unused1[3]; no secure erase */

/* What the device allows; the parser checks requests against it. */
struct vtblk_limits {
	uint64_t capacity; /* 512-byte sectors */
	bool ro;
	bool discard;      /* VIRTIO_BLK_F_DISCARD offered */
	bool write_zeroes; /* VIRTIO_BLK_F_WRITE_ZEROES offered */
	bool may_unmap;    /* write-zeroes may deallocate */
	uint32_t max_discard_sectors, max_discard_seg;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
};

enum vtblk_action {
	/*
	 * No device-writable byte to put a status in (or it would land in
	 * the header): return the chain with length 0 and write nothing.
	 */
	VTBLK_DROP,
	/* Answer now with `result` in *status; no I/O. */
	VTBLK_DONE,
	/* GET_ID: copy the serial into iov[0..iovcnt) (data_len bytes). */
	VTBLK_GET_ID,
	/* Hand the request to blockif as `op`. */
	VTBLK_IO,
};

struct vtblk_req {
	enum vtblk_action action;
	uint32_t type;
	uint64_t sector;
	uint8_t *status; /* host pointer to the status byte (not DROP) */
	uint8_t result;  /* VTBLK_DONE: VIRTIO_BLK_S_* */
	enum blockif_op op;
	uint64_t offset, len; /* bytes, for VTBLK_IO */
	unsigned flags;       /* BLOCKIF_F_UNMAP */
	int iovcnt;           /* data iovecs filled in the caller's array */
	uint64_t data_len;    /* bytes in those iovecs */
	uint32_t used_len;    /* bytes written to the guest if all succeeds */
};

/*
 * Parse the chain `segs[0..nsegs)`.  Data iovecs go to iov[0..maxiov)
 * (a request needing more is answered IOERR).  Never fails: every outcome
 * is one of the actions above, described in *r.
 */
void vtblk_req_parse(const struct vq_seg *segs, int nsegs,
    const struct vtblk_limits *lim, struct iovec *iov, int maxiov,
    struct vtblk_req *r);

/* Build the default GET_ID serial from a path as bhyve does. */
void vtblk_default_ident(const char *path, char ident[VIRTIO_BLK_ID_BYTES]);

/*
 * The device without its PCI function (pe_init wraps these; unit tests
 * drive the queue through them with a fake transport).  vtblk_create
 * reads the options below `cfg`, opens the back end and fills in the
 * features and configuration; the caller then hands vtblk_vdev(sc) and
 * vtblk_ops(sc) to the transport.  `name` starts messages, `ident` names
 * threads.  0 or a negative errno after one line (-EINVAL: bad option).
 * vtblk_destroy stops taking chains, lets the back end finish (their
 * completions still run) and frees everything but the transport.
 */
struct vtblk_softc;
struct virtio_dev;
struct virtio_ops;
struct config_node;
int vtblk_create(struct config_node *cfg, const char *name, const char *ident,
    struct vtblk_softc **out);
void vtblk_destroy(struct vtblk_softc *sc);
struct virtio_dev *vtblk_vdev(struct vtblk_softc *sc);
const struct virtio_ops *vtblk_ops(const struct vtblk_softc *sc);
struct blockif_ctxt *vtblk_backend(struct vtblk_softc *sc);
/* The configuration space as the guest reads it (VTBLK_CFG_SIZE bytes). */
const uint8_t *vtblk_config_space(const struct vtblk_softc *sc);
/*
 * Batched completion interrupts (virtio_blk.c, "Interrupts"): watch the
 * device's eventfd on `loop`, the transport's I/O thread (pe_init does
 * this).  0 or a negative errno; without it every completion checks for
 * an interrupt at once.  vtblk_irq_stats: *deferred, the completions so
 * far that left the check to that thread; *owed, a check is still due.
 * Takes the transport lock (tests, statistics).
 */
struct mevent_loop;
int vtblk_attach_loop(struct vtblk_softc *sc, struct mevent_loop *loop);
void vtblk_irq_stats(struct vtblk_softc *sc, unsigned *deferred, bool *owed);

#endif
