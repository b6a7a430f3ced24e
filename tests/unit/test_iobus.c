/* test_iobus.c - claims, overlap, boundaries and dispatch of bus/iobus.c. */
#include <errno.h>
#include <stdint.h>

#include "bus/iobus.h"
#include "test.h"

struct probe {
	int calls;
	bool write;
	uint64_t offset;
	int size;
	uint64_t wval;
	uint64_t rval;
	int rc;
};

static int probe_fn(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct probe *p = opaque;

	(void)vcpu;
	p->calls++;
	p->write = write;
	p->offset = offset;
	p->size = size;
	if (write)
		p->wval = *val;
	else
		*val = p->rval;
	return p->rc;
}

TEST(iobus_register_and_dispatch)
{
	struct iobus bus;
	struct probe a = { .rval = 0x55 }, b = { .rval = 0x66 };
	uint64_t v;

	CHECK_EQ(iobus_init(&bus, "port"), 0);
	CHECK_EQ(iobus_register(&bus, 0x3f8, 8, probe_fn, &a, "com1"), 0);
	CHECK_EQ(iobus_register(&bus, 0x2f8, 8, probe_fn, &b, "com2"), 0);

	v = 0;
	CHECK_EQ(iobus_access(&bus, NULL, 0x3fd, 1, false, &v), 0);
	CHECK_EQ(v, 0x55);
	CHECK_EQ(a.offset, 5);
	CHECK_EQ(a.size, 1);
	CHECK(!a.write);

	v = 0xab;
	CHECK_EQ(iobus_access(&bus, NULL, 0x2f8, 1, true, &v), 0);
	CHECK_EQ(b.calls, 1);
	CHECK(b.write);
	CHECK_EQ(b.wval, 0xab);
	CHECK_EQ(b.offset, 0);

	/* Unclaimed: handler not called, value untouched. */
	v = 0x1234;
	CHECK_EQ(iobus_access(&bus, NULL, 0x300, 1, false, &v), -ENOENT);
	CHECK_EQ(v, 0x1234);
	CHECK_EQ(iobus_access(&bus, NULL, 0, 1, false, &v), -ENOENT);
	CHECK_EQ(iobus_access(&bus, NULL, UINT64_MAX, 1, false, &v), -ENOENT);

	/* The handler's error is passed through. */
	a.rc = -EIO;
	CHECK_EQ(iobus_access(&bus, NULL, 0x3f8, 1, false, &v), -EIO);
	iobus_fini(&bus);
}

TEST(iobus_boundaries_and_straddle)
{
	struct iobus bus;
	struct probe a = { 0 };
	uint64_t v = 0;

	iobus_init(&bus, "port");
	CHECK_EQ(iobus_register(&bus, 0x70, 2, probe_fn, &a, "rtc"), 0);
	/* First and last byte belong to the claim... */
	CHECK_EQ(iobus_access(&bus, NULL, 0x70, 1, false, &v), 0);
	CHECK_EQ(iobus_access(&bus, NULL, 0x71, 1, false, &v), 0);
	CHECK_EQ(a.offset, 1);
	CHECK_EQ(iobus_access(&bus, NULL, 0x70, 2, false, &v), 0);
	/* ...the bytes either side do not. */
	CHECK_EQ(iobus_access(&bus, NULL, 0x6f, 1, false, &v), -ENOENT);
	CHECK_EQ(iobus_access(&bus, NULL, 0x72, 1, false, &v), -ENOENT);
	/* Accesses that straddle either end are unclaimed. */
	a.calls = 0;
	CHECK_EQ(iobus_access(&bus, NULL, 0x71, 2, false, &v), -ENOENT);
	CHECK_EQ(iobus_access(&bus, NULL, 0x6f, 2, false, &v), -ENOENT);
	CHECK_EQ(iobus_access(&bus, NULL, 0x70, 4, false, &v), -ENOENT);
	CHECK_EQ(a.calls, 0);
	/* Bad sizes are refused before any lookup. */
	CHECK_EQ(iobus_access(&bus, NULL, 0x70, 3, false, &v), -EINVAL);
	CHECK_EQ(iobus_access(&bus, NULL, 0x70, 0, false, &v), -EINVAL);
	CHECK_EQ(iobus_access(&bus, NULL, 0x70, -1, false, &v), -EINVAL);
	CHECK_EQ(a.calls, 0);
	iobus_fini(&bus);
}

TEST(iobus_overlap_rejected)
{
	struct iobus bus;
	struct probe a = { 0 };

	iobus_init(&bus, "port");
	CHECK_EQ(iobus_register(&bus, 0x100, 0x10, probe_fn, &a, "a"), 0);
	/* Same base, inside, covering, touching either end from outside. */
	CHECK_EQ(iobus_register(&bus, 0x100, 1, probe_fn, &a, "b"), -EEXIST);
	CHECK_EQ(iobus_register(&bus, 0x108, 2, probe_fn, &a, "b"), -EEXIST);
	CHECK_EQ(iobus_register(&bus, 0xf0, 0x100, probe_fn, &a, "b"), -EEXIST);
	CHECK_EQ(iobus_register(&bus, 0xff, 2, probe_fn, &a, "b"), -EEXIST);
	CHECK_EQ(iobus_register(&bus, 0x10f, 2, probe_fn, &a, "b"), -EEXIST);
	/* Adjacent claims are fine. */
	CHECK_EQ(iobus_register(&bus, 0xf0, 0x10, probe_fn, &a, "lo"), 0);
	CHECK_EQ(iobus_register(&bus, 0x110, 0x10, probe_fn, &a, "hi"), 0);
	CHECK_EQ(bus.n, 3);
	/* Sorted. */
	CHECK_EQ(bus.v[0].base, 0xf0);
	CHECK_EQ(bus.v[1].base, 0x100);
	CHECK_EQ(bus.v[2].base, 0x110);
	iobus_fini(&bus);
}

TEST(iobus_bad_ranges)
{
	struct iobus bus;
	struct probe a = { 0 };
	uint64_t v = 0;

	iobus_init(&bus, "mmio");
	CHECK_EQ(iobus_register(&bus, 0x1000, 0, probe_fn, &a, "zero"),
	    -EINVAL);
	CHECK_EQ(iobus_register(&bus, UINT64_MAX, 2, probe_fn, &a, "wrap"),
	    -EINVAL);
	CHECK_EQ(iobus_register(&bus, 2, UINT64_MAX, probe_fn, &a, "wrap"),
	    -EINVAL);
	CHECK_EQ(iobus_register(&bus, 0x1000, 1, NULL, &a, "nofn"), -EINVAL);
	/* A claim may end exactly at the top of the address space. */
	CHECK_EQ(iobus_register(&bus, UINT64_MAX - 7, 8, probe_fn, &a, "top"),
	    0);
	CHECK_EQ(iobus_access(&bus, NULL, UINT64_MAX - 7, 8, true, &v), 0);
	CHECK_EQ(iobus_access(&bus, NULL, UINT64_MAX, 1, true, &v), 0);
	CHECK_EQ(iobus_access(&bus, NULL, UINT64_MAX - 3, 8, true, &v),
	    -ENOENT);
	CHECK_EQ(bus.n, 1);
	iobus_fini(&bus);
}

TEST(iobus_unregister)
{
	struct iobus bus;
	struct probe a = { 0 }, b = { 0 };
	uint64_t v = 0;

	iobus_init(&bus, "port");
	CHECK_EQ(iobus_register(&bus, 0x60, 1, probe_fn, &a, "kbd-data"), 0);
	CHECK_EQ(iobus_register(&bus, 0x64, 1, probe_fn, &b, "kbd-ctl"), 0);
	CHECK(iobus_opaque(&bus, 0x60) == &a);
	CHECK(iobus_opaque(&bus, 0x64) == &b);
	CHECK(iobus_opaque(&bus, 0x61) == NULL);
	/* Only the exact base unregisters. */
	CHECK_EQ(iobus_unregister(&bus, 0x61), -ENOENT);
	CHECK_EQ(iobus_unregister(&bus, 0x60), 0);
	CHECK_EQ(iobus_unregister(&bus, 0x60), -ENOENT);
	CHECK(iobus_opaque(&bus, 0x60) == NULL);
	CHECK_EQ(iobus_access(&bus, NULL, 0x60, 1, false, &v), -ENOENT);
	CHECK_EQ(iobus_access(&bus, NULL, 0x64, 1, false, &v), 0);
	CHECK_EQ(b.calls, 1);
	/* The freed range can be claimed again. */
	CHECK_EQ(iobus_register(&bus, 0x60, 1, probe_fn, &b, "again"), 0);
	iobus_fini(&bus);
}

TEST(iobus_many_claims)
{
	struct iobus bus;
	struct probe a = { 0 };
	uint64_t v = 0;
	int ok = 1;

	iobus_init(&bus, "port");
	/* Insert out of order, beyond the initial capacity. */
	for (int i = 99; i >= 0; i--)
		if (iobus_register(&bus, (uint64_t)i * 4, 2, probe_fn, &a,
			"x") != 0)
			ok = 0;
	CHECK(ok);
	CHECK_EQ(bus.n, 100);
	for (size_t i = 1; i < bus.n; i++)
		if (bus.v[i - 1].base >= bus.v[i].base)
			ok = 0;
	CHECK(ok);
	for (int i = 0; i < 100; i++) {
		if (iobus_access(&bus, NULL, (uint64_t)i * 4 + 1, 1, false,
			&v) != 0)
			ok = 0;
		if (iobus_access(&bus, NULL, (uint64_t)i * 4 + 2, 1, false,
			&v) != -ENOENT)
			ok = 0;
	}
	CHECK(ok);
	CHECK_EQ(a.calls, 100);
	iobus_fini(&bus);
}
