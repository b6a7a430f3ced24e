/*
 * virtio_pci.c - the virtio PCI transport (see virtio.h for the design):
 * PCI identity and BARs, the per-device I/O thread and its kick eventfds,
 * interrupts, and the device state machine (status, features, queues,
 * reset) that both register sets (virtio_pci_legacy.c, virtio_pci_modern.c)
 * drive.
 *
 * Trust boundary: every register value comes from the guest.  Queue
 * indices are bounded by ops->nqueues, vectors by the MSI-X table, queue
 * sizes by ops->qsize, ring addresses are checked by vq_enable(), and
 * device configuration accesses by ops->cfgsize before any device code
 * sees them.  Invalid writes are ignored (debug message), never trusted.
 *
 * Kicks: each queue has one eventfd.  KVM signals it directly on a guest
 * write to the queue's doorbell once the ioeventfd is bound (BAR mapped and
 * queue enabled); if KVM refused, or the write still reached us through
 * the exit path, the register handler signals the same eventfd.  Either
 * way ops->notify runs on the device's I/O thread, under vd->lock.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bus/pci_emul.h"
#include "common.h"
#include "config.h"
#include "event/mevent.h"
#include "sandbox/sandbox.h"
#include "virtio/virtio.h"
#include "virtio/virtio_pci_priv.h"
#include "vmm/irq.h"
#include "vmm/vm.h"
#include "thread.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVID_MODERN 0x1040 /* + type */
#define VIRTIO_PCI_SUBDEV_MODERN 0x0040 /* spec: 0x40 or higher */

/* Configuration header offsets (type 0). */
#define VTPCI_R_VENDOR 0x00
#define VTPCI_R_DEVICE 0x02
#define VTPCI_R_REVID 0x08
#define VTPCI_R_PROGIF 0x09
#define VTPCI_R_SUBCLASS 0x0a
#define VTPCI_R_CLASS 0x0b
#define VTPCI_R_HDRTYPE 0x0e
#define VTPCI_R_SUBVEND 0x2c
#define VTPCI_R_SUBDEV 0x2e

/* The legacy I/O BAR may not exceed 256 ports (PCI). */
#define VTPCI_LEGACY_BAR_MAX 256

/* ---- locking ---- */

void virtio_lock(struct virtio_dev *vd)
{
	pthread_mutex_lock(&vd->lock);
}

void virtio_unlock(struct virtio_dev *vd)
{
	pthread_mutex_unlock(&vd->lock);
}

struct mevent_loop *virtio_dev_loop(struct virtio_dev *vd)
{
	return vd->loop;
}

/* ---- interrupts ---- */

/*
 * Deliver one interrupt: the MSI-X vector while the guest enabled MSI-X
 * (none if the vector is NO_VECTOR), else the ISR bit plus MSI vector 0
 * or INTx (the core makes INTx a no-op while MSI is on), as bhyve does.
 */
static void vtpci_interrupt(struct virtio_dev *vd, uint16_t vector,
    uint8_t isrbit)
{
	struct pci_devinst *pi = vd->pi;

	if (vd->use_msix && pci_msix_enabled(pi)) {
		if (vector != VIRTIO_MSI_NO_VECTOR)
			pci_generate_msix(pi, vector);
		return;
	}
	vd->isr |= isrbit;
	if (pci_msi_enabled(pi))
		pci_generate_msi(pi, 0);
	else
		pci_lintr_assert(pi);
}

void virtio_vq_done(struct virtio_dev *vd, struct vqueue *vq)
{
	if (vq->broken)
		virtio_needs_reset(vd);
	/* After a reset the rings are gone: nothing to tell the guest. */
	if (!vq->enabled)
		return;
	if (vq_need_interrupt(vq))
		vtpci_interrupt(vd, vq->msix_vector, VTPCI_ISR_QUEUE);
}

static void vtpci_config_interrupt(struct virtio_dev *vd)
{
	/* No notifications before DRIVER_OK (virtio 1.2 section 2.1.2). */
	if (vd->status & VIRTIO_CONFIG_S_DRIVER_OK)
		vtpci_interrupt(vd, vd->config_vector, VTPCI_ISR_CONFIG);
}

void virtio_config_changed(struct virtio_dev *vd)
{
	vd->config_generation++;
	vtpci_config_interrupt(vd);
}

void virtio_needs_reset(struct virtio_dev *vd)
{
	if (vd->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	khyve_dbg("%s: device needs reset", vd->ops->name);
	vd->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vtpci_config_interrupt(vd);
}

uint8_t vtpci_isr_read(struct virtio_dev *vd)
{
	uint8_t v = vd->isr;

	vd->isr = 0;
	if (v != 0)
		pci_lintr_deassert(vd->pi);
	return v;
}

uint16_t vtpci_vector(const struct virtio_dev *vd, uint64_t v)
{
	/* The MSI-X table has one vector per queue plus one for config. */
	if (!vd->use_msix || v >= (uint64_t)vd->ops->nqueues + 1)
		return VIRTIO_MSI_NO_VECTOR;
	return (uint16_t)v;
}

/* ---- device configuration ---- */

static bool devcfg_ok(const struct virtio_dev *vd, uint64_t off, int size)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	return off < vd->ops->cfgsize && (uint64_t)size <= vd->ops->cfgsize - off;
}

uint32_t vtpci_devcfg_read(struct virtio_dev *vd, uint64_t off, int size)
{
	uint32_t v = 0;

	if (!devcfg_ok(vd, off, size) || vd->ops->cfgread == NULL)
		return 0;
	vd->ops->cfgread(vd->sc, (uint32_t)off, size, &v);
	if (size < 4)
		v &= (1U << (size * 8)) - 1;
	return v;
}

void vtpci_devcfg_write(struct virtio_dev *vd, uint64_t off, int size,
    uint64_t val)
{
	if (!devcfg_ok(vd, off, size) || vd->ops->cfgwrite == NULL) {
		khyve_dbg("%s: config write %d@%#llx ignored", vd->ops->name,
		    size, (unsigned long long)off);
		return;
	}
	if (size < 4)
		val &= (1U << (size * 8)) - 1;
	vd->ops->cfgwrite(vd->sc, (uint32_t)off, size, (uint32_t)val);
}

/* ---- kicks ---- */

static void kick_refused(struct virtio_dev *vd, int rc)
{
	/* A unit test's fake VM has no KVM fd: the exit path covers it. */
	if (vd->pi->pi_vm->fd < 0 || vd->ioeventfd_warned)
		return;
	vd->ioeventfd_warned = true;
	khyve_warnx("%s: KVM refused an ioeventfd (%s); kicks go through "
	    "user space", vd->ops->name, strerror(-rc));
}

static uint64_t legacy_doorbell(const struct virtio_dev *vd)
{
	return vd->legacy_addr + VTPCI_L_QNOTIFY;
}

static uint64_t modern_doorbell(const struct virtio_dev *vd, int q)
{
	return vd->modern_addr + VTPCI_NOTIFY_OFF +
	    (uint64_t)q * VTPCI_NOTIFY_MULT;
}

void vtpci_kick_bind(struct virtio_dev *vd, int q)
{
	struct vm *vm = vd->pi->pi_vm;
	int rc;

	if (!vd->vq[q].enabled)
		return;
	if (vd->legacy_mapped && !(vd->kick_where[q] & VTPCI_KICK_LEGACY)) {
		/* 2-byte write of the queue index to QUEUE_NOTIFY. */
		rc = vm_ioeventfd(vm, vd->kick_fd[q], true, legacy_doorbell(vd),
		    2, true, (uint64_t)q, true);
		if (rc == 0)
			vd->kick_where[q] |= VTPCI_KICK_LEGACY;
		else
			kick_refused(vd, rc);
	}
	if (vd->modern_mapped && !(vd->kick_where[q] & VTPCI_KICK_MODERN)) {
		/* Any write of any length to the queue's doorbell. */
		rc = vm_ioeventfd(vm, vd->kick_fd[q], false,
		    modern_doorbell(vd, q), 0, false, 0, true);
		if (rc == 0)
			vd->kick_where[q] |= VTPCI_KICK_MODERN;
		else
			kick_refused(vd, rc);
	}
	vd->kick_bound[q] = vd->kick_where[q] != 0;
}

/* Unbinding must repeat the binding's arguments: call before moving. */
void vtpci_kick_unbind(struct virtio_dev *vd, int q, uint8_t which)
{
	struct vm *vm = vd->pi->pi_vm;

	if (which & vd->kick_where[q] & VTPCI_KICK_LEGACY) {
		vm_ioeventfd(vm, vd->kick_fd[q], true, legacy_doorbell(vd), 2,
		    true, (uint64_t)q, false);
		vd->kick_where[q] &= (uint8_t)~VTPCI_KICK_LEGACY;
	}
	if (which & vd->kick_where[q] & VTPCI_KICK_MODERN) {
		vm_ioeventfd(vm, vd->kick_fd[q], false, modern_doorbell(vd, q),
		    0, false, 0, false);
		vd->kick_where[q] &= (uint8_t)~VTPCI_KICK_MODERN;
	}
	vd->kick_bound[q] = vd->kick_where[q] != 0;
}

void vtpci_kick(struct virtio_dev *vd, uint64_t q)
{
	uint64_t one = 1;

	if (q >= (uint64_t)vd->ops->nqueues) {
		khyve_dbg("%s: kick of queue %llu ignored", vd->ops->name,
		    (unsigned long long)q);
		return;
	}
	/* EAGAIN means the counter is saturated: a kick is pending anyway. */
	if (write(vd->kick_fd[q], &one, sizeof(one)) < 0) {
		/* nothing to do */
	}
}

/* The I/O thread: a queue's eventfd fired. */
static void kick_cb(int fd, enum mevent_type type, void *arg)
{
	struct virtio_dev *vd = arg;
	struct vqueue *vq;
	uint64_t n;
	int q;

	(void)type;
	for (q = 0; q < vd->ops->nqueues && vd->kick_fd[q] != fd; q++)
		;
	if (q == vd->ops->nqueues)
		return;
	/* Read first: a kick that arrives during notify fires again. */
	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: someone else drained it; harmless */
	}
	pthread_mutex_lock(&vd->lock);
	vq = &vd->vq[q];
	if (vq->enabled && !vq->broken) {
		vd->ops->notify(vd->sc, vq);
		if (vq->broken)
			virtio_needs_reset(vd);
	}
	pthread_mutex_unlock(&vd->lock);
}

/* ---- queues, features, status, reset ---- */

static void vq_flags(struct virtio_dev *vd, struct vqueue *vq)
{
	vq->event_idx = virtio_has_feature(vd, VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = virtio_has_feature(vd, VIRTIO_RING_F_INDIRECT_DESC);
}

bool vtpci_queue_enable(struct virtio_dev *vd, int q)
{
	struct vqueue *vq = &vd->vq[q];
	int rc;

	vq_flags(vd, vq);
	rc = vq_enable(vq);
	if (rc != 0) {
		khyve_dbg("%s: queue %d refused (desc %#llx avail %#llx used "
		    "%#llx size %u): %s", vd->ops->name, q,
		    (unsigned long long)vq->desc_gpa,
		    (unsigned long long)vq->avail_gpa,
		    (unsigned long long)vq->used_gpa, vq->size, strerror(-rc));
		return false;
	}
	vtpci_kick_bind(vd, q);
	return true;
}

/* Back to the state after reset, except the MSI-X vector. */
void vtpci_queue_disable(struct virtio_dev *vd, int q)
{
	struct vqueue *vq = &vd->vq[q];
	uint16_t vector = vq->msix_vector;

	vtpci_kick_unbind(vd, q, VTPCI_KICK_LEGACY | VTPCI_KICK_MODERN);
	vq_reset(vq);
	vq->size = vd->ops->qsize;
	vq->msix_vector = vector;
}

void vtpci_apply_features(struct virtio_dev *vd, uint64_t features)
{
	vd->negotiated = features & vd->device_features;
	vd->modern = virtio_has_feature(vd, VIRTIO_F_VERSION_1);
	for (int q = 0; q < vd->ops->nqueues; q++)
		vq_flags(vd, &vd->vq[q]);
	if (vd->ops->set_features != NULL)
		vd->ops->set_features(vd->sc, vd->negotiated);
}

/* Transport registers to their reset values (no device call). */
static void reset_regs(struct virtio_dev *vd)
{
	for (int q = 0; q < vd->ops->nqueues; q++) {
		vtpci_queue_disable(vd, q);
		vd->vq[q].msix_vector = VIRTIO_MSI_NO_VECTOR;
	}
	vd->status = 0;
	vd->isr = 0;
	vd->driver_features = 0;
	vd->negotiated = 0;
	vd->modern = false;
	vd->dfselect = vd->gfselect = 0;
	vd->queue_select = 0;
	vd->config_vector = VIRTIO_MSI_NO_VECTOR;
	vd->generation++;
}

void vtpci_reset(struct virtio_dev *vd)
{
	/* The device first, so it stops using the rings reset_regs drops. */
	if (vd->ops->reset != NULL)
		vd->ops->reset(vd->sc);
	reset_regs(vd);
	pci_lintr_deassert(vd->pi);
}

void vtpci_set_status(struct virtio_dev *vd, uint8_t val, bool modern_if)
{
	uint8_t old = vd->status;
	uint8_t add;

	if (val == 0) {
		vtpci_reset(vd);
		return;
	}
	/*
	 * Only a reset clears bits (the driver must not), so bits are
	 * sticky; NEEDS_RESET is the device's to set.
	 */
	add = (uint8_t)(val & ~old & ~VIRTIO_CONFIG_S_NEEDS_RESET);
	if (modern_if && (add & VIRTIO_CONFIG_S_FEATURES_OK)) {
		uint64_t f = vd->driver_features;

		/* Only offered features, and virtio 1.x needs VERSION_1. */
		if ((f & ~vd->device_features) != 0 ||
		    !(f & (1ULL << VIRTIO_F_VERSION_1))) {
			khyve_dbg("%s: features %#llx refused (offered %#llx)",
			    vd->ops->name, (unsigned long long)f,
			    (unsigned long long)vd->device_features);
			add &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
		} else {
			vtpci_apply_features(vd, f);
		}
	}
	/* Through the modern interface, DRIVER_OK needs FEATURES_OK. */
	if (modern_if && (add & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !((old | add) & VIRTIO_CONFIG_S_FEATURES_OK))
		add &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
	vd->status = old | add;
	if ((add & VIRTIO_CONFIG_S_DRIVER_OK) && vd->ops->driver_ok != NULL)
		vd->ops->driver_ok(vd->sc);
}

/* ---- the PCI entry points ---- */

int virtio_pci_cfgread(struct pci_devinst *pi, int offset, int bytes,
    uint32_t *val)
{
	struct virtio_dev *vd = pi->pi_arg;

	if (vd == NULL || vd->ops == NULL)
		return -ENOTSUP;
	return vtpci_pcicfg_read(vd, offset, bytes, val);
}

int virtio_pci_cfgwrite(struct pci_devinst *pi, int offset, int bytes,
    uint32_t val)
{
	struct virtio_dev *vd = pi->pi_arg;

	if (vd == NULL || vd->ops == NULL)
		return -ENOTSUP;
	return vtpci_pcicfg_write(vd, offset, bytes, val);
}

uint64_t virtio_pci_barread(struct pci_devinst *pi, int baridx,
    uint64_t offset, int size)
{
	struct virtio_dev *vd = pi->pi_arg;
	uint64_t v = 0;

	if (vd == NULL || vd->ops == NULL)
		return 0;
	pthread_mutex_lock(&vd->lock);
	if (baridx == VTPCI_LEGACY_BAR && vtpci_has_legacy(vd))
		v = vtpci_legacy_read(vd, offset, size);
	else if (baridx == VTPCI_MODERN_BAR && vtpci_has_modern(vd))
		v = vtpci_modern_read(vd, offset, size);
	pthread_mutex_unlock(&vd->lock);
	return v;
}

void virtio_pci_barwrite(struct pci_devinst *pi, int baridx, uint64_t offset,
    int size, uint64_t value)
{
	struct virtio_dev *vd = pi->pi_arg;

	if (vd == NULL || vd->ops == NULL)
		return;
	pthread_mutex_lock(&vd->lock);
	if (baridx == VTPCI_LEGACY_BAR && vtpci_has_legacy(vd))
		vtpci_legacy_write(vd, offset, size, value);
	else if (baridx == VTPCI_MODERN_BAR && vtpci_has_modern(vd))
		vtpci_modern_write(vd, offset, size, value);
	pthread_mutex_unlock(&vd->lock);
}

void virtio_pci_baraddr(struct pci_devinst *pi, int baridx, bool enabled,
    uint64_t addr)
{
	struct virtio_dev *vd = pi->pi_arg;
	int nq;

	if (vd == NULL || vd->ops == NULL)
		return;
	nq = vd->ops->nqueues;
	pthread_mutex_lock(&vd->lock);
	if (baridx == VTPCI_LEGACY_BAR && vtpci_has_legacy(vd)) {
		for (int q = 0; q < nq; q++)
			vtpci_kick_unbind(vd, q, VTPCI_KICK_LEGACY);
		vd->legacy_mapped = enabled;
		vd->legacy_addr = addr;
	} else if (baridx == VTPCI_MODERN_BAR && vtpci_has_modern(vd)) {
		for (int q = 0; q < nq; q++)
			vtpci_kick_unbind(vd, q, VTPCI_KICK_MODERN);
		vd->modern_mapped = enabled;
		vd->modern_addr = addr;
	}
	if (enabled)
		for (int q = 0; q < nq; q++)
			vtpci_kick_bind(vd, q);
	pthread_mutex_unlock(&vd->lock);
}

/* ---- set-up and tear-down ---- */

static int parse_transport(const struct virtio_ops *ops,
    struct config_node *cfg, enum virtio_transport *t)
{
	const char *s = cfg != NULL ? config_get(cfg, "transport") : NULL;

	*t = VIRTIO_TRANSITIONAL;
	if (s == NULL || strcmp(s, "transitional") == 0)
		return 0;
	if (strcmp(s, "legacy") == 0) {
		*t = VIRTIO_LEGACY;
		return 0;
	}
	if (strcmp(s, "modern") == 0) {
		*t = VIRTIO_MODERN;
		return 0;
	}
	khyve_warnx("%s: transport=%s: expected legacy, modern or "
	    "transitional", ops->name, s);
	return -EINVAL;
}

/* A device table error is ours, but say so instead of crashing later. */
static int check_ops(const struct virtio_ops *ops)
{
	if (ops->nqueues < 1 || ops->nqueues > VIRTIO_MAX_QUEUES ||
	    ops->qsize < 1 || ops->qsize > VQ_MAX_SIZE ||
	    (ops->qsize & (ops->qsize - 1)) != 0 || ops->notify == NULL ||
	    ops->cfgsize > VTPCI_MODERN_SIZE / 4 ||
	    VTPCI_L_CFG1 + ops->cfgsize > VTPCI_LEGACY_BAR_MAX) {
		khyve_warnx("%s: bad virtio device description", ops->name);
		return -EINVAL;
	}
	return 0;
}

static void *iothread_main(void *arg)
{
	struct virtio_dev *vd = arg;

	sandbox_enter(vd->ops->device_type == VIRTIO_ID_NET ? SANDBOX_NET : SANDBOX_IO);
	mevent_dispatch(vd->loop);
	return NULL;
}

static int start_iothread(struct virtio_dev *vd)
{
	sigset_t all, old;
	char name[16];
	int rc;

	/* Signals belong to the main and vCPU threads, never to this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = khyve_thread_create(&vd->iothread, iothread_main, vd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		khyve_warnx("%s: cannot start the I/O thread: %s",
		    vd->ops->name, strerror(-rc));
		return rc;
	}
	snprintf(name, sizeof(name), "%s", vd->ops->name);
	pthread_setname_np(vd->iothread, name);
	vd->iothread_started = true;
	return 0;
}

static void release(struct virtio_dev *vd)
{
	for (int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (vd->kick_ev[q] != NULL)
			mevent_delete(vd->kick_ev[q]);
		vd->kick_ev[q] = NULL;
		if (vd->kick_fd[q] >= 0)
			close(vd->kick_fd[q]);
		vd->kick_fd[q] = -1;
	}
	mevent_loop_destroy(vd->loop);
	vd->loop = NULL;
}

/*
 * Transitional (legacy) PCI device IDs are a table, not a formula: the
 * rng is 0x1005 although its type is 4 (virtio 1.2, 4.1.2.1).  0: the type
 * has no legacy ID and can only be offered as a modern device.
 */
uint16_t virtio_pci_legacy_id(uint16_t type)
{
	switch (type) {
	case VIRTIO_ID_NET: return 0x1000;
	case VIRTIO_ID_BLOCK: return 0x1001;
	case 5: return 0x1002; /* memory balloon */
	case VIRTIO_ID_CONSOLE: return 0x1003;
	case 8: return 0x1004; /* SCSI host */
	case VIRTIO_ID_RNG: return 0x1005;
	case 9: return 0x1009; /* 9P transport */
	default: return 0;
	}
}

static void set_ids(struct virtio_dev *vd)
{
	struct pci_devinst *pi = vd->pi;
	const struct virtio_ops *ops = vd->ops;
	bool modern_only = vd->transport == VIRTIO_MODERN;

	pci_set_cfgdata16(pi, VTPCI_R_VENDOR, VIRTIO_PCI_VENDOR);
	pci_set_cfgdata16(pi, VTPCI_R_DEVICE, (uint16_t)(modern_only ?
	    VIRTIO_PCI_DEVID_MODERN + ops->device_type :
	    virtio_pci_legacy_id(ops->device_type)));
	/* Transitional devices must have revision 0, modern ones >= 1. */
	pci_set_cfgdata8(pi, VTPCI_R_REVID, modern_only ? 1 : 0);
	pci_set_cfgdata8(pi, VTPCI_R_PROGIF, (uint8_t)ops->pci_class);
	pci_set_cfgdata8(pi, VTPCI_R_SUBCLASS, (uint8_t)(ops->pci_class >> 8));
	pci_set_cfgdata8(pi, VTPCI_R_CLASS, (uint8_t)(ops->pci_class >> 16));
	pci_set_cfgdata8(pi, VTPCI_R_HDRTYPE, 0);
	pci_set_cfgdata16(pi, VTPCI_R_SUBVEND, VIRTIO_PCI_VENDOR);
	/* Legacy drivers find the device type in the subsystem ID. */
	pci_set_cfgdata16(pi, VTPCI_R_SUBDEV, modern_only ?
	    VIRTIO_PCI_SUBDEV_MODERN : ops->device_type);
}

int virtio_dev_init(struct virtio_dev *vd, const struct virtio_ops *ops,
    void *sc, struct pci_devinst *pi, struct config_node *cfg)
{
	enum virtio_transport t;
	int rc;

	rc = check_ops(ops);
	if (rc == 0)
		rc = parse_transport(ops, cfg, &t);
	if (rc == 0 && t != VIRTIO_MODERN &&
	    virtio_pci_legacy_id(ops->device_type) == 0) {
		khyve_warnx("%s: has no legacy form; use transport=modern",
		    ops->name);
		rc = -EINVAL;
	}
	if (rc != 0)
		return rc;

	memset(vd, 0, sizeof(*vd));
	vd->sc = sc;
	vd->pi = pi;
	vd->transport = t;
	vd->use_msix = config_bool(NULL, "virtio_msix", true);
	vd->device_features = ops->features;
	if (vtpci_has_modern(vd))
		vd->device_features |= 1ULL << VIRTIO_F_VERSION_1;
	else
		vd->device_features &= ~(1ULL << VIRTIO_F_VERSION_1);
	for (int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vd->kick_fd[q] = -1;
	for (int q = 0; q < ops->nqueues; q++) {
		vd->vq[q].mem = &pi->pi_vm->mem;
		vd->vq[q].index = (uint16_t)q;
	}
	pthread_mutex_init(&vd->lock, NULL);

	vd->loop = mevent_loop_create();
	if (vd->loop == NULL) {
		rc = -ENOMEM;
		khyve_warnx("%s: cannot create the event loop", ops->name);
		goto fail;
	}
	for (int q = 0; q < ops->nqueues; q++) {
		vd->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vd->kick_fd[q] < 0) {
			rc = -errno;
			khyve_warn("%s: eventfd", ops->name);
			goto fail;
		}
		vd->kick_ev[q] = mevent_add(vd->loop, vd->kick_fd[q], EVF_READ,
		    kick_cb, vd);
		if (vd->kick_ev[q] == NULL) {
			rc = -errno;
			khyve_warn("%s: watching a kick eventfd", ops->name);
			goto fail;
		}
	}
	/* ops last: the PCI entry points treat ops == NULL as "not ready". */
	vd->ops = ops;
	reset_regs(vd);
	vd->generation = 0;
	pi->pi_arg = vd; /* before the BARs: the core may report them mapped */

	set_ids(vd);
	if (vtpci_has_legacy(vd)) {
		rc = pci_emul_alloc_bar(pi, VTPCI_LEGACY_BAR, PCIBAR_IO,
		    vtpci_legacy_barsize(vd));
		if (rc != 0)
			goto fail_pci;
	}
	if (vtpci_has_modern(vd)) {
		rc = pci_emul_alloc_bar(pi, VTPCI_MODERN_BAR, PCIBAR_MEM64,
		    VTPCI_MODERN_SIZE);
		if (rc == 0)
			rc = vtpci_modern_caps(vd);
		if (rc != 0)
			goto fail_pci;
	}
	if (vd->use_msix) {
		rc = pci_emul_add_msixcap(pi, ops->nqueues + 1, VTPCI_MSIX_BAR);
		if (rc < 0)
			goto fail_pci;
	}
	/* bhyve offers one MSI vector in every case, and INTx always. */
	rc = pci_emul_add_msicap(pi, 1);
	if (rc < 0)
		goto fail_pci;
	pci_lintr_request(pi);

	rc = start_iothread(vd);
	if (rc != 0)
		goto fail_unready;
	return 0;

fail_pci:
	khyve_warnx("%s: cannot set up the PCI function: %s", ops->name,
	    strerror(-rc));
fail_unready:
	pi->pi_arg = NULL;
	vd->ops = NULL;
fail:
	release(vd);
	pthread_mutex_destroy(&vd->lock);
	return rc;
}

void virtio_dev_fini(struct virtio_dev *vd)
{
	if (vd->ops == NULL)
		return;
	if (vd->iothread_started) {
		mevent_loop_stop(vd->loop, 0);
		pthread_join(vd->iothread, NULL);
		vd->iothread_started = false;
	}
	pthread_mutex_lock(&vd->lock);
	for (int q = 0; q < vd->ops->nqueues; q++)
		vtpci_kick_unbind(vd, q, VTPCI_KICK_LEGACY | VTPCI_KICK_MODERN);
	pthread_mutex_unlock(&vd->lock);
	release(vd);
	vd->ops = NULL;
	pthread_mutex_destroy(&vd->lock);
}
