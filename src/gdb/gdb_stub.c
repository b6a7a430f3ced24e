/*
 * gdb_stub.c - the gdb stub's KVM target and its socket (see gdb.h).
 *
 * bhyve's gdb.c is the model: one client at a time, all-stop (every vCPU
 * stops when one does), a stop on attach, and -G w holding the vCPUs
 * before their first instruction.  The protocol itself is gdb_server.c.
 *
 * Threads.  The socket and the protocol run on the event loop (the main
 * thread), like every other host fd: no thread of its own, and the
 * loop's callbacks never block.  vCPU threads never touch the socket or
 * the server; they park, report debug exits and record events in the
 * shared state below under `lock`, then poke the loop through an
 * eventfd.  The loop sees every vCPU parked and reports the stop.
 *
 * Stopping.  stop_all() sets every vcpu->gdb_stop and kicks the vCPUs
 * out of KVM_RUN (vcpu_kick: immediate_exit + SIG_KICK); each vCPU
 * thread notices the flag at the top of its run loop, lets KVM finish a
 * half-done I/O exit (a KVM_RUN with immediate_exit) and parks in
 * gdb_vcpu_park().  Registers and guest state are only read or written
 * while every vCPU is parked, so the main thread's vCPU ioctls never race
 * with KVM_RUN.  A resume clears the flags of the vCPUs that may run;
 * each loads its debug state (KVM_SET_GUEST_DEBUG) from its own thread as
 * it leaves the park.
 *
 * Lock order: `lock` is a leaf.  No function calls vm_request_exit() or
 * another device while holding it; vcpu_kick() only sends a signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "common.h"
#include "config.h"
#include "event/mevent.h"
#include "gdb/gdb.h"
#include "gdb/gdb_bp.h"
#include "gdb/gdb_mem.h"
#include "gdb/gdb_server.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define DB_VECTOR 1
#define BP_VECTOR 3
#define DR6_BS (1ULL << 14)
#define MSR_KERNEL_GS_BASE 0xc0000102u

enum { VS_RUN, VS_PARKED, VS_GONE };

struct vstate {
	int state;           /* VS_* */
	uint8_t action;      /* enum gdb_action, taken when released */
	bool stepping;       /* KVM_GUESTDBG_SINGLESTEP is loaded */
	unsigned loaded_gen; /* debug_gen of the state loaded in KVM */
	bool has_event;      /* a watchpoint hit hidden by another stop */
	struct gdb_stop event;
};

struct gdb_stub {
	struct vm *vm;
	enum gdb_arch arch;
	uint32_t kvm_dbg; /* KVM_GUESTDBG_* this KVM takes; 0: none */

	/* Shared with the vCPU threads, under `lock`. */
	pthread_mutex_t lock;
	pthread_cond_t cv; /* parked vCPUs wait here */
	struct vstate *vs;
	bool stopping;  /* every vCPU is asked to park */
	bool reported;  /* the current stop went to the server */
	bool attached;  /* a debugger is connected */
	bool detaching; /* stop everything, then clean up and resume */
	struct gdb_stop stop; /* why the current stop began */
	struct gdb_swbps sw;
	struct gdb_hwbps hw;
	unsigned debug_gen; /* bumped when breakpoints change */
	bool warned_debug;

	/* The event loop thread only. */
	int notify_fd; /* eventfd: a vCPU parked or left */
	int listen_fd, conn_fd, conn_wfd;
	struct mevent *ev_listen, *ev_notify, *ev_read, *ev_write;
	struct gdb_server srv;
};

static void notify(struct gdb_stub *s)
{
	uint64_t one = 1;

	if (write(s->notify_fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow; the loop reads it. */
	}
}

/* ---- vCPU state (KVM ioctls) ---- */

static int cpu_mmu(struct vcpu *v, struct gdb_mmu *mmu)
{
	struct kvm_sregs sr;

	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	mmu->cr0 = sr.cr0;
	mmu->cr3 = sr.cr3;
	mmu->cr4 = sr.cr4;
	mmu->efer = sr.efer;
	return 0;
}

static int gva2gpa(struct gdb_stub *s, struct vcpu *v, uint64_t gva,
    uint64_t *gpa, uint64_t *page)
{
	struct gdb_mmu mmu;
	int rc = cpu_mmu(v, &mmu);

	return rc ? rc : gdb_gva2gpa(&s->vm->mem, &mmu, gva, gpa, page);
}

/* The KVM_SET_GUEST_DEBUG argument for the current breakpoints. */
static void build_debug(struct gdb_stub *s, bool step,
    struct kvm_guest_debug *dbg)
{
	bool hw = gdb_hwbp_any(&s->hw);

	memset(dbg, 0, sizeof(*dbg));
	if (!s->attached || (s->sw.n == 0 && !hw && !step))
		return;
	dbg->control = KVM_GUESTDBG_ENABLE;
	if (s->sw.n > 0)
		dbg->control |= KVM_GUESTDBG_USE_SW_BP;
	if (hw) {
		dbg->control |= KVM_GUESTDBG_USE_HW_BP;
		for (int i = 0; i < GDB_HWBP_SLOTS; i++)
			if (s->hw.slot[i].used)
				dbg->arch.debugreg[i] = s->hw.slot[i].addr;
		dbg->arch.debugreg[7] = gdb_hwbp_dr7(&s->hw);
	}
	if (step)
		dbg->control |= KVM_GUESTDBG_SINGLESTEP |
		    (s->kvm_dbg & KVM_GUESTDBG_BLOCKIRQ);
}

static void set_debug(struct gdb_stub *s, struct vcpu *v,
    struct kvm_guest_debug *dbg)
{
	if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, dbg) < 0 && !s->warned_debug) {
		s->warned_debug = true;
		khyve_warn("gdb: vCPU %d: KVM_SET_GUEST_DEBUG 0x%x", v->id,
		    dbg->control);
	}
}

/* Called by the vCPU's own thread, with the lock held. */
static void load_debug(struct gdb_stub *s, struct vcpu *v, bool step)
{
	struct vstate *vs = &s->vs[v->id];
	struct kvm_guest_debug dbg;

	/* A step always reloads: KVM arms the trap flag for the RIP it
	 * sees at KVM_SET_GUEST_DEBUG, and gdb may have moved the RIP (or
	 * rewritten RFLAGS) since the last step. */
	if (!step && !vs->stepping && vs->loaded_gen == s->debug_gen)
		return;
	build_debug(s, step, &dbg);
	set_debug(s, v, &dbg);
	vs->loaded_gen = s->debug_gen;
	vs->stepping = step;
}

/* Give the guest an exception that was its own (#BP or #DB). */
static void reinject(struct gdb_stub *s, struct vcpu *v, bool bp)
{
	struct kvm_guest_debug dbg;

	build_debug(s, s->vs[v->id].stepping, &dbg);
	dbg.control |= bp ? KVM_GUESTDBG_INJECT_BP : KVM_GUESTDBG_INJECT_DB;
	set_debug(s, v, &dbg);
}

/* ---- stopping and resuming (lock held) ---- */

static bool all_parked(const struct gdb_stub *s)
{
	for (int i = 0; i < s->vm->ncpus; i++)
		if (s->vs[i].state == VS_RUN)
			return false;
	return true;
}

/* Ask every vCPU to park; `st` says why (cpu: the one that caused it). */
static void stop_all(struct gdb_stub *s, const struct gdb_stop *st)
{
	struct vm *vm = s->vm;

	if (s->stopping)
		return;
	s->stopping = true;
	s->reported = false;
	s->stop = *st;
	for (int i = 0; i < vm->ncpus; i++) {
		atomic_store(&vm->vcpus[i].gdb_stop, true);
		if (i != st->cpu)
			vcpu_kick(&vm->vcpus[i]);
	}
	notify(s);
}

static void stop_for(struct gdb_stub *s, enum gdb_stop_reason r, int cpu)
{
	struct gdb_stop st = { .reason = r, .cpu = cpu };

	stop_all(s, &st);
}

/* A vCPU's debug event: it becomes the stop, unless one is under way. */
static void report_event(struct gdb_stub *s, struct vcpu *v,
    const struct gdb_stop *ev)
{
	struct vstate *vs = &s->vs[v->id];

	if (!s->attached)
		return;
	if (!s->stopping) {
		stop_all(s, ev);
	} else if (ev->reason == GDB_STOP_WATCH ||
	    ev->reason == GDB_STOP_AWATCH) {
		/* A data watchpoint traps after the access: it would be lost.
		 * Breakpoints and steps happen again when the vCPU reruns. */
		vs->has_event = true;
		vs->event = *ev;
	}
}

static void release_all(struct gdb_stub *s, uint8_t action)
{
	for (int i = 0; i < s->vm->ncpus; i++) {
		s->vs[i].action = action;
		atomic_store(&s->vm->vcpus[i].gdb_stop, false);
	}
	s->stopping = false;
	pthread_cond_broadcast(&s->cv);
}

/* ---- hooks run by the vCPU threads ---- */

void gdb_vcpu_park(struct vcpu *v)
{
	struct gdb_stub *s = v->vm->gdb;
	struct vstate *vs = &s->vs[v->id];

	pthread_mutex_lock(&s->lock);
	vs->state = VS_PARKED;
	notify(s);
	while (atomic_load(&v->gdb_stop) &&
	    !atomic_load(&v->vm->exit_requested))
		pthread_cond_wait(&s->cv, &s->lock);
	vs->state = VS_RUN;
	if (atomic_load(&v->vm->exit_requested)) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (vs->has_event && s->attached && vs->action != GDB_ACT_STOP) {
		/* Report the hidden watchpoint instead of running. */
		if (!s->stopping) {
			vs->has_event = false;
			stop_all(s, &vs->event);
		}
		atomic_store(&v->gdb_stop, true);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	vs->has_event = false;
	load_debug(s, v, s->attached && vs->action == GDB_ACT_STEP);
	khyve_dbg("gdb: vCPU %d resumes (action %d)", v->id, vs->action);
	pthread_mutex_unlock(&s->lock);
}

static void debug_bp(struct gdb_stub *s, struct vcpu *v, uint64_t pc)
{
	struct gdb_stop ev = { .reason = GDB_STOP_SWBREAK, .cpu = v->id };
	uint64_t gpa, page;
	uint8_t byte;

	if (gva2gpa(s, v, pc, &gpa, &page) == 0) {
		if (gdb_swbp_find(&s->sw, gpa)) {
			/* RIP stays on the int3 (KVM intercepts #BP before
			 * delivery); gdb expects the breakpoint address. */
			report_event(s, v, &ev);
			return;
		}
		if (gmem_read(&s->vm->mem, gpa, &byte, 1) == 0 &&
		    byte != GDB_INT3)
			return; /* our breakpoint, removed meanwhile: rerun */
	}
	reinject(s, v, true); /* the guest's own int3 */
}

static void debug_db(struct gdb_stub *s, struct vcpu *v, uint64_t dr6)
{
	struct vstate *vs = &s->vs[v->id];
	struct gdb_stop ev = { .cpu = v->id };
	int slot = gdb_hwbp_hit(&s->hw, dr6);

	if (vs->stepping && (slot < 0 || (dr6 & DR6_BS))) {
		ev.reason = GDB_STOP_STEP;
	} else if (slot >= 0) {
		switch (s->hw.slot[slot].type) {
		case GDB_HW_WRITE:
			ev.reason = GDB_STOP_WATCH;
			break;
		case GDB_HW_ACCESS:
			ev.reason = GDB_STOP_AWATCH;
			break;
		default:
			ev.reason = GDB_STOP_HWBREAK;
			break;
		}
		ev.addr = s->hw.slot[slot].addr;
	} else if (!s->attached) {
		return; /* left over from a debugger that went away */
	} else {
		reinject(s, v, false); /* the guest's own #DB */
		return;
	}
	report_event(s, v, &ev);
}

void gdb_vcpu_debug_exit(struct vcpu *v)
{
	struct gdb_stub *s = v->vm->gdb;
	const struct kvm_debug_exit_arch *d = &v->run->debug.arch;

	pthread_mutex_lock(&s->lock);
	khyve_dbg("gdb: vCPU %d debug exit: exception %u pc 0x%llx dr6 0x%llx",
	    v->id, d->exception, (unsigned long long)d->pc,
	    (unsigned long long)d->dr6);
	if (d->exception == BP_VECTOR)
		debug_bp(s, v, d->pc);
	else if (d->exception == DB_VECTOR)
		debug_db(s, v, d->dr6);
	if (!s->attached)
		load_debug(s, v, false); /* drop what a lost debugger set */
	pthread_mutex_unlock(&s->lock);
}

void gdb_vcpu_gone(struct vcpu *v)
{
	struct gdb_stub *s = v->vm->gdb;

	pthread_mutex_lock(&s->lock);
	s->vs[v->id].state = VS_GONE;
	notify(s);
	pthread_mutex_unlock(&s->lock);
}

void gdb_vm_exiting(struct vm *vm)
{
	struct gdb_stub *s = vm->gdb;

	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
}

/* ---- the target, for gdb_server (event loop thread, all parked) ---- */

static struct vcpu *target_cpu(struct gdb_stub *s, int cpu)
{
	return cpu >= 0 && cpu < s->vm->ncpus ? &s->vm->vcpus[cpu] : NULL;
}

static int t_get_regs(void *t, int cpu, struct gdb_regs *r)
{
	struct gdb_stub *s = t;
	struct vcpu *v = target_cpu(s, cpu);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = { .hdr.nmsrs = 1, .e.index = MSR_KERNEL_GS_BASE };
	struct kvm_regs kr;
	struct kvm_sregs sr;
	struct kvm_fpu fpu;

	if (v == NULL)
		return -EINVAL;
	if (ioctl(v->fd, KVM_GET_REGS, &kr) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &sr) < 0 ||
	    ioctl(v->fd, KVM_GET_FPU, &fpu) < 0)
		return -errno;
	memset(r, 0, sizeof(*r));
	r->gpr[GDB_RAX] = kr.rax;
	r->gpr[GDB_RBX] = kr.rbx;
	r->gpr[GDB_RCX] = kr.rcx;
	r->gpr[GDB_RDX] = kr.rdx;
	r->gpr[GDB_RSI] = kr.rsi;
	r->gpr[GDB_RDI] = kr.rdi;
	r->gpr[GDB_RBP] = kr.rbp;
	r->gpr[GDB_RSP] = kr.rsp;
	r->gpr[8] = kr.r8;
	r->gpr[9] = kr.r9;
	r->gpr[10] = kr.r10;
	r->gpr[11] = kr.r11;
	r->gpr[12] = kr.r12;
	r->gpr[13] = kr.r13;
	r->gpr[14] = kr.r14;
	r->gpr[15] = kr.r15;
	r->rip = kr.rip;
	r->rflags = kr.rflags;
	r->seg[0] = sr.cs.selector;
	r->seg[1] = sr.ss.selector;
	r->seg[2] = sr.ds.selector;
	r->seg[3] = sr.es.selector;
	r->seg[4] = sr.fs.selector;
	r->seg[5] = sr.gs.selector;
	r->fs_base = sr.fs.base;
	r->gs_base = sr.gs.base;
	r->cr0 = sr.cr0;
	r->cr2 = sr.cr2;
	r->cr3 = sr.cr3;
	r->cr4 = sr.cr4;
	r->cr8 = sr.cr8;
	r->efer = sr.efer;
	if (ioctl(v->fd, KVM_GET_MSRS, &msrs) == 1)
		r->k_gs_base = msrs.e.data;
	/*
	 * Through a local array: gcc 12 with ASan misreads r->st as a
	 * 10-byte region (-Wstringop-overflow false positive).
	 */
	uint8_t st[8][10];
	for (int i = 0; i < 8; i++)
		memcpy(st[i], fpu.fpr[i], 10);
	memcpy(r->st, st, sizeof(st));
	r->fctrl = fpu.fcw;
	r->fstat = fpu.fsw;
	r->ftag = gdb_ftag_full(fpu.ftwx, fpu.fsw, st);
	r->fop = fpu.last_opcode;
	/* FXSAVE's 32-bit layout: offset, then the selector above it. */
	r->fioff = (uint32_t)fpu.last_ip;
	r->fiseg = (fpu.last_ip >> 32) & 0xffff;
	r->fooff = (uint32_t)fpu.last_dp;
	r->foseg = (fpu.last_dp >> 32) & 0xffff;
	return 0;
}

static int t_set_regs(void *t, int cpu, const struct gdb_regs *r)
{
	struct gdb_stub *s = t;
	struct vcpu *v = target_cpu(s, cpu);
	struct gdb_regs old;
	unsigned changed;
	int rc;

	if (v == NULL)
		return -EINVAL;
	if ((rc = t_get_regs(t, cpu, &old)) != 0)
		return rc;
	/* Write back only what changed: a round trip of state gdb did not
	 * touch (FPU, segments) gains nothing and risks something. */
	changed = gdb_regs_changed(&old, r);
	if (changed & GDB_GRP_REGS) {
		struct kvm_regs kr = {
			.rax = r->gpr[GDB_RAX], .rbx = r->gpr[GDB_RBX],
			.rcx = r->gpr[GDB_RCX], .rdx = r->gpr[GDB_RDX],
			.rsi = r->gpr[GDB_RSI], .rdi = r->gpr[GDB_RDI],
			.rsp = r->gpr[GDB_RSP], .rbp = r->gpr[GDB_RBP],
			.r8 = r->gpr[8], .r9 = r->gpr[9], .r10 = r->gpr[10],
			.r11 = r->gpr[11], .r12 = r->gpr[12],
			.r13 = r->gpr[13], .r14 = r->gpr[14],
			.r15 = r->gpr[15], .rip = r->rip,
			.rflags = r->rflags,
		};

		if (ioctl(v->fd, KVM_SET_REGS, &kr) < 0)
			return -errno;
	}
	if (changed & GDB_GRP_SREGS) {
		struct kvm_sregs sr;

		if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
			return -errno;
		/* A selector alone; the descriptor caches stay as loaded. */
		sr.cs.selector = (uint16_t)r->seg[0];
		sr.ss.selector = (uint16_t)r->seg[1];
		sr.ds.selector = (uint16_t)r->seg[2];
		sr.es.selector = (uint16_t)r->seg[3];
		sr.fs.selector = (uint16_t)r->seg[4];
		sr.gs.selector = (uint16_t)r->seg[5];
		sr.fs.base = r->fs_base;
		sr.gs.base = r->gs_base;
		sr.cr0 = r->cr0;
		sr.cr2 = r->cr2;
		sr.cr3 = r->cr3;
		sr.cr4 = r->cr4;
		sr.cr8 = r->cr8;
		sr.efer = r->efer;
		if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0)
			return -errno;
	}
	if (changed & GDB_GRP_FPU) {
		struct kvm_fpu fpu;

		if (ioctl(v->fd, KVM_GET_FPU, &fpu) < 0)
			return -errno;
		for (int i = 0; i < 8; i++)
			memcpy(fpu.fpr[i], r->st[i], 10);
		fpu.fcw = (uint16_t)r->fctrl;
		fpu.fsw = (uint16_t)r->fstat;
		fpu.ftwx = gdb_ftag_abridged((uint16_t)r->ftag);
		fpu.last_opcode = (uint16_t)r->fop;
		fpu.last_ip = (uint32_t)r->fioff |
		    (uint64_t)(r->fiseg & 0xffff) << 32;
		fpu.last_dp = (uint32_t)r->fooff |
		    (uint64_t)(r->foseg & 0xffff) << 32;
		if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
			return -errno;
	}
	if (changed & GDB_GRP_MSRS) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry e;
		} msrs = { .hdr.nmsrs = 1, .e.index = MSR_KERNEL_GS_BASE,
			   .e.data = r->k_gs_base };

		if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 1)
			return -EIO;
	}
	return 0;
}

/* Copy between gdb and guest memory page by page; returns bytes done. */
static ssize_t access_mem(struct gdb_stub *s, int cpu, uint64_t gva,
    void *buf, size_t len, bool write)
{
	struct vcpu *v = target_cpu(s, cpu);
	uint8_t *p = buf;
	struct gdb_mmu mmu;
	size_t done = 0;
	int rc;

	if (v == NULL)
		return -EINVAL;
	if ((rc = cpu_mmu(v, &mmu)) != 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	while (done < len) {
		uint64_t gpa, page, n;

		if (gdb_gva2gpa(&s->vm->mem, &mmu, gva + done, &gpa, &page))
			break;
		n = page - ((gva + done) & (page - 1));
		if (n > len - done)
			n = len - done;
		rc = write ? gdb_swbp_write(&s->sw, &s->vm->mem, gpa,
		    p + done, (size_t)n) : gdb_swbp_read(&s->sw, &s->vm->mem,
		    gpa, p + done, (size_t)n);
		if (rc != 0)
			break; /* not RAM (MMIO is not offered) */
		done += (size_t)n;
	}
	pthread_mutex_unlock(&s->lock);
	return done > 0 ? (ssize_t)done : -EFAULT;
}

static ssize_t t_read_mem(void *t, int cpu, uint64_t gva, void *buf,
    size_t len)
{
	return access_mem(t, cpu, gva, buf, len, false);
}

static int t_write_mem(void *t, int cpu, uint64_t gva, const void *buf,
    size_t len)
{
	ssize_t n = access_mem(t, cpu, gva, (void *)buf, len, true);

	return n == (ssize_t)len ? 0 : -EFAULT;
}

static int t_breakpoint(void *t, int cpu, bool insert, int type,
    uint64_t addr, uint64_t kind)
{
	struct gdb_stub *s = t;
	struct vcpu *v = target_cpu(s, cpu);
	uint64_t gpa, page;
	int rc;

	if (v == NULL)
		return -EINVAL;
	if (type == GDB_HW_READ)
		return -EOPNOTSUPP; /* x86 cannot trap reads alone */
	if (s->kvm_dbg == 0)
		return -ENOSYS; /* an error: gdb must not fall back to
				 * writing int3 into memory itself */
	if (type != 0 && !(s->kvm_dbg & KVM_GUESTDBG_USE_HW_BP))
		return -EOPNOTSUPP;
	if (type == 0) {
		if (kind != 1)
			return -EINVAL; /* int3 is one byte */
		if ((rc = gva2gpa(s, v, addr, &gpa, &page)) != 0)
			return rc;
	}
	pthread_mutex_lock(&s->lock);
	if (type == 0 && insert)
		rc = gdb_swbp_insert(&s->sw, &s->vm->mem, gpa);
	else if (type == 0) {
		gdb_swbp_remove(&s->sw, &s->vm->mem, gpa);
		rc = 0;
	} else if (insert)
		rc = gdb_hwbp_insert(&s->hw, (enum gdb_hw_type)type, addr,
		    (unsigned)kind);
	else
		rc = gdb_hwbp_remove(&s->hw, (enum gdb_hw_type)type, addr,
		    (unsigned)kind);
	if (rc == 0)
		s->debug_gen++;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int t_resume(void *t, const uint8_t *actions)
{
	struct gdb_stub *s = t;
	struct vm *vm = s->vm;

	for (int i = 0; i < vm->ncpus; i++)
		if (actions[i] == GDB_ACT_STEP &&
		    !(s->kvm_dbg & KVM_GUESTDBG_SINGLESTEP))
			return -EOPNOTSUPP;
	pthread_mutex_lock(&s->lock);
	s->stopping = false;
	for (int i = 0; i < vm->ncpus; i++) {
		s->vs[i].action = actions[i];
		if (actions[i] != GDB_ACT_STOP)
			atomic_store(&vm->vcpus[i].gdb_stop, false);
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void t_interrupt(void *t)
{
	struct gdb_stub *s = t;

	pthread_mutex_lock(&s->lock);
	stop_for(s, GDB_STOP_INTERRUPT, -1);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Detach: breakpoints come out of guest memory only once every vCPU is
 * parked (none may be executing an int3 being removed); check_stop()
 * finishes the job and resumes everything.
 */
static void t_detach(void *t)
{
	struct gdb_stub *s = t;

	pthread_mutex_lock(&s->lock);
	if (s->attached) {
		s->attached = false;
		s->detaching = true;
		stop_for(s, GDB_STOP_ATTACH, -1);
	}
	pthread_mutex_unlock(&s->lock);
}

static const struct gdb_target_ops kvm_target = {
	.get_regs = t_get_regs,
	.set_regs = t_set_regs,
	.read_mem = t_read_mem,
	.write_mem = t_write_mem,
	.breakpoint = t_breakpoint,
	.resume = t_resume,
	.interrupt = t_interrupt,
	.detach = t_detach,
};

/* ---- the connection (event loop thread) ---- */

static void disconnect(struct gdb_stub *s);

static void flush(struct gdb_stub *s)
{
	struct gdb_tx *out = &s->srv.out;

	while (s->conn_fd >= 0 && out->len > 0) {
		ssize_t n = send(s->conn_wfd, out->buf, out->len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			mevent_enable(s->ev_write);
			return;
		}
		if (n <= 0) {
			disconnect(s);
			return;
		}
		gdb_tx_consume(out, (size_t)n);
	}
	if (s->conn_fd < 0)
		return;
	mevent_disable(s->ev_write);
	if (s->srv.closing)
		disconnect(s);
}

/*
 * Every vCPU parked: finish a detach, or hand the stop to the server.
 * Called when a vCPU parks or leaves, and after (dis)connecting.
 */
static void check_stop(struct gdb_stub *s)
{
	struct gdb_stop st;

	pthread_mutex_lock(&s->lock);
	if (!all_parked(s)) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (s->detaching) {
		gdb_swbp_remove_all(&s->sw, &s->vm->mem);
		memset(&s->hw, 0, sizeof(s->hw));
		s->debug_gen++;
		for (int i = 0; i < s->vm->ncpus; i++)
			s->vs[i].has_event = false;
		s->detaching = false;
		release_all(s, GDB_ACT_CONT);
		pthread_mutex_unlock(&s->lock);
		mevent_enable(s->ev_listen);
		return;
	}
	if (!s->stopping || s->reported || s->conn_fd < 0) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	s->reported = true;
	st = s->stop;
	pthread_mutex_unlock(&s->lock);
	gdb_server_stopped(&s->srv, &st);
	flush(s);
}

static void on_notify(int fd, enum mevent_type type, void *arg)
{
	uint64_t v;

	(void)type;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: someone else drained it; check anyway. */
	}
	check_stop(arg);
}

static void on_read(int fd, enum mevent_type type, void *arg)
{
	struct gdb_stub *s = arg;
	uint8_t buf[4096];
	ssize_t n;

	(void)type;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		khyve_dbg("gdb: the debugger closed the connection");
		disconnect(s);
		return;
	}
	gdb_server_input(&s->srv, buf, (size_t)n);
	flush(s);
}

static void on_write(int fd, enum mevent_type type, void *arg)
{
	(void)fd;
	(void)type;
	flush(arg);
}

static void disconnect(struct gdb_stub *s)
{
	if (s->conn_fd < 0)
		return;
	mevent_delete_close(s->ev_read);
	mevent_delete_close(s->ev_write);
	s->ev_read = s->ev_write = NULL;
	s->conn_fd = s->conn_wfd = -1;
	/* Listen again only once the detach is done (check_stop). */
	mevent_disable(s->ev_listen);
	t_detach(s);
	gdb_server_connect(&s->srv); /* forget the client */
	check_stop(s);
}

static void on_accept(int fd, enum mevent_type type, void *arg)
{
	struct gdb_stub *s = arg;
	int c, wfd, one = 1;

	(void)type;
	c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (s->conn_fd >= 0) {
		khyve_warnx("gdb: a debugger is already attached; refusing "
		    "another connection");
		close(c);
		return;
	}
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* epoll takes one registration per descriptor: writes get a dup. */
	wfd = fcntl(c, F_DUPFD_CLOEXEC, 0);
	if (wfd < 0) {
		close(c);
		return;
	}
	s->ev_read = mevent_add(s->vm->ev, c, EVF_READ, on_read, s);
	s->ev_write = mevent_add_disabled(s->vm->ev, wfd, EVF_WRITE,
	    on_write, s);
	if (s->ev_read == NULL || s->ev_write == NULL) {
		khyve_warn("gdb: cannot watch the connection");
		if (s->ev_read != NULL)
			mevent_delete(s->ev_read);
		if (s->ev_write != NULL)
			mevent_delete(s->ev_write);
		s->ev_read = s->ev_write = NULL;
		close(c);
		close(wfd);
		return;
	}
	s->conn_fd = c;
	s->conn_wfd = wfd;
	khyve_dbg("gdb: debugger attached");
	gdb_server_connect(&s->srv);
	pthread_mutex_lock(&s->lock);
	s->attached = true;
	s->debug_gen++;
	stop_for(s, GDB_STOP_ATTACH, -1); /* bhyve: break on attach */
	pthread_mutex_unlock(&s->lock);
	check_stop(s);
}

/* ---- set-up ---- */

static uint32_t probe_debug(struct vm *vm)
{
	int r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
	    KVM_CAP_SET_GUEST_DEBUG2);

	if (r > 0)
		return (uint32_t)r; /* exactly the flags it takes */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
		KVM_CAP_SET_GUEST_DEBUG) <= 0)
		return 0;
	return KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP |
	    KVM_GUESTDBG_USE_SW_BP | KVM_GUESTDBG_USE_HW_BP |
	    KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP;
}

static int open_listener(const char *addr, const char *port)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV | AI_PASSIVE,
	};
	struct addrinfo *ai;
	int fd, one = 1, rc;

	rc = getaddrinfo(addr, port, &hints, &ai);
	if (rc != 0) {
		khyve_warnx("gdb: address %s: %s", addr, gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		khyve_warn("gdb: socket");
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0) {
		rc = -errno;
		khyve_warn("gdb: cannot listen on %s port %s", addr, port);
		close(fd);
		goto out;
	}
	rc = fd;
out:
	freeaddrinfo(ai);
	return rc;
}

static void stub_free(struct gdb_stub *s)
{
	if (s->ev_listen != NULL)
		mevent_delete_close(s->ev_listen);
	else if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->ev_notify != NULL)
		mevent_delete_close(s->ev_notify);
	else if (s->notify_fd >= 0)
		close(s->notify_fd);
	gdb_server_fini(&s->srv);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->lock);
	free(s->vs);
	free(s);
}

int gdb_stub_init(struct vm *vm, struct config_node *cfg)
{
	const char *port = config_get(cfg, "gdb.port");
	const char *addr = config_get(cfg, "gdb.address");
	const char *arch = config_get(cfg, "gdb.arch");
	struct gdb_stub *s;
	bool wait = false;
	int p, rc;

	if (port == NULL)
		return 0;
	if (config_get_int(cfg, "gdb.port", &p) != 0 || p < 1 || p > 65535) {
		khyve_warnx("gdb.port=%s: expected a TCP port 1..65535", port);
		return -EINVAL;
	}
	if (config_get_bool(cfg, "gdb.wait", &wait) == -EINVAL)
		return -EINVAL;
	if (arch != NULL && strcmp(arch, "amd64") != 0 &&
	    strcmp(arch, "i386") != 0) {
		khyve_warnx("gdb.arch=%s: expected amd64 or i386", arch);
		return -EINVAL;
	}
	if (addr == NULL)
		addr = "127.0.0.1"; /* never the world unless asked */
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->vm = vm;
	s->arch = arch != NULL && strcmp(arch, "i386") == 0 ? GDB_ARCH_I386 :
	    GDB_ARCH_AMD64;
	s->listen_fd = s->notify_fd = s->conn_fd = s->conn_wfd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->vs = calloc((size_t)vm->ncpus, sizeof(*s->vs));
	if (s->vs == NULL ||
	    (rc = gdb_server_init(&s->srv, &kvm_target, s, vm->ncpus,
		s->arch)) != 0) {
		rc = -ENOMEM;
		goto fail;
	}
	s->kvm_dbg = probe_debug(vm);
	if (s->kvm_dbg == 0)
		khyve_warnx("gdb: this KVM has no guest debugging "
		    "(KVM_CAP_SET_GUEST_DEBUG): no breakpoints or steps");
	s->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->notify_fd < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = open_listener(addr, port)) < 0)
		goto fail;
	s->listen_fd = rc;
	s->ev_notify = mevent_add(vm->ev, s->notify_fd, EVF_READ, on_notify,
	    s);
	s->ev_listen = mevent_add(vm->ev, s->listen_fd, EVF_READ, on_accept,
	    s);
	if (s->ev_notify == NULL || s->ev_listen == NULL) {
		rc = -errno;
		khyve_warn("gdb: cannot watch the sockets");
		goto fail;
	}
	if (wait) {
		/* Park every vCPU before its first instruction. */
		s->stopping = true;
		s->stop.reason = GDB_STOP_ATTACH;
		s->stop.cpu = 0;
		for (int i = 0; i < vm->ncpus; i++)
			atomic_store(&vm->vcpus[i].gdb_stop, true);
		khyve_warnx("gdb: waiting for a debugger on %s port %s", addr,
		    port);
	}
	vm->gdb = s;
	return 0;
fail:
	stub_free(s);
	return rc;
}

void gdb_stub_fini(struct vm *vm, int status)
{
	struct gdb_stub *s = vm->gdb;

	if (s == NULL)
		return;
	if (s->conn_fd >= 0) {
		struct gdb_stop st = {
			.reason = GDB_STOP_EXITED, .cpu = -1, .status = status
		};

		/* Best effort: one non-blocking send of the exit packet. */
		gdb_server_stopped(&s->srv, &st);
		s->srv.closing = false;
		flush(s);
		if (s->conn_fd >= 0) {
			mevent_delete_close(s->ev_read);
			mevent_delete_close(s->ev_write);
		}
	}
	gdb_swbp_remove_all(&s->sw, &vm->mem);
	vm->gdb = NULL;
	stub_free(s);
}
