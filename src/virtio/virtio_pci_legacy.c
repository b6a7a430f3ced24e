/*
 * virtio_pci_legacy.c - the legacy (virtio 0.9.5) register block in I/O
 * BAR 0, laid out as bhyve's virtio.h: HOSTCAP 0, GUESTCAP 4, PFN 8,
 * QNUM 12, QSEL 14, QNOTIFY 16, STATUS 18, ISR 19, then, while the guest
 * has MSI-X enabled, CFG_VECTOR 20 and QUEUE_VECTOR 22; the device
 * configuration follows at 20 (24 with MSI-X), in guest byte order
 * (little-endian on x86).
 *
 * Each register answers only to its own width; other accesses read 0 and
 * are ignored.  Called with vd->lock held.
 */
#include <stdint.h>

#include "bus/pci_emul.h"
#include "common.h"
#include "virtio/virtio.h"
#include "virtio/virtio_pci_priv.h"

uint64_t vtpci_legacy_barsize(const struct virtio_dev *vd)
{
	return VTPCI_L_CFG1 + vd->ops->cfgsize;
}

/* Where the device configuration starts right now. */
static uint64_t cfg_offset(struct virtio_dev *vd)
{
	return vd->use_msix && pci_msix_enabled(vd->pi) ? VTPCI_L_CFG1 :
	    VTPCI_L_CFG0;
}

/*
 * A legacy queue is one guest-contiguous area at pfn * 4096: the
 * descriptor table, the available ring (with used_event), then the used
 * ring at the next 4096-byte boundary (virtio 0.9.5 section 2.3).
 */
static void set_pfn(struct virtio_dev *vd, int q, uint32_t pfn)
{
	struct vqueue *vq = &vd->vq[q];
	uint64_t size = vd->ops->qsize;

	if (pfn == 0) {
		/* How a legacy driver deletes a queue. */
		vtpci_queue_disable(vd, q);
		return;
	}
	if (vq->enabled) {
		khyve_dbg("%s: PFN of live queue %d ignored", vd->ops->name, q);
		return;
	}
	vq->size = (uint16_t)size;
	vq->desc_gpa = (uint64_t)pfn * VTPCI_LEGACY_ALIGN;
	vq->avail_gpa = vq->desc_gpa + 16 * size;
	vq->used_gpa = ALIGN_UP(vq->avail_gpa + 6 + 2 * size,
	    (uint64_t)VTPCI_LEGACY_ALIGN);
	vtpci_queue_enable(vd, q);
}

uint64_t vtpci_legacy_read(struct virtio_dev *vd, uint64_t off, int size)
{
	uint64_t co = cfg_offset(vd);
	unsigned q = vd->queue_select;
	struct vqueue *vq = q < (unsigned)vd->ops->nqueues ? &vd->vq[q] : NULL;

	if (off >= co)
		return vtpci_devcfg_read(vd, off - co, size);
	switch (off << 4 | (unsigned)size) {
	case VTPCI_L_HOSTCAP << 4 | 4:
		return (uint32_t)vd->device_features;
	case VTPCI_L_GUESTCAP << 4 | 4:
		return (uint32_t)vd->negotiated;
	case VTPCI_L_PFN << 4 | 4:
		return vq != NULL && vq->enabled ?
		    (uint32_t)(vq->desc_gpa / VTPCI_LEGACY_ALIGN) : 0;
	case VTPCI_L_QNUM << 4 | 2:
		return vq != NULL ? vd->ops->qsize : 0;
	case VTPCI_L_QSEL << 4 | 2:
		return vd->queue_select;
	case VTPCI_L_STATUS << 4 | 1:
		return vd->status;
	case VTPCI_L_ISR << 4 | 1:
		return vtpci_isr_read(vd);
	case VTPCI_L_CFGVEC << 4 | 2: /* only reached with MSI-X on */
		return vd->config_vector;
	case VTPCI_L_QVEC << 4 | 2:
		return vq != NULL ? vq->msix_vector : VIRTIO_MSI_NO_VECTOR;
	default:
		return 0;
	}
}

void vtpci_legacy_write(struct virtio_dev *vd, uint64_t off, int size,
    uint64_t val)
{
	uint64_t co = cfg_offset(vd);
	unsigned q = vd->queue_select;
	bool qok = q < (unsigned)vd->ops->nqueues;

	if (off >= co) {
		vtpci_devcfg_write(vd, off - co, size, val);
		return;
	}
	switch (off << 4 | (unsigned)size) {
	case VTPCI_L_GUESTCAP << 4 | 4:
		/* Legacy has no FEATURES_OK: the write is the choice. */
		if (vd->status & VIRTIO_CONFIG_S_DRIVER_OK)
			break;
		vd->driver_features = (uint32_t)val;
		vtpci_apply_features(vd, vd->driver_features &
		    vd->device_features & 0xffffffffULL);
		break;
	case VTPCI_L_PFN << 4 | 4:
		if (qok)
			set_pfn(vd, (int)q, (uint32_t)val);
		break;
	case VTPCI_L_QSEL << 4 | 2:
		/* Any value: an absent queue reads QNUM 0. */
		vd->queue_select = (uint16_t)val;
		break;
	case VTPCI_L_QNOTIFY << 4 | 2:
		vtpci_kick(vd, (uint16_t)val);
		break;
	case VTPCI_L_STATUS << 4 | 1:
		vtpci_set_status(vd, (uint8_t)val, false);
		break;
	case VTPCI_L_CFGVEC << 4 | 2:
		vd->config_vector = vtpci_vector(vd, (uint16_t)val);
		break;
	case VTPCI_L_QVEC << 4 | 2:
		if (qok)
			vd->vq[q].msix_vector = vtpci_vector(vd, (uint16_t)val);
		break;
	default:
		khyve_dbg("%s: legacy write %d@%llu ignored", vd->ops->name,
		    size, (unsigned long long)off);
		break;
	}
}
