/*
 * irq.c - KVM interrupt plumbing: the GSI routing table copy, MSI routes,
 * KVM_SIGNAL_MSI, irqfd and ioeventfd (see irq.h).
 *
 * The copy starts as KVM's own default x86 table (arch/x86/kvm's
 * default_routing): GSI 0..15 each to the I/O APIC pin of the same number
 * and to the PIC pin (master for 0..7, slave for 8..15, pin = gsi % 8);
 * GSI 16..23 to the I/O APIC only.  vm_irq_init() does not commit it,
 * since KVM_CREATE_IRQCHIP installed the same table.  Every later change
 * (an MSI route) edits the copy and commits all of it with
 * KVM_SET_GSI_ROUTING; a failed commit restores the copy, so the copy
 * always equals what KVM holds.
 *
 * Invariants (under `lock`): e[0 .. n) holds at most one entry per
 * (gsi, irqchip) pair and one MSI entry per GSI; msi_used[g] is set exactly
 * for the GSIs handed out by vm_msi_route_alloc(); n <= max_routes.
 *
 * Without a VM (vm->fd < 0, as in the unit tests) every function returns
 * -ENODEV and touches nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "common.h"
#include "vmm/irq.h"
#include "vmm/vm.h"

#define IRQ_NDEFAULT_GSI 24 /* 0..23: the PIC and I/O APIC inputs */
#define IRQ_NISA 16
#define IRQ_MAX_ROUTES_FALLBACK 1024 /* if KVM does not say (it does) */

struct vm_irq {
	pthread_mutex_t lock;
	struct kvm_irq_routing_entry *e;
	int n, cap;
	int max_routes; /* KVM's limit on entries and on GSI numbers */
	uint8_t *msi_used; /* [max_routes] */
};

static struct vm_irq *irq_of(struct vm *vm)
{
	if (vm == NULL || vm->fd < 0)
		return NULL;
	return vm->irq;
}

static struct kvm_irq_routing_entry irqchip_entry(int gsi, int chip, int pin)
{
	struct kvm_irq_routing_entry r;

	memset(&r, 0, sizeof(r));
	r.gsi = (uint32_t)gsi;
	r.type = KVM_IRQ_ROUTING_IRQCHIP;
	r.u.irqchip.irqchip = (uint32_t)chip;
	r.u.irqchip.pin = (uint32_t)pin;
	return r;
}

/* KVM's default table, entry for entry. */
static void load_defaults(struct vm_irq *q)
{
	q->n = 0;
	for (int gsi = 0; gsi < IRQ_NDEFAULT_GSI; gsi++) {
		q->e[q->n++] = irqchip_entry(gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < IRQ_NISA)
			q->e[q->n++] = irqchip_entry(gsi, gsi < 8 ?
			    KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
			    gsi % 8);
	}
}

int vm_irq_init(struct vm *vm)
{
	struct vm_irq *q;
	int max;

	if (vm == NULL || vm->fd < 0)
		return -ENODEV;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	max = ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	if (max <= 0)
		max = IRQ_MAX_ROUTES_FALLBACK;
	q->max_routes = max;
	q->cap = 64;
	q->e = calloc((size_t)q->cap, sizeof(*q->e));
	q->msi_used = calloc((size_t)max, 1);
	if (q->e == NULL || q->msi_used == NULL) {
		free(q->e);
		free(q->msi_used);
		free(q);
		return -ENOMEM;
	}
	pthread_mutex_init(&q->lock, NULL);
	load_defaults(q);
	vm->irq = q;
	return 0;
}

void vm_irq_fini(struct vm *vm)
{
	struct vm_irq *q = vm ? vm->irq : NULL;

	if (q == NULL)
		return;
	pthread_mutex_destroy(&q->lock);
	free(q->e);
	free(q->msi_used);
	free(q);
	vm->irq = NULL;
}

/* Hand the whole copy to KVM.  Caller holds the lock. */
static int commit(struct vm *vm, struct vm_irq *q)
{
	struct kvm_irq_routing *r;
	int rc = 0;

	r = calloc(1, sizeof(*r) + (size_t)q->n * sizeof(r->entries[0]));
	if (r == NULL)
		return -ENOMEM;
	r->nr = (uint32_t)q->n;
	memcpy(r->entries, q->e, (size_t)q->n * sizeof(r->entries[0]));
	if (ioctl(vm->fd, KVM_SET_GSI_ROUTING, r) < 0)
		rc = -errno;
	free(r);
	return rc;
}

static int grow(struct vm_irq *q)
{
	struct kvm_irq_routing_entry *ne;
	int ncap;

	if (q->n < q->cap)
		return 0;
	if (q->n >= q->max_routes)
		return -ENOSPC;
	ncap = MIN(q->cap * 2, q->max_routes);
	ne = reallocarray(q->e, (size_t)ncap, sizeof(*ne));
	if (ne == NULL)
		return -ENOMEM;
	q->e = ne;
	q->cap = ncap;
	return 0;
}

static int find(const struct vm_irq *q, int gsi, uint32_t type, int chip)
{
	for (int i = 0; i < q->n; i++) {
		if (q->e[i].gsi != (uint32_t)gsi || q->e[i].type != type)
			continue;
		if (type != KVM_IRQ_ROUTING_IRQCHIP ||
		    q->e[i].u.irqchip.irqchip == (uint32_t)chip)
			return i;
	}
	return -1;
}

static void remove_at(struct vm_irq *q, int i)
{
	q->e[i] = q->e[--q->n];
}

int vm_msi_route_alloc(struct vm *vm)
{
	struct vm_irq *q = irq_of(vm);
	struct kvm_irq_routing_entry r;
	int gsi, rc;

	if (q == NULL)
		return -ENODEV;
	pthread_mutex_lock(&q->lock);
	for (gsi = IRQ_NDEFAULT_GSI; gsi < q->max_routes; gsi++)
		if (!q->msi_used[gsi])
			break;
	if (gsi >= q->max_routes) {
		rc = -ENOSPC;
		goto out;
	}
	if ((rc = grow(q)) != 0)
		goto out;
	memset(&r, 0, sizeof(r));
	r.gsi = (uint32_t)gsi;
	r.type = KVM_IRQ_ROUTING_MSI;
	q->e[q->n++] = r;
	if ((rc = commit(vm, q)) != 0) {
		q->n--;
		goto out;
	}
	q->msi_used[gsi] = 1;
	rc = gsi;
out:
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int vm_msi_route_set(struct vm *vm, int gsi, uint64_t addr, uint32_t data)
{
	struct vm_irq *q = irq_of(vm);
	struct kvm_irq_routing_entry old;
	int i, rc;

	if (q == NULL)
		return -ENODEV;
	pthread_mutex_lock(&q->lock);
	if (gsi < IRQ_NDEFAULT_GSI || gsi >= q->max_routes ||
	    !q->msi_used[gsi] ||
	    (i = find(q, gsi, KVM_IRQ_ROUTING_MSI, 0)) < 0) {
		rc = -EINVAL;
		goto out;
	}
	old = q->e[i];
	q->e[i].u.msi.address_lo = (uint32_t)addr;
	q->e[i].u.msi.address_hi = (uint32_t)(addr >> 32);
	q->e[i].u.msi.data = data;
	if (memcmp(&old, &q->e[i], sizeof(old)) == 0) {
		rc = 0; /* unchanged: spare KVM the table swap */
		goto out;
	}
	if ((rc = commit(vm, q)) != 0)
		q->e[i] = old;
out:
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void vm_msi_route_free(struct vm *vm, int gsi)
{
	struct vm_irq *q = irq_of(vm);
	int i, rc;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	if (gsi >= IRQ_NDEFAULT_GSI && gsi < q->max_routes &&
	    q->msi_used[gsi] &&
	    (i = find(q, gsi, KVM_IRQ_ROUTING_MSI, 0)) >= 0) {
		struct kvm_irq_routing_entry old = q->e[i];

		remove_at(q, i);
		if ((rc = commit(vm, q)) != 0) {
			/* Keep the copy equal to KVM's table. */
			q->e[q->n++] = old;
			khyve_warnx("cannot remove MSI route of GSI %d: %s",
			    gsi, strerror(-rc));
		} else {
			q->msi_used[gsi] = 0;
		}
	}
	pthread_mutex_unlock(&q->lock);
}

int vm_msi_signal(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi;

	if (vm == NULL || vm->fd < 0)
		return -ENODEV;
	memset(&msi, 0, sizeof(msi));
	msi.address_lo = (uint32_t)addr;
	msi.address_hi = (uint32_t)(addr >> 32);
	msi.data = data;
	/* > 0 delivered, 0 blocked by the guest (e.g. masked at the APIC). */
	if (ioctl(vm->fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}

int vm_irqfd(struct vm *vm, int fd, int gsi, bool assign)
{
	struct kvm_irqfd f;

	if (vm == NULL || vm->fd < 0)
		return -ENODEV;
	if (fd < 0 || gsi < 0)
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	f.fd = (uint32_t)fd;
	f.gsi = (uint32_t)gsi;
	f.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN;
	if (ioctl(vm->fd, KVM_IRQFD, &f) < 0)
		return -errno;
	return 0;
}

int vm_ioeventfd(struct vm *vm, int fd, bool pio, uint64_t addr, int len,
    bool match, uint64_t data, bool assign)
{
	struct kvm_ioeventfd e;

	if (vm == NULL || vm->fd < 0)
		return -ENODEV;
	if (fd < 0 || (len != 0 && len != 1 && len != 2 && len != 4 &&
	    len != 8))
		return -EINVAL;
	/* "Any length" exists only for MMIO and cannot match a value. */
	if (len == 0 && (pio || match))
		return -EINVAL;
	if (pio && addr + (uint64_t)len > 0x10000)
		return -EINVAL;
	memset(&e, 0, sizeof(e));
	e.datamatch = match ? data : 0;
	e.addr = addr;
	e.len = (uint32_t)len;
	e.fd = fd;
	if (pio)
		e.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (match)
		e.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (!assign)
		e.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	if (ioctl(vm->fd, KVM_IOEVENTFD, &e) < 0)
		return -errno;
	return 0;
}

int vm_isa_irq_level(struct vm *vm, int isa_irq)
{
	struct vm_irq *q = irq_of(vm);
	struct kvm_irqchip chip;
	int rc = 0;

	if (q == NULL)
		return -ENODEV;
	if (isa_irq < 0 || isa_irq >= IRQ_NISA)
		return -EINVAL;
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = isa_irq < 8 ? KVM_IRQCHIP_PIC_MASTER :
	    KVM_IRQCHIP_PIC_SLAVE;
	/* Read-modify-write of the PIC state: serialise with ourselves. */
	pthread_mutex_lock(&q->lock);
	if (ioctl(vm->fd, KVM_GET_IRQCHIP, &chip) < 0) {
		rc = -errno;
		goto out;
	}
	chip.chip.pic.elcr |= (uint8_t)(1u << (isa_irq % 8));
	/* KVM keeps the bits the chipset cannot make level (IRQ 0-2, 8, 13)
	 * out through elcr_mask; mirror that rather than fight it. */
	chip.chip.pic.elcr &= chip.chip.pic.elcr_mask;
	if (ioctl(vm->fd, KVM_SET_IRQCHIP, &chip) < 0)
		rc = -errno;
out:
	pthread_mutex_unlock(&q->lock);
	return rc;
}
