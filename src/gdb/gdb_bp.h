/*
 * gdb_bp.h - breakpoint bookkeeping for the gdb stub, free of KVM.
 *
 * Software breakpoints (Z0) replace one byte of guest RAM with int3
 * (0xcc) and keep the original.  Memory reads through gdb_swbp_read()
 * show the original bytes, and writes through gdb_swbp_write() update the
 * saved byte and keep the int3, so the debugger never sees its own
 * breakpoints.  They are keyed by guest physical address (translated when
 * inserted), since page tables may change while the guest runs.
 *
 * Hardware breakpoints and watchpoints (Z1, Z2, Z4) use the four x86
 * debug address registers; gdb_hwbp_dr7() builds the DR7 value KVM loads
 * (KVM_SET_GUEST_DEBUG) and gdb_hwbp_hit() decodes DR6 after a #DB.
 * x86 has no read-only watchpoint, so Z3 is refused (as gdbserver does).
 *
 * All tables have fixed sizes: a debugger cannot make khyve allocate.
 */
#ifndef KHYVE_GDB_BP_H
#define KHYVE_GDB_BP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/mem.h"

#define GDB_SWBP_MAX 256
#define GDB_INT3 0xcc

struct gdb_swbp {
	uint64_t gpa;
	uint8_t saved;
};

struct gdb_swbps {
	struct gdb_swbp bp[GDB_SWBP_MAX];
	int n;
};

/*
 * Insert at gpa (idempotent, as the protocol requires).  0, -EFAULT if
 * gpa is not guest RAM, -ENOSPC if the table is full.
 */
int gdb_swbp_insert(struct gdb_swbps *t, const struct guest_mem *m,
    uint64_t gpa);
/* Remove (restoring the byte); removing an absent breakpoint is fine. */
void gdb_swbp_remove(struct gdb_swbps *t, const struct guest_mem *m,
    uint64_t gpa);
void gdb_swbp_remove_all(struct gdb_swbps *t, const struct guest_mem *m);
bool gdb_swbp_find(const struct gdb_swbps *t, uint64_t gpa);
/* Guest RAM with breakpoints hidden; 0 or -EFAULT (not RAM). */
int gdb_swbp_read(const struct gdb_swbps *t, const struct guest_mem *m,
    uint64_t gpa, void *buf, size_t len);
/* Write guest RAM, keeping int3 in place; 0 or -EFAULT. */
int gdb_swbp_write(struct gdb_swbps *t, const struct guest_mem *m,
    uint64_t gpa, const void *buf, size_t len);

enum gdb_hw_type {
	GDB_HW_EXEC = 1,   /* Z1 */
	GDB_HW_WRITE = 2,  /* Z2 */
	GDB_HW_READ = 3,   /* Z3: not on x86 */
	GDB_HW_ACCESS = 4, /* Z4 */
};

#define GDB_HWBP_SLOTS 4

struct gdb_hwbps {
	struct {
		bool used;
		enum gdb_hw_type type;
		uint64_t addr;
		unsigned len;
	} slot[GDB_HWBP_SLOTS];
};

/*
 * Insert (idempotent).  0; -EINVAL for a length other than 1, 2, 4 or 8,
 * a watched range not aligned to its length, or Z3; -ENOSPC when the four
 * slots are taken.  For Z1 the length is ignored (gdb sends 1).
 */
int gdb_hwbp_insert(struct gdb_hwbps *h, enum gdb_hw_type type, uint64_t addr,
    unsigned len);
int gdb_hwbp_remove(struct gdb_hwbps *h, enum gdb_hw_type type, uint64_t addr,
    unsigned len);
bool gdb_hwbp_any(const struct gdb_hwbps *h);
/* DR7 enabling the used slots (local enables, R/W and LEN fields). */
uint64_t gdb_hwbp_dr7(const struct gdb_hwbps *h);
/* The used slot DR6 says fired, or -1. */
int gdb_hwbp_hit(const struct gdb_hwbps *h, uint64_t dr6);

#endif
