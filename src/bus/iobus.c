/*
 * iobus.c - port-I/O and MMIO handler registries (see iobus.h).
 *
 * Invariant: bus->v[0 .. n) is sorted by base and no two claims overlap,
 * so at most one claim can contain an address and a binary search over the
 * bases finds it.  Every claim satisfies len >= 1 and base + len - 1 does
 * not wrap (the last byte is representable).
 *
 * Locking: lookups take the read lock and keep it while the handler runs,
 * so iobus_unregister() (write lock) cannot return while a handler of the
 * claim it removes is still running on another thread; after it returns,
 * the caller may free the claim's opaque state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus/iobus.h"
#include "common.h"

int iobus_init(struct iobus *bus, const char *kind)
{
	int rc;

	bus->kind = kind;
	bus->v = NULL;
	bus->n = bus->cap = 0;
	rc = pthread_rwlock_init(&bus->lock, NULL);
	return -rc;
}

void iobus_fini(struct iobus *bus)
{
	free(bus->v);
	bus->v = NULL;
	bus->n = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

static uint64_t range_last(const struct iobus_range *r)
{
	return r->base + (r->len - 1);
}

/* Index of the first claim whose base is > addr (0 .. n). */
static size_t upper_bound(const struct iobus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bus->v[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The claim containing addr, or NULL.  Caller holds the lock. */
static const struct iobus_range *find(const struct iobus *bus, uint64_t addr)
{
	size_t i = upper_bound(bus, addr);
	const struct iobus_range *r;

	if (i == 0)
		return NULL;
	r = &bus->v[i - 1];
	return addr <= range_last(r) ? r : NULL;
}

static void report_overlap(const struct iobus *bus, uint64_t base,
    uint64_t last, const char *name, const struct iobus_range *old)
{
	khyve_warnx("%s range 0x%llx-0x%llx of %s overlaps 0x%llx-0x%llx of %s",
	    bus->kind ? bus->kind : "bus", (unsigned long long)base,
	    (unsigned long long)last, name ? name : "(unnamed)",
	    (unsigned long long)old->base,
	    (unsigned long long)range_last(old),
	    old->name ? old->name : "(unnamed)");
}

int iobus_register(struct iobus *bus, uint64_t base, uint64_t len,
    iobus_handler_t fn, void *opaque, const char *name)
{
	uint64_t last;
	size_t i;
	int rc = 0;

	if (len == 0 || fn == NULL)
		return -EINVAL;
	last = base + (len - 1);
	if (last < base)
		return -EINVAL; /* wraps past the top of the address space */

	pthread_rwlock_wrlock(&bus->lock);
	i = upper_bound(bus, base);
	/* Sorted and disjoint: only the neighbours can overlap. */
	if (i > 0 && range_last(&bus->v[i - 1]) >= base) {
		report_overlap(bus, base, last, name, &bus->v[i - 1]);
		rc = -EEXIST;
		goto out;
	}
	if (i < bus->n && bus->v[i].base <= last) {
		report_overlap(bus, base, last, name, &bus->v[i]);
		rc = -EEXIST;
		goto out;
	}
	if (bus->n == bus->cap) {
		size_t ncap = bus->cap ? bus->cap * 2 : 16;
		struct iobus_range *nv;

		nv = reallocarray(bus->v, ncap, sizeof(*nv));
		if (nv == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		bus->v = nv;
		bus->cap = ncap;
	}
	memmove(&bus->v[i + 1], &bus->v[i], (bus->n - i) * sizeof(bus->v[0]));
	bus->v[i] = (struct iobus_range){
		.base = base, .len = len, .fn = fn, .opaque = opaque,
		.name = name,
	};
	bus->n++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return rc;
}

int iobus_unregister(struct iobus *bus, uint64_t base)
{
	size_t i;
	int rc = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = upper_bound(bus, base);
	if (i > 0 && bus->v[i - 1].base == base) {
		i--;
		memmove(&bus->v[i], &bus->v[i + 1],
		    (bus->n - i - 1) * sizeof(bus->v[0]));
		bus->n--;
		rc = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return rc;
}

void *iobus_opaque(struct iobus *bus, uint64_t base)
{
	const struct iobus_range *r;
	void *opaque = NULL;

	pthread_rwlock_rdlock(&bus->lock);
	r = find(bus, base);
	if (r != NULL && r->base == base)
		opaque = r->opaque;
	pthread_rwlock_unlock(&bus->lock);
	return opaque;
}

int iobus_access(struct iobus *bus, struct vcpu *vcpu, uint64_t addr,
    int size, bool write, uint64_t *val)
{
	const struct iobus_range *r;
	struct iobus_range claim;
	uint64_t last;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	last = addr + (uint64_t)(size - 1);
	if (last < addr)
		return -ENOENT; /* wraps: no claim can hold it */

	pthread_rwlock_rdlock(&bus->lock);
	r = find(bus, addr);
	/* An access that runs past the end of the claim is nobody's. */
	if (r == NULL || last > range_last(r)) {
		pthread_rwlock_unlock(&bus->lock);
		return -ENOENT;
	}
	claim = *r;
	pthread_rwlock_unlock(&bus->lock);
	/*
	 * The handler runs without the bus lock, so it may (un)register
	 * claims (a config-space write through ECAM moving a memory BAR).
	 * Safe because an opaque outlives its claims: devices are freed only
	 * after every vCPU has stopped.
	 */
	return claim.fn(claim.opaque, vcpu, write, addr - claim.base, size,
	    val);
}
