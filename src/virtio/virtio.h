/*
 * virtio.h - the virtio PCI transport and what a virtio device plugs in.
 *
 * One transport (virtio_pci.c) serves every device in three forms, chosen
 * per device with the "transport" key (-s 4,virtio-blk,disk.img,
 * transport=modern|legacy|transitional; transitional by default):
 *  - legacy (virtio 0.9.5): the transitional device ID from the spec's
 *    table (0x1000 net, 0x1001 blk, 0x1003 console, 0x1005 rng), subsystem
 *    device ID = type, the register block in I/O
 *    BAR 0 as bhyve's virtio.c lays it out, device config after it (at 20,
 *    or 24 with MSI-X enabled);
 *  - modern (virtio 1.x): device ID 0x1040 + type, revision 1, vendor
 *    capabilities for common / notify / ISR / device config in a 64-bit
 *    memory BAR 4 (notify_off_multiplier 4, one doorbell per queue), plus
 *    the PCI configuration access capability; VIRTIO_F_VERSION_1 offered
 *    and required;
 *  - transitional: legacy device ID and both register sets; the driver's
 *    choice (FEATURES_OK with VERSION_1, or legacy register use) decides.
 * Interrupts: MSI-X (one vector per queue plus config) through the PCI
 * core's irqfds; with -W (virtio_msix=false) a single-vector MSI; else
 * INTx with the ISR register.
 *
 * Threads.  Each virtio device has one I/O thread running its own event
 * loop (struct mevent_loop).  A guest kick is an ioeventfd (legacy: a port
 * write of the queue index to QUEUE_NOTIFY, matched by value; modern: a
 * write to the queue's doorbell) that the I/O thread watches, so kicks do
 * not exit to user space and device work never runs on a vCPU thread.  If
 * KVM refuses an ioeventfd, the register write on the vCPU thread signals
 * the same eventfd.  Back ends add their own fds (tap, sockets) to the
 * device's loop with virtio_dev_loop().
 *
 * Locking.  vd->lock guards the transport registers and every vqueue.  The
 * transport holds it while it calls ops->notify, ops->reset,
 * ops->cfgread/cfgwrite and ops->set_features.  Code on any other thread
 * (block workers completing requests, back-end callbacks on the I/O
 * thread) takes it with virtio_lock()/virtio_unlock() around vqueue calls
 * and virtio_vq_done().  ops->reset runs with the lock held and must not
 * wait for a thread that needs the lock: a device with requests in flight
 * drops their completions instead (compare vd->generation, bumped on every
 * reset, under the lock).
 */
#ifndef KHYVE_VIRTIO_VIRTIO_H
#define KHYVE_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtqueue.h"

struct config_node;
struct mevent_loop;
struct mevent;
struct pci_devinst;

/* Device types (virtio 1.2 section 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* Device status bits. */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 1
#define VIRTIO_CONFIG_S_DRIVER 2
#define VIRTIO_CONFIG_S_DRIVER_OK 4
#define VIRTIO_CONFIG_S_FEATURES_OK 8
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40
#define VIRTIO_CONFIG_S_FAILED 0x80

/* Transport feature bits. */
#define VIRTIO_F_NOTIFY_ON_EMPTY 24
#define VIRTIO_F_ANY_LAYOUT 27
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33

#define VIRTIO_MSI_NO_VECTOR 0xffff
/* virtio-console: 16 ports * 2 + 2 control queues (bhyve's VTCON_MAXQ). */
#define VIRTIO_MAX_QUEUES 34

enum virtio_transport {
	VIRTIO_TRANSITIONAL = 0,
	VIRTIO_LEGACY,
	VIRTIO_MODERN,
};

struct virtio_ops {
	const char *name;     /* for messages: "virtio-blk" */
	uint16_t device_type; /* VIRTIO_ID_* */
	uint32_t pci_class;   /* class << 16 | subclass << 8 | progif */
	int nqueues;          /* queues the device has (<= VIRTIO_MAX_QUEUES) */
	uint16_t qsize;       /* size offered per queue (<= VQ_MAX_SIZE) */
	uint32_t cfgsize;     /* bytes of device-specific configuration */
	/*
	 * Device feature bits offered (device-specific, plus any of
	 * VIRTIO_RING_F_INDIRECT_DESC/EVENT_IDX/F_ANY_LAYOUT the device
	 * supports).  The transport adds VERSION_1 in modern mode.  The
	 * device state may refine them in set_features.
	 */
	uint64_t features;
	/* The driver wrote FEATURES_OK (or legacy: the guest features). */
	void (*set_features)(void *sc, uint64_t negotiated);
	/* Device reset by the guest (status 0) or by the transport. */
	void (*reset)(void *sc);
	/* The guest kicked `vq` (on the I/O thread, lock held). */
	void (*notify)(void *sc, struct vqueue *vq);
	/* Device config access; offset + size <= cfgsize (checked). */
	void (*cfgread)(void *sc, uint32_t offset, int size, uint32_t *val);
	void (*cfgwrite)(void *sc, uint32_t offset, int size, uint32_t val);
	/* The driver set DRIVER_OK (start RX, etc.); may be NULL. */
	void (*driver_ok)(void *sc);
};

/*
 * The transport's state for one device.  A device's softc embeds it (any
 * position) and passes it to virtio_dev_init; pi->pi_arg then points to
 * the struct virtio_dev.
 */
struct virtio_dev {
	const struct virtio_ops *ops;
	void *sc; /* passed to every op */
	struct pci_devinst *pi;
	enum virtio_transport transport;
	bool modern;  /* the driver negotiated VERSION_1 */
	bool use_msix;

	pthread_mutex_t lock;
	uint8_t status;
	uint8_t isr;
	uint64_t device_features;
	uint64_t driver_features; /* what the driver wrote (both halves) */
	uint64_t negotiated;
	uint32_t dfselect, gfselect;
	uint16_t queue_select;
	uint16_t config_vector;
	uint8_t config_generation;
	unsigned generation; /* bumped on every reset */
	struct vqueue vq[VIRTIO_MAX_QUEUES];

	/* Kicks: one eventfd per queue, watched by the I/O thread. */
	int kick_fd[VIRTIO_MAX_QUEUES];
	struct mevent *kick_ev[VIRTIO_MAX_QUEUES];
	bool kick_bound[VIRTIO_MAX_QUEUES];
	struct mevent_loop *loop;
	pthread_t iothread;
	bool iothread_started;

	/*
	 * Transport internals (virtio_pci*.c); devices leave them alone.
	 * kick_where[q]: which doorbells of queue q have an ioeventfd bound
	 * (bit 0 legacy port, bit 1 modern MMIO).  legacy_addr/modern_addr:
	 * where BAR 0 / BAR 4 are mapped, valid while *_mapped.  Vendor
	 * capabilities occupy [cap_lo, cap_hi) of configuration space;
	 * pcicfg_cap is the PCI_CFG access capability (0 if none).
	 */
	uint8_t kick_where[VIRTIO_MAX_QUEUES];
	uint64_t legacy_addr, modern_addr;
	bool legacy_mapped, modern_mapped;
	int cap_lo, cap_hi, pcicfg_cap;
	bool ioeventfd_warned;
};

/*
 * Set up the PCI function `pi` for the device (IDs, class, BARs,
 * capabilities, MSI-X or MSI, INTx), the kick eventfds and the I/O thread
 * (started by the transport; the back end may add fds before or after).
 * Reads "transport" from `cfg`.  Returns 0 or a negative errno after a
 * message (-EINVAL for a bad transport value).
 */
int virtio_dev_init(struct virtio_dev *vd, const struct virtio_ops *ops,
    void *sc, struct pci_devinst *pi, struct config_node *cfg);
/*
 * Stop the I/O thread and release everything init made.  A back end
 * deletes the events it added to the device's loop first (mevent_delete),
 * then calls this (which joins the thread, so none of its callbacks is
 * still running), then frees its own state.
 */
void virtio_dev_fini(struct virtio_dev *vd);

/* The device's event loop (runs on its I/O thread). */
struct mevent_loop *virtio_dev_loop(struct virtio_dev *vd);

void virtio_lock(struct virtio_dev *vd);
void virtio_unlock(struct virtio_dev *vd);

/*
 * After returning chains on `vq` (lock held): interrupt the guest if
 * vq_need_interrupt() says so, through the queue's MSI-X vector, MSI, or
 * the ISR bit + INTx.
 */
void virtio_vq_done(struct virtio_dev *vd, struct vqueue *vq);
/* Device configuration changed (lock held): config interrupt. */
void virtio_config_changed(struct virtio_dev *vd);
/*
 * The guest broke a queue or the device cannot go on (lock held): set
 * DEVICE_NEEDS_RESET and raise a config interrupt (modern drivers reset;
 * the device ignores the queue until then).
 */
void virtio_needs_reset(struct virtio_dev *vd);

/* Does the device currently use the feature bit? */
static inline bool virtio_has_feature(const struct virtio_dev *vd, int bit)
{
	return (vd->negotiated >> bit) & 1;
}

/*
 * pci_devemu entry points shared by every virtio device: a device's
 * table points pe_cfgread/pe_cfgwrite/pe_barread/pe_barwrite/pe_baraddr
 * here; pi->pi_arg must be the struct virtio_dev.
 */
int virtio_pci_cfgread(struct pci_devinst *pi, int offset, int bytes,
    uint32_t *val);
int virtio_pci_cfgwrite(struct pci_devinst *pi, int offset, int bytes,
    uint32_t val);
uint64_t virtio_pci_barread(struct pci_devinst *pi, int baridx,
    uint64_t offset, int size);
void virtio_pci_barwrite(struct pci_devinst *pi, int baridx, uint64_t offset,
    int size, uint64_t value);
void virtio_pci_baraddr(struct pci_devinst *pi, int baridx, bool enabled,
    uint64_t addr);

#endif
