/*
 * virtio.h - a small virtio PCI driver for the test guests: legacy
 * (virtio 0.9.5: registers in I/O BAR 0, queue PFN, 4096-byte ring
 * alignment) and modern (virtio 1.2 section 4.1: vendor capabilities,
 * common configuration, notify_off_multiplier, FEATURES_OK, queue_enable)
 * transports, split virtqueues, feature negotiation, MSI-X (or MSI)
 * interrupts counted per vector, and polling of the used ring.
 *
 * Usage: vio_find() a function, vio_init() (reset, ACKNOWLEDGE, DRIVER,
 * interrupts), vio_negotiate(), vio_setup_vq() for each queue,
 * vio_driver_ok(); then vio_request() (one chain, wait for it) or
 * vio_add()/vio_kick()/vio_wait() for several outstanding buffers.
 * Every failure is printed as "virtio FAIL: ..." and counted in
 * vio_errors; functions return 0 / -1.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "pci.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

#define VIRTIO_S_ACKNOWLEDGE 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 0x40
#define VIRTIO_S_FAILED 0x80

#define VIRTIO_F_NOTIFY_ON_EMPTY 24
#define VIRTIO_F_ANY_LAYOUT 27
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4

#define VIO_MAX_QUEUES 8
#define VIO_MAX_QSIZE 1024 /* largest queue we set up */

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
struct vring_avail {
	uint16_t flags, idx;
	uint16_t ring[];
};
struct vring_used_elem {
	uint32_t id, len;
};
struct vring_used {
	uint16_t flags, idx;
	struct vring_used_elem ring[];
};

struct vq {
	int index;
	uint16_t size; /* 0: not set up */
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	uint16_t avail_idx;  /* next avail->idx we publish */
	uint16_t last_used;  /* used entries consumed */
	uint16_t free_head, num_free;
	uint16_t chain_len[VIO_MAX_QSIZE]; /* by head; 0: not outstanding */
	uintptr_t notify;    /* modern doorbell */
	int vector;          /* IDT vector of its interrupt; -1 none */
};

enum vio_mode { VIO_AUTO, VIO_LEGACY, VIO_MODERN };
enum vio_irq { VIO_IRQ_NONE, VIO_IRQ_MSIX, VIO_IRQ_MSI };

struct vdev {
	struct pci_dev *pci;
	int type;
	bool modern;
	uint16_t io;           /* legacy register block (I/O BAR 0) */
	uintptr_t common, isr, devcfg, notify_base;
	uint32_t notify_mult, devcfg_len;
	uint64_t dev_features, features;
	enum vio_irq irq;
	struct pci_msix msix;
	int vector_base;       /* config: base; queue i: base + 1 + i */
	struct vq vq[VIO_MAX_QUEUES];
};

/* Chain element for vio_add()/vio_request(). */
struct vbuf {
	void *addr;
	uint32_t len;
	bool write; /* device-writable */
};

extern int vio_errors;
void vio_fail(const char *fmt, ...) PRINTF(1, 2);

/* The nth virtio function of `type` (legacy/transitional or modern ID). */
struct pci_dev *vio_find(struct pci_dev *devs, int n, int type, int nth);
/* "legacy", "modern" or "auto" (default) from the command line's key. */
enum vio_mode vio_mode_arg(const char *key);
/* "msix" (default when offered), "msi", "none". */
enum vio_irq vio_irq_arg(const char *key, struct pci_dev *d);

/*
 * Reset the device, set up interrupts (irq_init() must have run; the
 * vectors are vector_base..), ACKNOWLEDGE | DRIVER, read the offered
 * features.  Modern transport when `mode` says so or (auto) when the
 * function has the common configuration capability.
 */
int vio_init(struct vdev *vd, struct pci_dev *d, enum vio_mode mode,
    enum vio_irq irq, int vector_base);
/* Accept `want` & offered (modern: plus VERSION_1), FEATURES_OK. */
int vio_negotiate(struct vdev *vd, uint64_t want);
/* Set up queue qi with at most `max` entries (the device's size for
 * legacy, where it cannot be changed). */
int vio_setup_vq(struct vdev *vd, int qi, uint16_t max);
void vio_driver_ok(struct vdev *vd);
uint8_t vio_status(struct vdev *vd);
void vio_set_status(struct vdev *vd, uint8_t s);
/* Write 0 and wait for the device to show 0 (modern); queues forgotten. */
void vio_reset(struct vdev *vd);
/* Device-specific configuration (size 1, 2, 4 or 8). */
uint64_t vio_cfg_read(struct vdev *vd, uint32_t off, int size);
void vio_cfg_write(struct vdev *vd, uint32_t off, int size, uint32_t v);

/* Put a chain on queue qi's available ring (no notify): head or -1. */
int vio_add(struct vdev *vd, int qi, const struct vbuf *b, int n);
void vio_kick(struct vdev *vd, int qi);
/* Take one used entry if there is one (its chain is freed). */
bool vio_poll(struct vdev *vd, int qi, uint32_t *id, uint32_t *len);
/* vio_poll until timeout_ms; false on timeout (not counted as error). */
bool vio_wait(struct vdev *vd, int qi, uint32_t *id, uint32_t *len,
    uint32_t timeout_ms);
/*
 * Add a chain, kick, wait for it (and, with MSI-X/MSI, for the queue's
 * interrupt: a missing one is an error).  Returns the used length, or -1
 * on timeout (reported).
 */
int64_t vio_request(struct vdev *vd, int qi, const struct vbuf *b, int n,
    uint32_t timeout_ms);
/* Raw: publish descriptor `head` as is (hostile tests) and kick. */
void vio_publish(struct vdev *vd, int qi, uint16_t head);
/* Interrupts taken on queue qi's / the config vector so far. */
uint32_t vio_irqs(struct vdev *vd, int qi);
uint32_t vio_config_irqs(struct vdev *vd);
/* Print "<prefix>: transport ... features ..." */
void vio_print(struct vdev *vd, const char *prefix);

#endif
