/*
 * gdb_fake.h - a fake gdb_server target for the unit tests and the fuzz
 * harness (fuzz/gdb_packet_fuzz.c): FAKE_CPUS vCPUs with register files,
 * FAKE_MEM bytes of "guest memory" at FAKE_BASE (flat, no paging), and a
 * log of what the server asked for.  It stops synchronously when told to
 * (fake_stop), so tests decide when a resumed guest "hits" something.
 */
#ifndef KHYVE_TEST_GDB_FAKE_H
#define KHYVE_TEST_GDB_FAKE_H

#include <errno.h>
#include <string.h>

#include "gdb/gdb_server.h"

#define FAKE_CPUS 3
#define FAKE_BASE 0x1000u
#define FAKE_MEM 0x2000u

struct fake {
	struct gdb_regs regs[FAKE_CPUS];
	uint8_t mem[FAKE_MEM];
	int last_cpu;          /* vCPU of the last register/memory call */
	uint8_t actions[FAKE_CPUS];
	int resumes, interrupts, detaches;
	int bp_calls, bp_type, bp_insert;
	uint64_t bp_addr, bp_kind;
	int bp_rc;             /* what breakpoint() returns */
	int resume_rc;         /* what resume() returns */
	bool running;
};

static inline int fake_get_regs(void *t, int cpu, struct gdb_regs *r)
{
	struct fake *f = t;

	if (cpu < 0 || cpu >= FAKE_CPUS)
		return -EINVAL;
	f->last_cpu = cpu;
	*r = f->regs[cpu];
	return 0;
}

static inline int fake_set_regs(void *t, int cpu, const struct gdb_regs *r)
{
	struct fake *f = t;

	if (cpu < 0 || cpu >= FAKE_CPUS)
		return -EINVAL;
	f->last_cpu = cpu;
	f->regs[cpu] = *r;
	return 0;
}

static inline ssize_t fake_read_mem(void *t, int cpu, uint64_t gva,
    void *buf, size_t len)
{
	struct fake *f = t;
	size_t n;

	f->last_cpu = cpu;
	if (gva < FAKE_BASE || gva >= FAKE_BASE + FAKE_MEM)
		return -EFAULT;
	n = FAKE_BASE + FAKE_MEM - gva;
	if (n > len)
		n = len;
	memcpy(buf, f->mem + (gva - FAKE_BASE), n);
	return (ssize_t)n;
}

static inline int fake_write_mem(void *t, int cpu, uint64_t gva,
    const void *buf, size_t len)
{
	struct fake *f = t;

	f->last_cpu = cpu;
	if (gva < FAKE_BASE || len > FAKE_MEM ||
	    gva - FAKE_BASE > FAKE_MEM - len)
		return -EFAULT;
	memcpy(f->mem + (gva - FAKE_BASE), buf, len);
	return 0;
}

static inline int fake_breakpoint(void *t, int cpu, bool insert, int type,
    uint64_t addr, uint64_t kind)
{
	struct fake *f = t;

	f->last_cpu = cpu;
	f->bp_calls++;
	f->bp_insert = insert;
	f->bp_type = type;
	f->bp_addr = addr;
	f->bp_kind = kind;
	return f->bp_rc;
}

static inline int fake_resume(void *t, const uint8_t *actions)
{
	struct fake *f = t;

	if (f->resume_rc != 0)
		return f->resume_rc;
	memcpy(f->actions, actions, FAKE_CPUS);
	f->resumes++;
	f->running = true;
	return 0;
}

static inline void fake_interrupt(void *t)
{
	((struct fake *)t)->interrupts++;
}

static inline void fake_detach(void *t)
{
	struct fake *f = t;

	f->detaches++;
	f->running = true;
}

static const struct gdb_target_ops fake_ops = {
	.get_regs = fake_get_regs,
	.set_regs = fake_set_regs,
	.read_mem = fake_read_mem,
	.write_mem = fake_write_mem,
	.breakpoint = fake_breakpoint,
	.resume = fake_resume,
	.interrupt = fake_interrupt,
	.detach = fake_detach,
};

static inline void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	for (int c = 0; c < FAKE_CPUS; c++) {
		for (int i = 0; i < 16; i++)
			f->regs[c].gpr[i] = 0x1111111111111111ULL * (uint64_t)(i + 1)
			    + (uint64_t)c;
		f->regs[c].rip = 0x100000 + (uint64_t)c;
		f->regs[c].rflags = 0x2;
		f->regs[c].seg[0] = 0x10;
	}
	for (size_t i = 0; i < FAKE_MEM; i++)
		f->mem[i] = (uint8_t)(i * 13 + 7);
}

/* The target stops (as a vCPU thread would report it). */
static inline void fake_stop(struct gdb_server *s, struct fake *f,
    enum gdb_stop_reason r, int cpu, uint64_t addr)
{
	struct gdb_stop st = { .reason = r, .cpu = cpu, .addr = addr };

	f->running = false;
	gdb_server_stopped(s, &st);
}

#endif
