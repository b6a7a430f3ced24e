/*
 * gdb_bp.c - software breakpoint table and debug-register allocation
 * (see gdb_bp.h).  DR7 layout: Intel SDM vol. 3B 18.2.4.
 */
#include <errno.h>
#include <string.h>

#include "gdb/gdb_bp.h"

static int swbp_index(const struct gdb_swbps *t, uint64_t gpa)
{
	for (int i = 0; i < t->n; i++)
		if (t->bp[i].gpa == gpa)
			return i;
	return -1;
}

bool gdb_swbp_find(const struct gdb_swbps *t, uint64_t gpa)
{
	return swbp_index(t, gpa) >= 0;
}

int gdb_swbp_insert(struct gdb_swbps *t, const struct guest_mem *m,
    uint64_t gpa)
{
	uint8_t *p = gmem_ptr(m, gpa, 1);

	if (p == NULL)
		return -EFAULT;
	if (swbp_index(t, gpa) >= 0)
		return 0;
	if (t->n >= GDB_SWBP_MAX)
		return -ENOSPC;
	t->bp[t->n].gpa = gpa;
	t->bp[t->n].saved = *p;
	t->n++;
	*p = GDB_INT3;
	return 0;
}

void gdb_swbp_remove(struct gdb_swbps *t, const struct guest_mem *m,
    uint64_t gpa)
{
	int i = swbp_index(t, gpa);
	uint8_t *p;

	if (i < 0)
		return;
	p = gmem_ptr(m, gpa, 1);
	if (p != NULL)
		*p = t->bp[i].saved;
	t->bp[i] = t->bp[--t->n];
}

void gdb_swbp_remove_all(struct gdb_swbps *t, const struct guest_mem *m)
{
	while (t->n > 0)
		gdb_swbp_remove(t, m, t->bp[t->n - 1].gpa);
}

int gdb_swbp_read(const struct gdb_swbps *t, const struct guest_mem *m,
    uint64_t gpa, void *buf, size_t len)
{
	uint8_t *out = buf;

	if (gmem_read(m, gpa, buf, len) != 0)
		return -EFAULT;
	for (int i = 0; i < t->n; i++)
		if (t->bp[i].gpa >= gpa && t->bp[i].gpa - gpa < len)
			out[t->bp[i].gpa - gpa] = t->bp[i].saved;
	return 0;
}

int gdb_swbp_write(struct gdb_swbps *t, const struct guest_mem *m,
    uint64_t gpa, const void *buf, size_t len)
{
	const uint8_t *in = buf;
	uint8_t *p = gmem_ptr(m, gpa, len);

	if (p == NULL)
		return -EFAULT;
	memcpy(p, buf, len);
	for (int i = 0; i < t->n; i++)
		if (t->bp[i].gpa >= gpa && t->bp[i].gpa - gpa < len) {
			t->bp[i].saved = in[t->bp[i].gpa - gpa];
			p[t->bp[i].gpa - gpa] = GDB_INT3;
		}
	return 0;
}

/* ---- debug registers ---- */

static bool hw_ok(enum gdb_hw_type type, uint64_t addr, unsigned len)
{
	if (type == GDB_HW_EXEC)
		return true;
	if (type != GDB_HW_WRITE && type != GDB_HW_ACCESS)
		return false;
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return false;
	return (addr & (len - 1)) == 0;
}

static int hw_find(const struct gdb_hwbps *h, enum gdb_hw_type type,
    uint64_t addr, unsigned len)
{
	for (int i = 0; i < GDB_HWBP_SLOTS; i++)
		if (h->slot[i].used && h->slot[i].type == type &&
		    h->slot[i].addr == addr && h->slot[i].len == len)
			return i;
	return -1;
}

int gdb_hwbp_insert(struct gdb_hwbps *h, enum gdb_hw_type type, uint64_t addr,
    unsigned len)
{
	if (!hw_ok(type, addr, len))
		return -EINVAL;
	if (type == GDB_HW_EXEC)
		len = 1;
	if (hw_find(h, type, addr, len) >= 0)
		return 0;
	for (int i = 0; i < GDB_HWBP_SLOTS; i++)
		if (!h->slot[i].used) {
			h->slot[i].used = true;
			h->slot[i].type = type;
			h->slot[i].addr = addr;
			h->slot[i].len = len;
			return 0;
		}
	return -ENOSPC;
}

int gdb_hwbp_remove(struct gdb_hwbps *h, enum gdb_hw_type type, uint64_t addr,
    unsigned len)
{
	int i;

	if (!hw_ok(type, addr, len))
		return -EINVAL;
	if (type == GDB_HW_EXEC)
		len = 1;
	i = hw_find(h, type, addr, len);
	if (i >= 0)
		h->slot[i].used = false;
	return 0;
}

bool gdb_hwbp_any(const struct gdb_hwbps *h)
{
	for (int i = 0; i < GDB_HWBP_SLOTS; i++)
		if (h->slot[i].used)
			return true;
	return false;
}

uint64_t gdb_hwbp_dr7(const struct gdb_hwbps *h)
{
	uint64_t dr7 = 0;

	for (int i = 0; i < GDB_HWBP_SLOTS; i++) {
		unsigned rw, ln;

		if (!h->slot[i].used)
			continue;
		rw = h->slot[i].type == GDB_HW_EXEC ? 0 :
		    h->slot[i].type == GDB_HW_WRITE ? 1 : 3;
		switch (h->slot[i].len) {
		case 2: ln = 1; break;
		case 4: ln = 3; break;
		case 8: ln = 2; break;
		default: ln = 0; break; /* 1 byte, and every exec breakpoint */
		}
		dr7 |= 1ULL << (2 * i);                   /* Ln */
		dr7 |= (uint64_t)(rw | ln << 2) << (16 + 4 * i);
	}
	if (dr7 != 0)
		dr7 |= 1ULL << 8; /* LE: exact data breakpoints */
	return dr7;
}

int gdb_hwbp_hit(const struct gdb_hwbps *h, uint64_t dr6)
{
	for (int i = 0; i < GDB_HWBP_SLOTS; i++)
		if ((dr6 & (1ULL << i)) && h->slot[i].used)
			return i;
	return -1;
}
