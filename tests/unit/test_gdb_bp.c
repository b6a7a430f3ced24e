/* test_gdb_bp.c - software breakpoint table (int3 in guest RAM, hidden
 * from reads) and debug register allocation (gdb/gdb_bp.c). */
#include <errno.h>
#include <stdlib.h>

#include "gdb/gdb_bp.h"
#include "loader_fixture.h"
#include "test.h"

TEST(gdb_swbp)
{
	struct gdb_swbps *t = calloc(1, sizeof(*t));
	struct fx_mem m;
	uint8_t buf[16];

	CHECK_EQ(fx_init(&m, 1 * MiB, 0), 0);
	memcpy(gmem_ptr(&m.m, 0x1000, 4), "\x55\x89\xe5\x90", 4);
	CHECK_EQ(gdb_swbp_insert(t, &m.m, 0x1001), 0);
	CHECK_EQ(FX_G8(&m, 0x1001), GDB_INT3);
	CHECK(gdb_swbp_find(t, 0x1001));
	CHECK(!gdb_swbp_find(t, 0x1000));
	/* Inserting twice keeps the original byte, not the int3. */
	CHECK_EQ(gdb_swbp_insert(t, &m.m, 0x1001), 0);
	CHECK_EQ(t->n, 1);
	/* Reads see the original bytes. */
	CHECK_EQ(gdb_swbp_read(t, &m.m, 0x1000, buf, 4), 0);
	CHECK(memcmp(buf, "\x55\x89\xe5\x90", 4) == 0);
	CHECK_EQ(gdb_swbp_read(t, &m.m, 0x1001, buf, 1), 0);
	CHECK_EQ(buf[0], 0x89);
	CHECK_EQ(gdb_swbp_read(t, &m.m, 0x1002, buf, 2), 0);
	CHECK_EQ(buf[0], 0xe5);
	/* Writes over it change the saved byte and keep the int3. */
	CHECK_EQ(gdb_swbp_write(t, &m.m, 0x1000, "\x11\x22\x33", 3), 0);
	CHECK_EQ(FX_G8(&m, 0x1000), 0x11);
	CHECK_EQ(FX_G8(&m, 0x1001), GDB_INT3);
	CHECK_EQ(FX_G8(&m, 0x1002), 0x33);
	CHECK_EQ(gdb_swbp_read(t, &m.m, 0x1001, buf, 1), 0);
	CHECK_EQ(buf[0], 0x22);
	/* Removing restores what was last written. */
	gdb_swbp_remove(t, &m.m, 0x1001);
	CHECK_EQ(FX_G8(&m, 0x1001), 0x22);
	CHECK_EQ(t->n, 0);
	gdb_swbp_remove(t, &m.m, 0x1001); /* absent: fine */
	/* Not RAM. */
	CHECK_EQ(gdb_swbp_insert(t, &m.m, 1 * MiB), -EFAULT);
	CHECK_EQ(gdb_swbp_read(t, &m.m, 1 * MiB - 2, buf, 4), -EFAULT);
	CHECK_EQ(gdb_swbp_write(t, &m.m, 1 * MiB - 2, buf, 4), -EFAULT);
	/* The table is bounded. */
	for (int i = 0; i < GDB_SWBP_MAX; i++)
		CHECK_EQ(gdb_swbp_insert(t, &m.m, 0x2000 + (uint64_t)i), 0);
	CHECK_EQ(gdb_swbp_insert(t, &m.m, 0x3000), -ENOSPC);
	CHECK_EQ(FX_G8(&m, 0x3000), 0);
	gdb_swbp_remove_all(t, &m.m);
	CHECK_EQ(t->n, 0);
	for (int i = 0; i < GDB_SWBP_MAX; i++)
		CHECK_EQ(FX_G8(&m, 0x2000 + (uint64_t)i), 0);
	fx_fini(&m);
	free(t);
}

TEST(gdb_hwbp)
{
	struct gdb_hwbps h = { 0 };
	uint64_t dr7;

	CHECK(!gdb_hwbp_any(&h));
	CHECK_EQ(gdb_hwbp_dr7(&h), 0);
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_EXEC, 0x100180, 1), 0);
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_EXEC, 0x100180, 1), 0); /* again */
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_WRITE, 0x2000, 4), 0);
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_ACCESS, 0x3000, 8), 0);
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_WRITE, 0x4001, 1), 0);
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_WRITE, 0x5000, 2), -ENOSPC);
	CHECK(gdb_hwbp_any(&h));
	dr7 = gdb_hwbp_dr7(&h);
	CHECK_EQ(dr7 & 0xff, 0x55);              /* L0..L3 */
	CHECK_EQ((dr7 >> 16) & 0xf, 0x0);        /* exec, len 1 */
	CHECK_EQ((dr7 >> 20) & 0xf, 0x1 | 3 << 2); /* write, len 4 */
	CHECK_EQ((dr7 >> 24) & 0xf, 0x3 | 2 << 2); /* access, len 8 */
	CHECK_EQ((dr7 >> 28) & 0xf, 0x1);        /* write, len 1 */
	CHECK(dr7 & (1 << 8));                   /* LE */
	CHECK_EQ(gdb_hwbp_hit(&h, 0x2), 1);
	CHECK_EQ(gdb_hwbp_hit(&h, 0x4000), -1);  /* BS only */
	CHECK_EQ(gdb_hwbp_remove(&h, GDB_HW_WRITE, 0x2000, 4), 0);
	CHECK_EQ(gdb_hwbp_hit(&h, 0x2), -1);     /* slot 1 now free */
	CHECK_EQ((gdb_hwbp_dr7(&h) >> 2) & 3, 0);
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_WRITE, 0x5000, 2), 0);
	CHECK_EQ(h.slot[1].addr, 0x5000);
	/* What the hardware cannot do. */
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_READ, 0x6000, 4), -EINVAL);
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_WRITE, 0x6002, 4), -EINVAL);
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_WRITE, 0x6000, 3), -EINVAL);
	CHECK_EQ(gdb_hwbp_insert(&h, GDB_HW_WRITE, 0x6000, 16), -EINVAL);
	CHECK_EQ(gdb_hwbp_insert(&h, (enum gdb_hw_type)9, 0x6000, 1), -EINVAL);
	CHECK_EQ(gdb_hwbp_remove(&h, GDB_HW_WRITE, 0x6000, 3), -EINVAL);
	CHECK_EQ(gdb_hwbp_remove(&h, GDB_HW_WRITE, 0x7000, 4), 0); /* absent */
}
