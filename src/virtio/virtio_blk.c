/*
 * virtio_blk.c - the virtio block device (bhyve's pci_virtio_block.c):
 *
 *   -s SLOT,virtio-blk,PATH[,ro][,nocache][,direct][,sync]
 *      [,sectorsize=L[/P]][,nodelete][,ser=SERIAL][,transport=...]
 *
 * One request queue of VTBLK_RINGSZ entries.  The guest's kick runs
 * vtblk_notify() on the device's I/O thread (transport lock held), which
 * takes every available chain, parses it (virtio_blk_req.c) and either
 * answers at once (bad requests, GET_ID) or hands it to the block back
 * end (backend/blockif.c).  Back-end workers complete requests in
 * vtblk_done(): under the transport lock they check that the device was
 * not reset since the request was taken (vd->generation), write the
 * status byte, return the chain and let the transport interrupt.
 *
 * Request slots.  Each request in flight owns a struct vtblk_io from a
 * pool twice the queue size, guarded by the transport lock.  A reset
 * cancels the requests the back end has not started and waits for the
 * I/O of the started ones (blockif_quiesce), so no old read lands in
 * guest RAM afterwards; it cannot wait for their completions (the
 * transport calls ops->reset with its lock held, and completions need
 * that lock), so those keep their slots a little longer and are dropped
 * without touching the rings.  If the pool runs dry meanwhile, the queue
 * is left alone until a completion frees a slot and resumes it; nothing
 * is lost and nothing waits.
 *
 * Errors: a failed I/O reaches the guest as VIRTIO_BLK_S_IOERR (UNSUPP
 * when the back end cannot do the operation), never as OK.
 *
 * Interrupts.  A completion that leaves no other request in flight checks
 * for an interrupt at once (queue depth 1 pays no extra hop).  One that
 * leaves others in flight returns its chain at once but hands the check
 * to the I/O thread through an eventfd (irq_fd); the completions that
 * land before the I/O thread runs then share one interrupt.  This is the
 * batching QEMU gets from finishing requests in its main loop: at queue
 * depth 32 the bench guest took 0.42 interrupts per 4 KiB read without it
 * (QEMU: 0.05), and in a VM an interrupt costs the guest about an exit.
 * The delay is one wake-up of the I/O thread, never another request's
 * I/O.  Without an I/O thread (unit tests' fixture) the check is
 * immediate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend/blockif.h"
#include "bus/pci_emul.h"
#include "common.h"
#include "config.h"
#include "event/mevent.h"
#include "virtio/virtio.h"
#include "virtio/virtio_blk.h"

#define VTBLK_RINGSZ 128
#define VTBLK_NIOS (2 * VTBLK_RINGSZ)
/* bhyve: no more than the ring can hold, minus header and status. */
#define VTBLK_SEG_MAX MIN(VTBLK_RINGSZ - 2, BLOCKIF_IOV_MAX)
/* Bounds a single discard or write-zeroes (bhyve: 16 MiB, for latency). */
#define VTBLK_MAX_DWZ_SECTORS ((16u << 20) / VIRTIO_BLK_SECTOR)
/*
 * size_max: the largest single segment the driver may use.  Nothing here
 * needs a limit; a large value lets Linux build big requests.
 */
#define VTBLK_SIZE_MAX (1u << 30)

struct vtblk_softc;

struct vtblk_io {
	struct blockif_req br;
	struct vtblk_softc *sc;
	struct vqueue *vq;
	unsigned gen;     /* vd.generation when the chain was taken */
	uint16_t head;
	uint8_t *status;  /* in guest RAM, which outlives the device */
	uint32_t used_len;
	struct vtblk_io *next_free;
};

struct vtblk_softc {
	struct virtio_dev vd;
	/* A copy of vtblk_ops with this disk's feature bits (ro, discard). */
	struct virtio_ops ops;
	struct blockif_ctxt *bc;
	struct vtblk_limits lim;
	uint8_t cfg[VTBLK_CFG_SIZE]; /* little-endian, read-only to the guest */
	char ident[VIRTIO_BLK_ID_BYTES];
	char name[32]; /* "virtio-blk B:S:F", for messages */

	/* Guarded by vd.lock. */
	struct vtblk_io ios[VTBLK_NIOS];
	struct vtblk_io *free_ios;
	bool starved; /* the queue waits for a free slot */
	bool closing; /* pe_fini started: take nothing more */
	int inflight; /* chains handed to the back end, not yet completed */
	bool irq_pending; /* the I/O thread owes an interrupt check */
	unsigned irq_deferred; /* completions that left the check to it */
	int irq_fd;               /* eventfd to the I/O thread, or -1 */
	struct mevent *irq_ev;    /* its watch on the device loop, or NULL */
	struct vq_seg segs[VQ_MAX_SIZE]; /* scratch for vq_getchain */
};

static const char *const vtblk_keys[] = { "ser", "transport", NULL };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t status_of(int err)
{
	if (err == 0)
		return VIRTIO_BLK_S_OK;
	return err == -EOPNOTSUPP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

static void vtblk_drain(struct vtblk_softc *sc, struct vqueue *vq);

/* A chain was returned on a worker (lock held): interrupt now or batch. */
static void vtblk_irq(struct vtblk_softc *sc, struct vqueue *vq)
{
	uint64_t one = 1;

	if (sc->inflight == 0 || sc->irq_ev == NULL) {
		virtio_vq_done(&sc->vd, vq);
		return;
	}
	sc->irq_deferred++;
	if (sc->irq_pending)
		return; /* the I/O thread will cover this one too */
	sc->irq_pending = true;
	if (write(sc->irq_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, a wake-up is due anyway */
	}
}

/* The I/O thread: the batched interrupt check (see the top comment). */
static void vtblk_irq_cb(int fd, enum mevent_type type, void *arg)
{
	struct vtblk_softc *sc = arg;
	struct vqueue *vq = &sc->vd.vq[0];
	uint64_t n;

	(void)type;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: drained already; the flag below decides */
	}
	virtio_lock(&sc->vd);
	if (sc->irq_pending) {
		sc->irq_pending = false;
		if (vq->enabled && !vq->broken)
			virtio_vq_done(&sc->vd, vq);
	}
	virtio_unlock(&sc->vd);
}

/* Completion, on a blockif worker thread. */
static void vtblk_done(struct blockif_req *br, int err)
{
	struct vtblk_io *io = br->param;
	struct vtblk_softc *sc = io->sc;
	struct vqueue *vq = io->vq;

	virtio_lock(&sc->vd);
	sc->inflight--;
	/* A reset since the chain was taken: the ring is no longer its. */
	if (io->gen == sc->vd.generation && vq->enabled && !vq->broken) {
		*io->status = status_of(err);
		vq_relchain(vq, io->head, err == 0 ? io->used_len : 1);
		vtblk_irq(sc, vq);
	}
	io->next_free = sc->free_ios;
	sc->free_ios = io;
	if (sc->starved && !sc->closing) {
		sc->starved = false;
		if (vq->enabled && !vq->broken &&
		    (sc->vd.status & VIRTIO_CONFIG_S_DRIVER_OK))
			vtblk_drain(sc, vq);
	}
	virtio_unlock(&sc->vd);
}

static int vtblk_submit(struct vtblk_softc *sc, struct vtblk_io *io,
    const struct vtblk_req *r)
{
	struct blockif_req *br = &io->br;

	br->iovcnt = r->iovcnt;
	br->offset = r->offset;
	br->len = r->len;
	br->flags = r->flags;
	/* A driver without FLUSH expects write-through (virtio 5.2.5). */
	if ((r->op == BLOCKIF_OP_WRITE || r->op == BLOCKIF_OP_WRITE_ZEROES) &&
	    !virtio_has_feature(&sc->vd, VIRTIO_BLK_F_FLUSH))
		br->flags |= BLOCKIF_F_FUA;
	switch (r->op) {
	case BLOCKIF_OP_READ:
		return blockif_read(sc->bc, br);
	case BLOCKIF_OP_WRITE:
		return blockif_write(sc->bc, br);
	case BLOCKIF_OP_FLUSH:
		return blockif_flush(sc->bc, br);
	case BLOCKIF_OP_DISCARD:
		return blockif_discard(sc->bc, br);
	case BLOCKIF_OP_WRITE_ZEROES:
		return blockif_write_zeroes(sc->bc, br);
	}
	return -EINVAL;
}

/*
 * Take one chain and start or answer it.  Returns true if the chain was
 * returned to the guest here (an interrupt may be due), false if it went
 * to the back end or nothing was taken.  The caller made sure a slot is
 * free.
 */
static bool vtblk_proc(struct vtblk_softc *sc, struct vqueue *vq)
{
	struct vtblk_io *io = sc->free_ios;
	struct vtblk_req r;
	uint16_t head;
	size_t k;
	int n, rc;

	n = vq_getchain(vq, sc->segs, (int)ARRAY_SIZE(sc->segs), &head);
	if (n <= 0)
		return false; /* empty, or broken (the transport resets) */
	vtblk_req_parse(sc->segs, n, &sc->lim, io->br.iov, BLOCKIF_IOV_MAX,
	    &r);
	switch (r.action) {
	case VTBLK_DROP:
		khyve_dbg("%s: request without a status byte dropped",
		    sc->name);
		vq_relchain(vq, head, 0);
		return true;
	case VTBLK_DONE:
		*r.status = r.result;
		vq_relchain(vq, head, r.used_len);
		return true;
	case VTBLK_GET_ID:
		for (int i = 0, done = 0; i < r.iovcnt; i++, done += (int)k) {
			k = io->br.iov[i].iov_len;
			memcpy(io->br.iov[i].iov_base, sc->ident + done, k);
		}
		*r.status = VIRTIO_BLK_S_OK;
		vq_relchain(vq, head, r.used_len);
		return true;
	case VTBLK_IO:
		break;
	}
	sc->free_ios = io->next_free;
	io->vq = vq;
	io->head = head;
	io->gen = sc->vd.generation;
	io->status = r.status;
	io->used_len = r.used_len;
	sc->inflight++;
	rc = vtblk_submit(sc, io, &r);
	if (rc == 0)
		return false;
	sc->inflight--;
	/* Refused before any I/O (range, read-only, queue full). */
	io->next_free = sc->free_ios;
	sc->free_ios = io;
	*r.status = status_of(rc);
	vq_relchain(vq, head, 1);
	return true;
}

/*
 * Take every available chain, with guest notifications off while we do
 * (the standard race close: turn them back on, then look once more).
 * Lock held.
 */
static void vtblk_drain(struct vtblk_softc *sc, struct vqueue *vq)
{
	bool returned = false;

	for (;;) {
		vq_notifications(vq, false);
		while (sc->free_ios != NULL && !vq->broken &&
		    vq_has_descs(vq))
			returned |= vtblk_proc(sc, vq);
		if (vq->broken)
			break;
		if (sc->free_ios == NULL) {
			/* vtblk_done resumes; kicks meanwhile are useless. */
			sc->starved = true;
			break;
		}
		vq_notifications(vq, true);
		if (!vq_has_descs(vq))
			break;
	}
	if (returned)
		virtio_vq_done(&sc->vd, vq);
}

/* ---- virtio_ops ------------------------------------------------------- */

static void vtblk_notify(void *arg, struct vqueue *vq)
{
	struct vtblk_softc *sc = arg;

	if (sc->closing || vq != &sc->vd.vq[0])
		return;
	vtblk_drain(sc, vq);
}

/* A request blockif_quiesce took back before it started. */
static void vtblk_cancelled(struct blockif_req *br, void *arg)
{
	struct vtblk_io *io = br->param;
	struct vtblk_softc *sc = arg;

	sc->inflight--;
	io->next_free = sc->free_ios;
	sc->free_ios = io;
}

static void vtblk_reset(void *arg)
{
	struct vtblk_softc *sc = arg;

	/*
	 * After a reset the driver may reuse every buffer it had queued, so
	 * no old read may land in guest RAM once we return: requests not
	 * started are cancelled, started ones are waited for (their I/O
	 * only; their completions wait for the lock we hold and are then
	 * dropped by the generation check).  This blocks the resetting vCPU
	 * for at most the I/O already under way, as QEMU's drain does.
	 */
	if (sc->bc != NULL) /* NULL once pe_fini closed it */
		blockif_quiesce(sc->bc, vtblk_cancelled, sc);
	sc->starved = false;
}

static void vtblk_set_features(void *arg, uint64_t negotiated)
{
	(void)arg;
	(void)negotiated; /* FLUSH is looked up per request */
}

static void vtblk_cfgread(void *arg, uint32_t offset, int size,
    uint32_t *val)
{
	struct vtblk_softc *sc = arg;
	uint32_t v = 0;

	/* The transport checked offset + size <= VTBLK_CFG_SIZE. */
	for (int i = size - 1; i >= 0; i--)
		v = v << 8 | sc->cfg[offset + (uint32_t)i];
	*val = v;
}

static void vtblk_cfgwrite(void *arg, uint32_t offset, int size,
    uint32_t val)
{
	struct vtblk_softc *sc = arg;

	/* writeback is writable only with CONFIG_WCE, never offered. */
	khyve_dbg("%s: write to read-only config at %u (%d bytes, %#x)",
	    sc->name, offset, size, val);
}

static const struct virtio_ops vtblk_ops_template = {
	.name = "virtio-blk",
	.device_type = VIRTIO_ID_BLOCK,
	.pci_class = 0x01u << 16, /* mass storage, SCSI subclass, as QEMU */
	.nqueues = 1,
	.qsize = VTBLK_RINGSZ,
	.cfgsize = VTBLK_CFG_SIZE,
	.features = 1ULL << VIRTIO_BLK_F_SIZE_MAX |
	    1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
	    1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_TOPOLOGY |
	    1ULL << VIRTIO_RING_F_INDIRECT_DESC |
	    1ULL << VIRTIO_RING_F_EVENT_IDX |
	    1ULL << VIRTIO_F_ANY_LAYOUT, /* the parser takes any framing */
	.set_features = vtblk_set_features,
	.reset = vtblk_reset,
	.notify = vtblk_notify,
	.cfgread = vtblk_cfgread,
	.cfgwrite = vtblk_cfgwrite,
	.driver_ok = NULL,
};

/* ---- configuration ---------------------------------------------------- */

static int log2u(uint32_t v)
{
	int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/* Features and config space from what the back end turned out to be. */
static void vtblk_setup(struct vtblk_softc *sc)
{
	uint32_t sectsz = blockif_sectsz(sc->bc), psz, poff;
	bool ro = blockif_is_ro(sc->bc), del = blockif_candelete(sc->bc);
	uint8_t *c = sc->cfg;

	blockif_psectsz(sc->bc, &psz, &poff);
	sc->lim.capacity = blockif_size(sc->bc) / VIRTIO_BLK_SECTOR;
	sc->lim.ro = ro;
	sc->lim.discard = del; /* blockif: false when ro or nodelete */
	sc->lim.write_zeroes = !ro;
	sc->lim.may_unmap = del;
	sc->lim.max_discard_sectors = VTBLK_MAX_DWZ_SECTORS;
	sc->lim.max_discard_seg = 1;
	sc->lim.max_write_zeroes_sectors = VTBLK_MAX_DWZ_SECTORS;
	sc->lim.max_write_zeroes_seg = 1;

	sc->ops = vtblk_ops_template;
	if (ro)
		sc->ops.features |= 1ULL << VIRTIO_BLK_F_RO;
	if (sc->lim.discard)
		sc->ops.features |= 1ULL << VIRTIO_BLK_F_DISCARD;
	if (sc->lim.write_zeroes)
		sc->ops.features |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;

	memset(c, 0, sizeof(sc->cfg));
	put64(c + VTBLK_CFG_CAPACITY, sc->lim.capacity);
	put32(c + VTBLK_CFG_SIZE_MAX, VTBLK_SIZE_MAX);
	put32(c + VTBLK_CFG_SEG_MAX, VTBLK_SEG_MAX);
	put32(c + VTBLK_CFG_BLK_SIZE, sectsz);
	/* Topology as bhyve: physical block as a power of logical ones. */
	c[VTBLK_CFG_PHYS_BLOCK_EXP] =
	    (uint8_t)(psz > sectsz ? log2u(psz / sectsz) : 0);
	c[VTBLK_CFG_ALIGN_OFFSET] =
	    (uint8_t)(poff != 0 ? (psz - poff) / sectsz : 0);
	put16(c + VTBLK_CFG_MIN_IO_SIZE, 0);
	put32(c + VTBLK_CFG_OPT_IO_SIZE, 0);
	c[VTBLK_CFG_WRITEBACK] = 0;
	put16(c + VTBLK_CFG_NUM_QUEUES, 1);
	put32(c + VTBLK_CFG_MAX_DISCARD_SECTORS, sc->lim.max_discard_sectors);
	put32(c + VTBLK_CFG_MAX_DISCARD_SEG, sc->lim.max_discard_seg);
	put32(c + VTBLK_CFG_DISCARD_ALIGN, sectsz / VIRTIO_BLK_SECTOR);
	put32(c + VTBLK_CFG_MAX_WZ_SECTORS, sc->lim.max_write_zeroes_sectors);
	put32(c + VTBLK_CFG_MAX_WZ_SEG, sc->lim.max_write_zeroes_seg);
	c[VTBLK_CFG_WZ_MAY_UNMAP] = sc->lim.may_unmap;

	sc->free_ios = NULL;
	for (int i = VTBLK_NIOS - 1; i >= 0; i--) {
		sc->ios[i].sc = sc;
		sc->ios[i].br.callback = vtblk_done;
		sc->ios[i].br.param = &sc->ios[i];
		sc->ios[i].next_free = sc->free_ios;
		sc->free_ios = &sc->ios[i];
	}
}

static int vtblk_serial(struct vtblk_softc *sc, struct config_node *cfg,
    const char *path)
{
	const char *ser = config_get(cfg, "ser");

	memset(sc->ident, 0, sizeof(sc->ident));
	if (ser == NULL) {
		vtblk_default_ident(path, sc->ident);
		return 0;
	}
	/* bhyve keeps the first 20 characters; say so rather than hide it. */
	if (strlen(ser) > VIRTIO_BLK_ID_BYTES)
		khyve_warnx("%s: ser=%s is longer than %u characters; the "
		    "guest sees \"%.*s\"", sc->name, ser, VIRTIO_BLK_ID_BYTES,
		    (int)VIRTIO_BLK_ID_BYTES, ser);
	memcpy(sc->ident, ser, MIN(strlen(ser), (size_t)VIRTIO_BLK_ID_BYTES));
	return 0;
}

static int vtblk_legacy_config(struct config_node *dev, const char *conf)
{
	return blockif_legacy_config(dev, conf, "-s virtio-blk", vtblk_keys);
}

int vtblk_attach_loop(struct vtblk_softc *sc, struct mevent_loop *loop)
{
	int e;

	sc->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sc->irq_fd < 0)
		return -errno;
	sc->irq_ev = mevent_add(loop, sc->irq_fd, EVF_READ, vtblk_irq_cb, sc);
	if (sc->irq_ev == NULL) {
		e = errno;
		close(sc->irq_fd);
		sc->irq_fd = -1;
		return -e;
	}
	return 0;
}

void vtblk_irq_stats(struct vtblk_softc *sc, unsigned *deferred, bool *owed)
{
	virtio_lock(&sc->vd);
	*deferred = sc->irq_deferred;
	*owed = sc->irq_pending;
	virtio_unlock(&sc->vd);
}

int vtblk_create(struct config_node *cfg, const char *name, const char *ident,
    struct vtblk_softc **out)
{
	struct vtblk_softc *sc;
	struct blockif_opts o;
	int rc;

	*out = NULL;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	snprintf(sc->name, sizeof(sc->name), "%s", name);
	sc->irq_fd = -1; /* no I/O thread yet: interrupts are checked at once */
	rc = blockif_config(cfg, sc->name, &o);
	if (rc == 0)
		vtblk_serial(sc, cfg, o.path);
	if (rc == 0)
		rc = blockif_open(&o, sc->name, ident, VTBLK_NIOS, &sc->bc);
	if (rc != 0) {
		free(sc);
		return rc;
	}
	vtblk_setup(sc);
	*out = sc;
	return 0;
}

void vtblk_destroy(struct vtblk_softc *sc)
{
	if (sc == NULL)
		return;
	/* Stop taking chains; the back end finishes what it accepted. */
	virtio_lock(&sc->vd);
	sc->closing = true;
	virtio_unlock(&sc->vd);
	blockif_close(sc->bc);
	if (sc->irq_fd >= 0)
		close(sc->irq_fd);
	free(sc);
}

struct virtio_dev *vtblk_vdev(struct vtblk_softc *sc)
{
	return &sc->vd;
}

const struct virtio_ops *vtblk_ops(const struct vtblk_softc *sc)
{
	return &sc->ops;
}

struct blockif_ctxt *vtblk_backend(struct vtblk_softc *sc)
{
	return sc->bc;
}

const uint8_t *vtblk_config_space(const struct vtblk_softc *sc)
{
	return sc->cfg;
}

static int vtblk_init(struct pci_devinst *pi, struct config_node *cfg)
{
	struct vtblk_softc *sc;
	char name[32], ident[16];
	int rc;

	snprintf(name, sizeof(name), "virtio-blk %u:%u:%u", pi->pi_bus,
	    pi->pi_slot, pi->pi_func);
	snprintf(ident, sizeof(ident), "%u:%u", pi->pi_slot, pi->pi_func);
	rc = vtblk_create(cfg, name, ident, &sc);
	if (rc != 0)
		return rc;
	rc = virtio_dev_init(&sc->vd, &sc->ops, sc, pi, cfg);
	if (rc != 0) {
		blockif_close(sc->bc);
		free(sc);
		return rc;
	}
	/* Batched interrupts (see the top comment); without, immediate. */
	if (vtblk_attach_loop(sc, virtio_dev_loop(&sc->vd)) != 0)
		khyve_warn("%s: interrupts go out one per request", name);
	pi->pi_arg = &sc->vd;
	return 0;
}

static void vtblk_fini(struct pci_devinst *pi)
{
	struct virtio_dev *vd = pi->pi_arg;
	struct vtblk_softc *sc;

	if (vd == NULL)
		return;
	sc = vd->sc;
	/*
	 * Back end first: its completions take the transport lock, which
	 * must still exist; vtblk_destroy keeps the I/O thread from
	 * submitting meanwhile.  Then the transport, then the memory.
	 */
	virtio_lock(vd);
	sc->closing = true;
	virtio_unlock(vd);
	blockif_close(sc->bc);
	sc->bc = NULL;
	virtio_dev_fini(vd); /* stops the I/O thread, drops irq_ev */
	if (sc->irq_fd >= 0)
		close(sc->irq_fd);
	pi->pi_arg = NULL;
	free(sc);
}

static const struct pci_devemu pci_de_vblk = {
	.pe_emu = "virtio-blk",
	.pe_help = "PATH[,ro][,nocache][,direct][,sync][,sectorsize=L[/P]]"
		   "[,nodelete][,ser=SERIAL][,transport=modern|legacy|"
		   "transitional]",
	.pe_legacy_config = vtblk_legacy_config,
	.pe_init = vtblk_init,
	.pe_fini = vtblk_fini,
	.pe_cfgwrite = virtio_pci_cfgwrite,
	.pe_cfgread = virtio_pci_cfgread,
	.pe_barwrite = virtio_pci_barwrite,
	.pe_barread = virtio_pci_barread,
	.pe_baraddr = virtio_pci_baraddr,
};
PCI_EMUL_SET(pci_de_vblk);
