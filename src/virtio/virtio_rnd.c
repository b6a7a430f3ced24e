/*
 * virtio_rnd.c - the virtio entropy device (virtio 1.2 section 5.4),
 * bhyve's "virtio-rnd": one request queue whose device-writable buffers
 * are filled with random bytes.
 *
 *   -s 6,virtio-rnd[,transport=modern|legacy|transitional]
 *
 * Entropy comes from getrandom(2) with GRND_NONBLOCK: the I/O thread never
 * blocks.  If the kernel has none to give (early boot, before its pool is
 * initialised) a chain goes back with 0 bytes, which the spec allows.
 *
 * Trust boundary: the chains are the guest's.  The walker bounds them;
 * vtrnd_fill() writes only into the writable segments it returned, and
 * each kick does a bounded amount of work (VTRND_BUDGET_*) so a guest
 * posting huge buffers cannot keep the I/O thread to itself: when the
 * budget runs out the device signals its own kick eventfd and carries on
 * after whatever else the loop has to do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bus/pci_emul.h"
#include "common.h"
#include "config.h"
#include "virtio/virtio.h"
#include "virtio/virtio_rnd.h"

#define VTRND_PCI_CLASS 0x100000 /* encryption controller, as bhyve */

struct vtrnd_softc {
	struct virtio_dev vd;
};

ssize_t vtrnd_getrandom(void *buf, size_t len)
{
	return getrandom(buf, len, GRND_NONBLOCK);
}

size_t vtrnd_fill(const struct vq_seg *segs, int nsegs, vtrnd_source_t *src,
    size_t limit)
{
	size_t total = 0;

	for (int i = 0; i < nsegs && total < limit; i++) {
		uint8_t *p = segs[i].base;
		size_t want, got = 0;

		if (!segs[i].write)
			continue;
		want = MIN((size_t)segs[i].len, limit - total);
		while (got < want) {
			ssize_t r = src(p + got, want - got);

			/* Dry (EAGAIN), an error or nonsense: stop here. */
			if (r <= 0 || (size_t)r > want - got)
				return total + got;
			got += (size_t)r;
		}
		total += got;
	}
	return total;
}

int vtrnd_drain(struct vqueue *vq, vtrnd_source_t *src, bool *returned)
{
	struct vq_seg segs[VTRND_QSIZE];
	size_t bytes = 0;
	uint16_t head;

	for (int k = 0; k < VTRND_BUDGET_CHAINS; k++) {
		size_t n;
		int nsegs;

		if (bytes >= VTRND_BUDGET_BYTES)
			return 1;
		nsegs = vq_getchain(vq, segs, VTRND_QSIZE, &head);
		if (nsegs == 0)
			return 0;
		if (nsegs < 0)
			return nsegs;
		n = vtrnd_fill(segs, nsegs, src, VTRND_BUDGET_BYTES - bytes);
		bytes += n;
		vq_relchain(vq, head, (uint32_t)n);
		*returned = true;
	}
	return vq_has_descs(vq) ? 1 : 0;
}

/* ---- the device ---------------------------------------------------- */

/* Ask the I/O thread to call notify again later (yield after a budget). */
static void vtrnd_rekick(struct vtrnd_softc *sc, struct vqueue *vq)
{
	uint64_t one = 1;
	int fd = sc->vd.kick_fd[vq->index];

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		khyve_dbg("virtio-rnd: cannot re-kick queue %u", vq->index);
}

/* The guest posted buffers (I/O thread, vd->lock held). */
static void vtrnd_notify(void *arg, struct vqueue *vq)
{
	struct vtrnd_softc *sc = arg;
	bool returned = false;
	int rc;

	rc = vtrnd_drain(vq, vtrnd_getrandom, &returned);
	if (returned || rc < 0)
		virtio_vq_done(&sc->vd, vq);
	if (rc > 0)
		vtrnd_rekick(sc, vq);
}

static const struct virtio_ops vtrnd_ops = {
	.name = "virtio-rnd",
	.device_type = VIRTIO_ID_RNG,
	.pci_class = VTRND_PCI_CLASS,
	.nqueues = 1,
	.qsize = VTRND_QSIZE,
	.cfgsize = 0,
	/* bhyve offers none; indirect tables cost nothing with the walker. */
	.features = 1ULL << VIRTIO_RING_F_INDIRECT_DESC,
	.notify = vtrnd_notify,
};

static int vtrnd_init(struct pci_devinst *pi, struct config_node *cfg)
{
	struct vtrnd_softc *sc;
	uint8_t probe;
	int rc;

	/* Refuse early on a kernel without getrandom(2); EAGAIN is fine. */
	if (getrandom(&probe, 1, GRND_NONBLOCK) < 0 && errno != EAGAIN) {
		rc = -errno;
		khyve_warn("virtio-rnd: getrandom");
		return rc;
	}
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	rc = virtio_dev_init(&sc->vd, &vtrnd_ops, sc, pi, cfg);
	if (rc != 0) {
		free(sc);
		return rc;
	}
	return 0;
}

static void vtrnd_fini(struct pci_devinst *pi)
{
	struct virtio_dev *vd = pi->pi_arg;

	if (vd == NULL)
		return;
	virtio_dev_fini(vd);
	free(vd->sc);
	pi->pi_arg = NULL;
}

static const struct pci_devemu vtrnd_devemu = {
	.pe_emu = "virtio-rnd",
	.pe_help = "entropy source (getrandom); "
	    "[transport=modern|legacy|transitional]",
	.pe_init = vtrnd_init,
	.pe_fini = vtrnd_fini,
	.pe_cfgread = virtio_pci_cfgread,
	.pe_cfgwrite = virtio_pci_cfgwrite,
	.pe_barread = virtio_pci_barread,
	.pe_barwrite = virtio_pci_barwrite,
	.pe_baraddr = virtio_pci_baraddr,
};
PCI_EMUL_SET(vtrnd_devemu);
