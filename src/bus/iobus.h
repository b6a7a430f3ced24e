/*
 * iobus.h - registries of port-I/O and MMIO handlers.
 *
 * A device claims [base, base + len) on a bus with a handler.  Claims may
 * not overlap (registration fails with -EEXIST naming both claimants).
 * vCPU threads look up handlers on every I/O exit; registration happens at
 * start-up and, rarely, at run time (a guest moving a PCI BAR), so the
 * table is protected by a read-write lock and kept sorted for bsearch.
 *
 * Handlers run on the vCPU thread that took the exit, possibly on several
 * vCPU threads at once: a device with state must lock it.  Handlers are
 * called without the bus lock held, so a handler may (un)register claims
 * (a guest moving a BAR through ECAM); a racing access may still reach
 * the old claim once.  The opaque of a claim must stay valid until every
 * vCPU has stopped, even after the claim is removed.
 */
#ifndef KHYVE_BUS_IOBUS_H
#define KHYVE_BUS_IOBUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/*
 * Handle an access of `size` bytes (1, 2, 4 or 8) at `offset` from the
 * start of the claimed range.  For a read, store the value in *val (the
 * caller pre-loads all ones); for a write, *val holds the value.  Return
 * 0, or a negative errno to make the access fatal to the VM (the exit
 * status is then 4 and the caller prints the access).
 */
typedef int (*iobus_handler_t)(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val);

struct iobus_range {
	uint64_t base;
	uint64_t len;
	iobus_handler_t fn;
	void *opaque;
	const char *name;
};

struct iobus {
	const char *kind; /* "port" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct iobus_range *v;
	size_t n, cap;
};

int iobus_init(struct iobus *bus, const char *kind);
void iobus_fini(struct iobus *bus);

/* 0, -EINVAL (len 0 or wraps), -EEXIST (overlap, message printed), -ENOMEM. */
int iobus_register(struct iobus *bus, uint64_t base, uint64_t len,
    iobus_handler_t fn, void *opaque, const char *name);
/* Remove the claim that starts at `base`; -ENOENT if none. */
int iobus_unregister(struct iobus *bus, uint64_t base);

/*
 * The opaque pointer of the claim that starts exactly at `base`, or NULL.
 * Platform devices get only (dev, vm) at teardown; this lets them find
 * their state through their own claim instead of a global.
 */
void *iobus_opaque(struct iobus *bus, uint64_t base);

/*
 * Dispatch an access.  Returns 0 when a handler took it, -ENOENT when the
 * address is unclaimed (nothing called; *val untouched), or the handler's
 * error.  An access that straddles the end of a claim is unclaimed.
 */
int iobus_access(struct iobus *bus, struct vcpu *vcpu, uint64_t addr,
    int size, bool write, uint64_t *val);

#endif
