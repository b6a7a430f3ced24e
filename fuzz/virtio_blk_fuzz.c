/*
 * virtio_blk_fuzz.c - virtio-blk request handling end to end
 * (src/virtio/virtio_blk.c, virtio_blk_req.c, src/backend/blockif.c): the
 * device built by vtblk_create() on a 1 MiB memfd disk, its queue on the
 * fake RAM of virtio_fixture.h with the transport's part done by hand (as
 * test_virtio_blk.c does), and rounds of chains from ring.h kicked at it.
 * Requests are mostly well-formed (the first readable bytes are a header
 * of a known type with a sector near the disk, from the input) with the
 * ring's rare hostile fields; reads, writes, flushes, GET_ID, discard and
 * write-zeroes reach the real blockif workers.  Each round waits until
 * every taken chain is back; vtblk_destroy() joins the workers, and the
 * disk is emptied for the next input.
 *
 * Input: an options byte (ro, sync, nodelete, 4 KiB sectors, FLUSH
 * negotiated, ser=, queue size), then rounds: a byte with the number of
 * requests (1..8); per request a type byte, a sector byte and the chain.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "ring.h"
#include "virtio/virtio.h"
#include "virtio/virtio_blk.h"
#include "virtio_fixture.h"
#include "bus/pci_emul.h"

#define DISK (1u << 20)

static int disk_fd = -1;

static const uint32_t types[8] = {
	VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
	VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES,
	VIRTIO_BLK_T_IN, 0x7fffffff,
};

/* Wait (bounded) until every chain taken is back, or the queue broke. */
static void settle(struct virtio_dev *vd, struct vqueue *vq)
{
	for (int i = 0; i < 100000; i++) {
		bool done;

		virtio_lock(vd);
		done = vq->broken || vq->used_idx == vq->last_avail;
		virtio_unlock(vd);
		if (done)
			return;
		if (i > 100)
			usleep(50);
		else
			sched_yield();
	}
	abort(); /* a request never completed */
}

/*
 * A request header at the start of the chain's first readable buffer:
 * rewrite the first 16 bytes the ring builder put there, unless the
 * input asked for raw bytes.
 */
static void put_header(struct fzr *r, uint16_t head, uint8_t tb, uint8_t sb)
{
	uint8_t d[16], h[16];
	uint64_t addr, sector;
	uint32_t len, type;
	uint16_t flags;

	if (tb & 0x80)
		return;
	if (gmem_read(r->m, r->desc + 16ULL * head, d, 16) != 0)
		return;
	memcpy(&addr, d, 8);
	memcpy(&len, d + 8, 4);
	memcpy(&flags, d + 12, 2);
	if (flags & VRING_DESC_F_INDIRECT) {
		if (gmem_read(r->m, addr, d, 16) != 0)
			return;
		memcpy(&addr, d, 8);
		memcpy(&len, d + 8, 4);
		memcpy(&flags, d + 12, 2);
	}
	if ((flags & VRING_DESC_F_WRITE) || len < 16)
		return;
	type = types[tb & 7];
	/* Sectors around the start and the end of the disk. */
	sector = (sb & 0x80) ? DISK / 512 - (sb & 0x7f) : sb;
	memcpy(h, &type, 4);
	memset(h + 4, 0, 4);
	memcpy(h + 8, &sector, 8);
	(void)gmem_write(r->m, addr, h, 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pci_devinst pi;
	char path[64];
	struct config_node *dev;
	struct vtblk_softc *sc;
	struct virtio_dev *vd;
	struct vqueue *vq;
	struct vfx t;
	struct fzr r;
	struct fz f;
	uint8_t o;

	if (disk_fd < 0) {
		disk_fd = memfd_create("khyve-fuzz-disk", MFD_CLOEXEC);
		if (disk_fd < 0)
			abort();
	}
	/* A fresh zeroed disk for every input. */
	if (ftruncate(disk_fd, 0) != 0 || ftruncate(disk_fd, DISK) != 0)
		abort();
	fz_init(&f, data, size);
	o = fz_u8(&f);
	if (vfx_init(&t, (o & 0x80) ? 4 : 64, true, true) != 0)
		abort();
	config_init();
	dev = config_create(NULL, "pci.0.4.0");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", disk_fd);
	config_set(dev, "path", path);
	if (o & 1)
		config_set(dev, "ro", "true");
	if (o & 2)
		config_set(dev, "sync", "true");
	if (o & 4)
		config_set(dev, "nodelete", "true");
	if (o & 8)
		config_set(dev, "sectorsize", "4096");
	if (o & 0x20)
		config_set(dev, "ser", "fuzz-serial-number-longer-than-20");
	if (vtblk_create(dev, "virtio-blk fuzz", "f", &sc) != 0)
		abort();
	vd = vtblk_vdev(sc);
	vd->ops = vtblk_ops(sc);
	vd->sc = sc;
	memset(&pi, 0, sizeof(pi));
	pthread_mutex_init(&pi.lock, NULL);
	vd->pi = &pi;
	pthread_mutex_init(&vd->lock, NULL);
	vd->negotiated = vd->ops->features;
	if (!(o & 0x10))
		vd->negotiated &= ~(1ULL << VIRTIO_BLK_F_FLUSH);
	vd->status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
	vd->vq[0] = t.vq;
	vq = &vd->vq[0];
	fzr_init(&r, &t.fx.m, VFX_DESC, VFX_AVAIL, vq->size, true,
	    VFX_INDIRECT, VFX_BUFS, VFX_BUFS, VFX_LOW, VFX_LOW);
	while (fz_more(&f) && !vq->broken) {
		uint8_t n = (uint8_t)((fz_u8(&f) & 7) + 1);

		for (int i = 0; i < n; i++) {
			uint8_t tb = fz_u8(&f), sb = fz_u8(&f);

			put_header(&r, fzr_chain(&r, &f), tb, sb);
		}
		if (fz_u8(&f) == 0xff)
			fzr_hostile(&r, &f);
		virtio_lock(vd);
		vd->ops->notify(vd->sc, vq);
		virtio_unlock(vd);
		settle(vd, vq);
		fzr_check_used(&r, VFX_USED);
	}
	vtblk_destroy(sc);
	pthread_mutex_destroy(&vd->lock);
	pthread_mutex_destroy(&pi.lock);
	config_fini();
	vfx_fini(&t);
	return 0;
}
