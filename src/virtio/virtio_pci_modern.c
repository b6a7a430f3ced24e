/*
 * virtio_pci_modern.c - the virtio 1.x register set: vendor capabilities
 * in configuration space pointing into memory BAR 4, which holds
 *   0x0000 common configuration (struct virtio_pci_common_cfg)
 *   0x1000 ISR status (read clears)
 *   0x2000 device configuration (ops->cfgsize bytes, little-endian)
 *   0x3000 doorbells, one per queue, notify_off_multiplier 4
 * and the PCI configuration access capability (cfg_type 5), a window
 * through configuration space into those registers.
 *
 * Common configuration reads may have any size and alignment (they have
 * no side effects); writes must hit a field with its own width (64-bit
 * fields also as two 32-bit halves), anything else is ignored.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "bus/pci_emul.h"
#include "common.h"
#include "virtio/virtio.h"
#include "virtio/virtio_pci_priv.h"

/* struct virtio_pci_common_cfg (virtio 1.2 section 4.1.4.3). */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_MSIX 0x10
#define CC_NUMQ 0x12
#define CC_STATUS 0x14
#define CC_CFGGEN 0x15
#define CC_QSELECT 0x16
#define CC_QSIZE 0x18
#define CC_QMSIX 0x1a
#define CC_QENABLE 0x1c
#define CC_QNOFF 0x1e
#define CC_QDESC 0x20
#define CC_QAVAIL 0x28
#define CC_QUSED 0x30

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static struct vqueue *selected(struct virtio_dev *vd)
{
	unsigned q = vd->queue_select;

	return q < (unsigned)vd->ops->nqueues ? &vd->vq[q] : NULL;
}

static uint32_t half(uint64_t v, uint32_t sel)
{
	return sel == 0 ? (uint32_t)v : sel == 1 ? (uint32_t)(v >> 32) : 0;
}

/* The common configuration as the guest sees it now. */
static void common_image(struct virtio_dev *vd, uint8_t *img)
{
	struct vqueue *vq = selected(vd);

	memset(img, 0, VTPCI_COMMON_LEN);
	put(img + CC_DFSELECT, vd->dfselect, 4);
	put(img + CC_DF, half(vd->device_features, vd->dfselect), 4);
	put(img + CC_GFSELECT, vd->gfselect, 4);
	put(img + CC_GF, half(vd->driver_features, vd->gfselect), 4);
	put(img + CC_MSIX, vd->config_vector, 2);
	put(img + CC_NUMQ, (uint64_t)vd->ops->nqueues, 2);
	put(img + CC_STATUS, vd->status, 1);
	put(img + CC_CFGGEN, vd->config_generation, 1);
	put(img + CC_QSELECT, vd->queue_select, 2);
	/* An absent queue reads size 0 and no vector. */
	put(img + CC_QMSIX, VIRTIO_MSI_NO_VECTOR, 2);
	if (vq == NULL)
		return;
	put(img + CC_QSIZE, vq->size, 2);
	put(img + CC_QMSIX, vq->msix_vector, 2);
	put(img + CC_QENABLE, vq->enabled, 2);
	put(img + CC_QNOFF, vd->queue_select, 2);
	put(img + CC_QDESC, vq->desc_gpa, 8);
	put(img + CC_QAVAIL, vq->avail_gpa, 8);
	put(img + CC_QUSED, vq->used_gpa, 8);
}

static uint64_t common_read(struct virtio_dev *vd, uint64_t off, int size)
{
	uint8_t img[VTPCI_COMMON_LEN];
	uint64_t v = 0;

	if (off >= VTPCI_COMMON_LEN || (uint64_t)size > VTPCI_COMMON_LEN - off)
		return 0;
	common_image(vd, img);
	for (int i = size - 1; i >= 0; i--)
		v = v << 8 | img[off + (uint64_t)i];
	return v;
}

/* A write to queue_desc/driver/device: whole, or one 32-bit half. */
static void set_addr(struct virtio_dev *vd, uint64_t *gpa, uint64_t part,
    int size, uint64_t val)
{
	if (size == 8 && part == 0)
		*gpa = val;
	else if (size == 4 && part == 0)
		*gpa = (*gpa & ~0xffffffffULL) | (uint32_t)val;
	else if (size == 4 && part == 4)
		*gpa = (*gpa & 0xffffffffULL) | val << 32;
	else
		khyve_dbg("%s: queue address write %d@+%llu ignored",
		    vd->ops->name, size, (unsigned long long)part);
}

static void common_write(struct virtio_dev *vd, uint64_t off, int size,
    uint64_t val)
{
	struct vqueue *vq = selected(vd);
	bool live = vq != NULL && vq->enabled;

	if (off >= CC_QDESC && off < VTPCI_COMMON_LEN) {
		/* Ring addresses: only while the queue is off. */
		if (vq == NULL || live)
			return;
		uint64_t *gpa = off < CC_QAVAIL ? &vq->desc_gpa :
		    off < CC_QUSED ? &vq->avail_gpa : &vq->used_gpa;
		set_addr(vd, gpa, (off - CC_QDESC) % 8, size, val);
		return;
	}
	switch (off << 4 | (unsigned)size) {
	case CC_DFSELECT << 4 | 4:
		vd->dfselect = (uint32_t)val;
		break;
	case CC_GFSELECT << 4 | 4:
		vd->gfselect = (uint32_t)val;
		break;
	case CC_GF << 4 | 4:
		/* Settled once FEATURES_OK is set; only two halves exist. */
		if (vd->status & VIRTIO_CONFIG_S_FEATURES_OK || vd->gfselect > 1)
			break;
		if (vd->gfselect == 0)
			vd->driver_features = (vd->driver_features &
			    ~0xffffffffULL) | (uint32_t)val;
		else
			vd->driver_features = (vd->driver_features &
			    0xffffffffULL) | (val & 0xffffffffULL) << 32;
		break;
	case CC_MSIX << 4 | 2:
		vd->config_vector = vtpci_vector(vd, val);
		break;
	case CC_STATUS << 4 | 1:
		vtpci_set_status(vd, (uint8_t)val, true);
		break;
	case CC_QSELECT << 4 | 2:
		vd->queue_select = (uint16_t)val;
		break;
	case CC_QSIZE << 4 | 2:
		/* The driver may shrink a queue, never grow it. */
		if (vq != NULL && !live && val >= 1 && val <= vd->ops->qsize)
			vq->size = (uint16_t)val;
		else
			khyve_dbg("%s: queue size %llu ignored", vd->ops->name,
			    (unsigned long long)val);
		break;
	case CC_QMSIX << 4 | 2:
		if (vq != NULL)
			vq->msix_vector = vtpci_vector(vd, val);
		break;
	case CC_QENABLE << 4 | 2:
		/*
		 * Only 1 means anything (0 needs VIRTIO_F_RING_RESET, not
		 * offered); the rings need the negotiated features.
		 */
		if (vq != NULL && !live && val == 1 &&
		    (vd->status & VIRTIO_CONFIG_S_FEATURES_OK))
			vtpci_queue_enable(vd, vq->index);
		break;
	default:
		khyve_dbg("%s: common config write %d@%#llx ignored",
		    vd->ops->name, size, (unsigned long long)off);
		break;
	}
}

static uint64_t devcfg_read(struct virtio_dev *vd, uint64_t off, int size)
{
	/* 64-bit fields are read as two 32-bit halves. */
	if (size == 8)
		return vtpci_devcfg_read(vd, off, 4) |
		    (uint64_t)vtpci_devcfg_read(vd, off + 4, 4) << 32;
	return vtpci_devcfg_read(vd, off, size);
}

static void devcfg_write(struct virtio_dev *vd, uint64_t off, int size,
    uint64_t val)
{
	if (size == 8) {
		vtpci_devcfg_write(vd, off, 4, (uint32_t)val);
		vtpci_devcfg_write(vd, off + 4, 4, val >> 32);
		return;
	}
	vtpci_devcfg_write(vd, off, size, val);
}

uint64_t vtpci_modern_read(struct virtio_dev *vd, uint64_t off, int size)
{
	if (off < VTPCI_ISR_OFF)
		return common_read(vd, off, size);
	if (off < VTPCI_DEVCFG_OFF)
		/* Only the ISR byte itself clears. */
		return off == VTPCI_ISR_OFF ? vtpci_isr_read(vd) : 0;
	if (off < VTPCI_NOTIFY_OFF)
		return devcfg_read(vd, off - VTPCI_DEVCFG_OFF, size);
	return 0; /* doorbells read as 0 */
}

void vtpci_modern_write(struct virtio_dev *vd, uint64_t off, int size,
    uint64_t val)
{
	if (off < VTPCI_ISR_OFF)
		common_write(vd, off, size, val);
	else if (off < VTPCI_DEVCFG_OFF)
		; /* ISR is read-only */
	else if (off < VTPCI_NOTIFY_OFF)
		devcfg_write(vd, off - VTPCI_DEVCFG_OFF, size, val);
	else if ((off - VTPCI_NOTIFY_OFF) % VTPCI_NOTIFY_MULT == 0)
		/* The doorbell's address names the queue, not the value. */
		vtpci_kick(vd, (off - VTPCI_NOTIFY_OFF) / VTPCI_NOTIFY_MULT);
}

/* ---- capabilities ---- */

static int add_cap(struct virtio_dev *vd, uint8_t type, uint32_t offset,
    uint32_t length, uint32_t extra, int len)
{
	uint8_t cap[VIRTIO_PCI_CFG_CAP_LEN] = { 0 };
	int off;

	cap[0] = PCI_CAP_ID_VNDR;
	cap[2] = (uint8_t)len; /* cap_len */
	cap[3] = type;         /* cfg_type */
	cap[4] = type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : VTPCI_MODERN_BAR;
	put(cap + 8, offset, 4);
	put(cap + 12, length, 4);
	if (len > VIRTIO_PCI_CAP_LEN)
		put(cap + 16, extra, 4);
	off = pci_emul_add_capability(vd->pi, cap, len);
	if (off < 0)
		return off;
	if (vd->cap_lo == 0)
		vd->cap_lo = off;
	vd->cap_hi = off + len;
	return off;
}

int vtpci_modern_caps(struct virtio_dev *vd)
{
	int nq = vd->ops->nqueues;
	int off;

	off = add_cap(vd, VIRTIO_PCI_CAP_COMMON_CFG, VTPCI_COMMON_OFF,
	    VTPCI_COMMON_LEN, 0, VIRTIO_PCI_CAP_LEN);
	if (off >= 0)
		off = add_cap(vd, VIRTIO_PCI_CAP_NOTIFY_CFG, VTPCI_NOTIFY_OFF,
		    (uint32_t)nq * VTPCI_NOTIFY_MULT, VTPCI_NOTIFY_MULT,
		    VIRTIO_PCI_NOTIFY_CAP_LEN);
	if (off >= 0)
		off = add_cap(vd, VIRTIO_PCI_CAP_ISR_CFG, VTPCI_ISR_OFF,
		    VTPCI_ISR_LEN, 0, VIRTIO_PCI_CAP_LEN);
	/* Without device configuration the capability is optional. */
	if (off >= 0 && vd->ops->cfgsize > 0)
		off = add_cap(vd, VIRTIO_PCI_CAP_DEVICE_CFG, VTPCI_DEVCFG_OFF,
		    vd->ops->cfgsize, 0, VIRTIO_PCI_CAP_LEN);
	if (off >= 0)
		off = add_cap(vd, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0,
		    VIRTIO_PCI_CFG_CAP_LEN);
	if (off < 0)
		return off;
	vd->pcicfg_cap = off;
	return 0;
}

/*
 * The PCI_CFG access capability: the driver writes cap.bar, cap.offset
 * and cap.length, then reading or writing pci_cfg_data accesses that many
 * bytes of the BAR (virtio 1.2 section 4.1.4.9).  Only naturally aligned
 * 1, 2 or 4-byte accesses inside one of our BARs go through.
 */
static bool pcicfg_target(struct virtio_dev *vd, int *bar, uint64_t *off,
    int *len)
{
	struct pci_devinst *pi = vd->pi;
	int c = vd->pcicfg_cap;
	uint32_t l = pci_get_cfgdata32(pi, c + 12);

	*bar = pci_get_cfgdata8(pi, c + 4);
	*off = pci_get_cfgdata32(pi, c + 8);
	*len = (int)l;
	if (l != 1 && l != 2 && l != 4)
		return false;
	if (*off % l != 0)
		return false;
	if (!(*bar == VTPCI_MODERN_BAR ||
	    (*bar == VTPCI_LEGACY_BAR && vtpci_has_legacy(vd))))
		return false;
	return *off + l <= pi->pi_bar[*bar].size;
}

static uint64_t bar_read(struct virtio_dev *vd, int bar, uint64_t off, int len)
{
	return bar == VTPCI_LEGACY_BAR ? vtpci_legacy_read(vd, off, len) :
	    vtpci_modern_read(vd, off, len);
}

static void bar_write(struct virtio_dev *vd, int bar, uint64_t off, int len,
    uint64_t val)
{
	if (bar == VTPCI_LEGACY_BAR)
		vtpci_legacy_write(vd, off, len, val);
	else
		vtpci_modern_write(vd, off, len, val);
}

int vtpci_pcicfg_read(struct virtio_dev *vd, int offset, int bytes,
    uint32_t *val)
{
	int c = vd->pcicfg_cap, bar, len;
	uint64_t off;
	uint32_t data = 0;

	/* The rest of the capabilities read as stored. */
	if (c == 0 || offset < c + 16 || offset >= c + VIRTIO_PCI_CFG_CAP_LEN)
		return -ENOTSUP;
	pthread_mutex_lock(&vd->lock);
	if (pcicfg_target(vd, &bar, &off, &len))
		data = (uint32_t)bar_read(vd, bar, off, len);
	pci_set_cfgdata32(vd->pi, c + 16, data);
	pthread_mutex_unlock(&vd->lock);
	data >>= 8 * (offset - (c + 16));
	*val = bytes == 4 ? data : data & ((1U << (8 * bytes)) - 1);
	return 0;
}

int vtpci_pcicfg_write(struct virtio_dev *vd, int offset, int bytes,
    uint32_t val)
{
	int c = vd->pcicfg_cap, bar, len;
	bool data_written = false;
	uint64_t off;

	if (vd->cap_lo == 0 || offset < vd->cap_lo || offset >= vd->cap_hi)
		return -ENOTSUP;
	pthread_mutex_lock(&vd->lock);
	/*
	 * Our vendor capabilities are read-only except cap.bar,
	 * cap.offset, cap.length and pci_cfg_data of the PCI_CFG one.
	 */
	for (int i = 0; i < bytes; i++) {
		int o = offset + i;

		if (c == 0 || !(o == c + 4 || (o >= c + 8 &&
		    o < c + VIRTIO_PCI_CFG_CAP_LEN)))
			continue;
		pci_set_cfgdata8(vd->pi, o, (uint8_t)(val >> (8 * i)));
		data_written |= o >= c + 16;
	}
	if (data_written && pcicfg_target(vd, &bar, &off, &len)) {
		uint64_t data = pci_get_cfgdata32(vd->pi, c + 16);

		/* The first cap.length bytes of pci_cfg_data. */
		bar_write(vd, bar, off, len, data & ((1ULL << (8 * len)) - 1));
	}
	pthread_mutex_unlock(&vd->lock);
	return 0;
}
