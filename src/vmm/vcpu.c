/*
 * vcpu.c - vCPU threads, the KVM_RUN loop and its exit dispatch table.
 *
 * Every vCPU runs on its own thread.  KVM_RUN returns on an exit that
 * needs user space; vm_loop() looks the reason up in one table (bounds and
 * NULL checked, as bhyve's vm_loop does) and the handler returns
 * VMEXIT_CONTINUE or VMEXIT_ABORT after calling vm_request_exit().
 *
 * Kicks: a vCPU is forced out of KVM_RUN by setting run->immediate_exit
 * and sending it SIG_KICK, which is blocked in the thread except inside
 * KVM_RUN (KVM_SET_SIGNAL_MASK), so a kick can never be lost between the
 * check of vm->exit_requested and the ioctl.
 *
 * Debugging (-G, gdb/gdb.h): the stub stops a vCPU by setting
 * vcpu->gdb_stop and kicking it.  The loop then lets KVM finish any
 * half-done exit (one KVM_RUN with immediate_exit, so registers are
 * consistent) and parks in gdb_vcpu_park() until the debugger resumes
 * it.  KVM_EXIT_DEBUG (breakpoints, watchpoints, single steps) goes to
 * gdb_vcpu_debug_exit().  Without -G, vm->gdb is NULL and none of this
 * runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "common.h"
#include "config.h"
#include "firmware/loader.h"
#include "gdb/gdb.h"
#include "options.h"
#include "sandbox/sandbox.h"
#include "vmm/cpuid.h"
#include "vmm/vcpu.h"
#include "thread.h"

#define SIG_KICK SIGUSR1
#define GUEST_NIO_PORT 0x488 /* bhyve's guest notification port: a sink */
#define MSR_IA32_APICBASE 0x1b
#define APICBASE_BSP (1u << 8)
#define APICBASE_X2APIC (1u << 10)
#define APICBASE_ENABLE (1u << 11)
#define APIC_DEFAULT_BASE 0xfee00000u

enum { VMEXIT_CONTINUE, VMEXIT_ABORT };

static void kick_handler(int sig)
{
	(void)sig; /* Only there to interrupt KVM_RUN. */
}

static int set_apic_mode(struct vcpu *v, bool x2apic)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = { .hdr.nmsrs = 1 };
	uint64_t base = APIC_DEFAULT_BASE | APICBASE_ENABLE;

	if (v->id == 0)
		base |= APICBASE_BSP;
	if (x2apic)
		base |= APICBASE_X2APIC;
	msrs.e.index = MSR_IA32_APICBASE;
	msrs.e.data = base;
	if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 1) {
		khyve_warn("vCPU %d: cannot set the APIC base MSR", v->id);
		return -EIO;
	}
	return 0;
}

static int setup_cpuid(struct vm *vm, struct vcpu *v,
    const struct kvm_cpuid2 *supported, unsigned cap,
    const struct cpuid_masks *masks)
{
	size_t sz = sizeof(struct kvm_cpuid2) +
	    cap * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(sz);
	int rc;

	if (c == NULL)
		return -ENOMEM;
	memcpy(c, supported, sizeof(*c) +
	    supported->nent * sizeof(struct kvm_cpuid_entry2));
	rc = cpuid_adjust(c, cap, &vm->topo, v->id, vm->x2apic, masks);
	if (rc == 0 && ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		rc = -errno;
		khyve_warn("vCPU %d: KVM_SET_CPUID2", v->id);
	}
	free(c);
	return rc;
}

static struct kvm_cpuid2 *get_supported_cpuid(int kvm_fd, unsigned *cap)
{
	unsigned n = 128;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
		    (n + 8) * sizeof(struct kvm_cpuid_entry2));

		if (c == NULL)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*cap = n + 8; /* room for the topology leaves */
			return c;
		}
		free(c);
		if (errno != E2BIG || n >= 4096) {
			khyve_warn("KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
		n *= 2;
	}
}

static int read_pinning(struct config_node *cfg, struct vcpu *v)
{
	char key[48];
	const char *s;

	/* The option parser validated -p; the key is re-read here because
	 * -o and -k can set it too. */
	v->pinned = false;
	snprintf(key, sizeof(key), "vcpu.%d.cpuset", v->id);
	s = config_get(cfg, key);
	if (s == NULL)
		return 0;
	if (options_parse_cpuset(s, &v->cpuset) != 0) {
		khyve_warnx("%s=%s: expected a list of host CPUs "
		    "(e.g. 0,2,4-7)", key, s);
		return -EINVAL;
	}
	v->pinned = true;
	return 0;
}

int vcpu_create_all(struct vm *vm, struct config_node *cfg,
    const struct cpuid_masks *masks)
{
	struct kvm_cpuid2 *supported;
	unsigned cap = 0;
	int mmap_size, rc = 0, max_id;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigaction(SIG_KICK, &sa, NULL);

	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size <= 0) {
		khyve_warn("KVM_GET_VCPU_MMAP_SIZE");
		return -EIO;
	}
	max_id = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	if (max_id <= 0)
		max_id = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
		    KVM_CAP_MAX_VCPUS);
	if ((int)cpuid_apic_id(&vm->topo, vm->topo.cpus - 1) >= max_id) {
		khyve_warnx("-c: %d vCPUs with this topology need APIC IDs up "
		    "to %u; this KVM allows IDs below %d", vm->topo.cpus,
		    cpuid_apic_id(&vm->topo, vm->topo.cpus - 1), max_id);
		return -EINVAL;
	}
	supported = get_supported_cpuid(vm->kvm_fd, &cap);
	if (supported == NULL)
		return -EIO;
	vm->vcpus = calloc((size_t)vm->topo.cpus, sizeof(*vm->vcpus));
	if (vm->vcpus == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < vm->topo.cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->fd, KVM_CREATE_VCPU,
		    (unsigned long)cpuid_apic_id(&vm->topo, i));
		if (v->fd < 0) {
			rc = -errno;
			khyve_warn("KVM_CREATE_VCPU %d", i);
			goto out;
		}
		vm->ncpus = i + 1;
		v->run_size = (size_t)mmap_size;
		v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			rc = -errno;
			khyve_warn("mmap vCPU %d", i);
			goto out;
		}
		if ((rc = setup_cpuid(vm, v, supported, cap, masks)) != 0 ||
		    (rc = set_apic_mode(v, vm->x2apic)) != 0 ||
		    (rc = read_pinning(cfg, v)) != 0)
			goto out;
	}
out:
	free(supported);
	if (rc != 0)
		vcpu_destroy_all(vm);
	return rc;
}

void vcpu_destroy_all(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run != NULL)
			munmap(v->run, v->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->ncpus = 0;
}

/* ---- boot state ---- */

static void flat_seg(struct kvm_segment *s, uint16_t sel, bool code,
    bool longmode)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = code ? 0xb : 0x3; /* execute/read accessed, read/write accessed */
	s->present = 1;
	s->dpl = 0;
	s->s = 1;
	s->g = 1;
	s->l = code && longmode;
	s->db = !(code && longmode);
}

int vcpu_set_boot_state(struct vcpu *v, const struct boot_state *bs)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	bool lm = bs->mode == BOOT_MODE_LONG64;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	flat_seg(&sregs.cs, bs->cs_sel, true, lm);
	flat_seg(&sregs.ds, bs->ds_sel, false, lm);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = bs->gdt_base;
	sregs.gdt.limit = bs->gdt_limit;
	sregs.cr0 = 0x1 | 0x10; /* PE | ET */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (lm) {
		sregs.cr0 |= 0x80000000u; /* PG */
		sregs.cr4 |= 0x20;        /* PAE */
		sregs.cr3 = bs->cr3;
		sregs.efer = 0x500; /* LME | LMA */
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = bs->rip;
	regs.rsp = bs->rsp;
	regs.rax = bs->rax;
	regs.rbx = bs->rbx;
	regs.rcx = bs->rcx;
	regs.rdx = bs->rdx;
	regs.rsi = bs->rsi;
	regs.rdi = bs->rdi;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* ---- diagnostics ---- */

void vcpu_dump(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		khyve_warn("vCPU %d: cannot read registers", v->id);
		return;
	}
	fprintf(stderr,
	    "vCPU %d registers:\r\n"
	    "  rip 0x%016llx rflags 0x%016llx\r\n"
	    "  rax 0x%016llx rbx 0x%016llx rcx 0x%016llx rdx 0x%016llx\r\n"
	    "  rsi 0x%016llx rdi 0x%016llx rbp 0x%016llx rsp 0x%016llx\r\n"
	    "  r8  0x%016llx r9  0x%016llx r10 0x%016llx r11 0x%016llx\r\n"
	    "  r12 0x%016llx r13 0x%016llx r14 0x%016llx r15 0x%016llx\r\n"
	    "  cs 0x%04x base 0x%llx l %d db %d  ss 0x%04x  ds 0x%04x\r\n"
	    "  cr0 0x%llx cr2 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx\r\n"
	    "  gdt 0x%llx/0x%x idt 0x%llx/0x%x\r\n",
	    v->id, r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
	    r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
	    s.cs.selector, s.cs.base, s.cs.l, s.cs.db, s.ss.selector,
	    s.ds.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.gdt.base,
	    s.gdt.limit, s.idt.base, s.idt.limit);
}

static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs r;

	return ioctl(v->fd, KVM_GET_REGS, &r) < 0 ? 0 : r.rip;
}

static int abort_vm(struct vcpu *v, int status)
{
	vm_request_exit(v->vm, status);
	return VMEXIT_ABORT;
}

/* ---- exit handlers ---- */

static int vmexit_inout(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;
	bool in = run->io.direction == KVM_EXIT_IO_IN;
	int size = run->io.size;
	uint16_t port = run->io.port;
	uint8_t *data;

	/* KVM fills these; check them anyway before touching the page. */
	if ((size != 1 && size != 2 && size != 4) ||
	    run->io.data_offset > v->run_size ||
	    (uint64_t)run->io.count * (uint64_t)size >
		v->run_size - run->io.data_offset) {
		khyve_warnx("vCPU %d: malformed I/O exit", v->id);
		return abort_vm(v, KHYVE_EXIT_ERROR);
	}
	data = (uint8_t *)run + run->io.data_offset;
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		uint64_t val = 0;
		int rc;

		if (in)
			val = ~0ULL;
		else
			memcpy(&val, data, (size_t)size);
		rc = iobus_access(&vm->pio, v, port, size, !in, &val);
		if (rc == -ENOENT && port == GUEST_NIO_PORT)
			rc = 0; /* bhyve's notification port: accepted, ignored */
		if (rc == -ENOENT && vm->strict_io) {
			khyve_warnx("Unhandled %s%c 0x%04x at 0x%" PRIx64,
			    in ? "in" : "out",
			    size == 1 ? 'b' : (size == 2 ? 'w' : 'l'), port,
			    vcpu_rip(v));
			return abort_vm(v, KHYVE_EXIT_ERROR);
		}
		if (rc != 0 && rc != -ENOENT) {
			khyve_warnx("%s of port 0x%04x (size %d) failed: %s",
			    in ? "read" : "write", port, size, strerror(-rc));
			return abort_vm(v, KHYVE_EXIT_ERROR);
		}
		if (in)
			memcpy(data, &val, (size_t)size);
		if (atomic_load(&vm->exit_requested))
			return VMEXIT_ABORT;
	}
	return VMEXIT_CONTINUE;
}

static int vmexit_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;
	int size = (int)run->mmio.len;
	bool write = run->mmio.is_write;
	uint64_t val = 0;
	int rc;

	if (size != 1 && size != 2 && size != 4 && size != 8) {
		khyve_warnx("vCPU %d: MMIO access of %d bytes at 0x%llx", v->id,
		    size, (unsigned long long)run->mmio.phys_addr);
		return abort_vm(v, KHYVE_EXIT_ERROR);
	}
	if (write)
		memcpy(&val, run->mmio.data, (size_t)size);
	else
		val = ~0ULL;
	rc = iobus_access(&vm->mmio, v, run->mmio.phys_addr, size, write, &val);
	if (rc == -ENOENT && vm->strict_io) {
		khyve_warnx("Unhandled memory %s of %d bytes at 0x%llx, rip "
		    "0x%" PRIx64, write ? "write" : "read", size,
		    (unsigned long long)run->mmio.phys_addr, vcpu_rip(v));
		return abort_vm(v, KHYVE_EXIT_ERROR);
	}
	if (rc != 0 && rc != -ENOENT) {
		khyve_warnx("MMIO %s at 0x%llx failed: %s",
		    write ? "write" : "read",
		    (unsigned long long)run->mmio.phys_addr, strerror(-rc));
		return abort_vm(v, KHYVE_EXIT_ERROR);
	}
	if (!write)
		memcpy(run->mmio.data, &val, (size_t)size);
	return atomic_load(&vm->exit_requested) ? VMEXIT_ABORT :
	    VMEXIT_CONTINUE;
}

/* MSRs KVM does not know (KVM_MSR_EXIT_REASON_UNKNOWN).  bhyve's
 * strictmsr: #GP by default; -w: reads return 0 and writes are dropped. */
static int vmexit_msr(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	bool rd = run->exit_reason == KVM_EXIT_X86_RDMSR;

	if (v->vm->strict_msr) {
		khyve_dbg("vCPU %d: %s of unknown MSR 0x%x: #GP", v->id,
		    rd ? "rdmsr" : "wrmsr", run->msr.index);
		run->msr.error = 1;
	} else {
		khyve_dbg("vCPU %d: %s of unknown MSR 0x%x ignored (-w)",
		    v->id, rd ? "rdmsr" : "wrmsr", run->msr.index);
		run->msr.error = 0;
		if (rd)
			run->msr.data = 0;
	}
	return VMEXIT_CONTINUE;
}

/* Only without an in-kernel local APIC; kept for completeness. */
static int vmexit_hlt(struct vcpu *v)
{
	(void)v;
	sched_yield();
	return VMEXIT_CONTINUE;
}

static int vmexit_shutdown(struct vcpu *v)
{
	/* A triple fault: the CPU shut down.  bhyve exits 3. */
	khyve_dbg("vCPU %d: triple fault", v->id);
	if (khyve_debug)
		vcpu_dump(v);
	return abort_vm(v, KHYVE_EXIT_TRIPLEFAULT);
}

static int vmexit_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		return abort_vm(v, KHYVE_EXIT_POWEROFF);
	case KVM_SYSTEM_EVENT_RESET:
		return abort_vm(v, KHYVE_EXIT_RESET);
	default:
		khyve_warnx("vCPU %d: system event %u", v->id,
		    v->run->system_event.type);
		return abort_vm(v, KHYVE_EXIT_ERROR);
	}
}

static int vmexit_fail_entry(struct vcpu *v)
{
	khyve_warnx("vCPU %d: VM entry failed, hardware reason 0x%llx", v->id,
	    (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
	vcpu_dump(v);
	return abort_vm(v, KHYVE_EXIT_ERROR);
}

static int vmexit_internal_error(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	static const char *const what[] = {
		[KVM_INTERNAL_ERROR_EMULATION] = "instruction emulation failed",
		[KVM_INTERNAL_ERROR_SIMUL_EX] = "exception during exception",
		[KVM_INTERNAL_ERROR_DELIVERY_EV] = "event delivery failed",
	};
	uint32_t sub = run->internal.suberror;

	khyve_warnx("vCPU %d: KVM internal error %u (%s)", v->id, sub,
	    sub < ARRAY_SIZE(what) && what[sub] ? what[sub] : "unknown");
	for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++)
		fprintf(stderr, "  data[%u] 0x%llx\r\n", i,
		    (unsigned long long)run->internal.data[i]);
	vcpu_dump(v);
	return abort_vm(v, KHYVE_EXIT_ERROR);
}

static int vmexit_debug(struct vcpu *v)
{
	/* Only the gdb stub enables guest debugging (KVM_SET_GUEST_DEBUG). */
	if (v->vm->gdb != NULL)
		gdb_vcpu_debug_exit(v);
	else
		khyve_dbg("vCPU %d: debug exit at 0x%llx", v->id,
		    (unsigned long long)v->run->debug.arch.pc);
	return VMEXIT_CONTINUE;
}

typedef int vmexit_handler_t(struct vcpu *v);

static vmexit_handler_t *const handlers[] = {
	[KVM_EXIT_IO] = vmexit_inout,
	[KVM_EXIT_MMIO] = vmexit_mmio,
	[KVM_EXIT_HLT] = vmexit_hlt,
	[KVM_EXIT_SHUTDOWN] = vmexit_shutdown,
	[KVM_EXIT_SYSTEM_EVENT] = vmexit_system_event,
	[KVM_EXIT_FAIL_ENTRY] = vmexit_fail_entry,
	[KVM_EXIT_INTERNAL_ERROR] = vmexit_internal_error,
	[KVM_EXIT_DEBUG] = vmexit_debug,
	[KVM_EXIT_X86_RDMSR] = vmexit_msr,
	[KVM_EXIT_X86_WRMSR] = vmexit_msr,
};

/* ---- halt detection ---- */

static void check_halted(struct vcpu *v)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	bool halted = false;

	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0)
		return;
	if (mp.mp_state == KVM_MP_STATE_HALTED &&
	    ioctl(v->fd, KVM_GET_REGS, &regs) == 0)
		halted = !(regs.rflags & 0x200); /* IF clear: only NMI/INIT wakes it */
	else if (mp.mp_state == KVM_MP_STATE_INIT_RECEIVED)
		halted = true; /* an AP that never got (or lost) its SIPI */
	atomic_store(&v->halted, halted);
}

static void maybe_all_halted(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++)
		if (!atomic_load(&vm->vcpus[i].halted))
			return;
	vm_request_exit(vm, KHYVE_EXIT_HALT);
}

void vcpu_poll_halt(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++)
		atomic_store(&vm->vcpus[i].halt_check, true);
	for (int i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].thread_started)
			pthread_kill(vm->vcpus[i].thread, SIG_KICK);
}

/* ---- the loop ---- */

/*
 * A kick that made KVM_RUN return EINTR is still pending: KVM unblocks
 * SIG_KICK only inside KVM_RUN and blocks it again before returning, so
 * the handler never runs and every later KVM_RUN would fail at once.
 * Take it off the queue (as QEMU's kvm_eat_signals did).  A kick sent
 * after this stays pending and stops the next KVM_RUN: none is lost.
 */
static void eat_kicks(void)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	while (sigtimedwait(&set, NULL, &zero) == SIG_KICK)
		;
}

static void vm_loop(struct vcpu *v)
{
	struct vm *vm = v->vm;
	/* True when the last KVM_RUN returned EINTR (or none ran yet): no
	 * exit is half done, so the vCPU's state is what KVM reports. */
	bool settled = true;

	while (!atomic_load(&vm->exit_requested)) {
		uint32_t reason;

		if (atomic_load(&v->gdb_stop)) {
			if (settled) {
				gdb_vcpu_park(v);
				continue;
			}
			/* KVM completes a pending I/O or MMIO exit on
			 * entry, then leaves at once with EINTR. */
			v->run->immediate_exit = 1;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno != EINTR && errno != EAGAIN) {
				khyve_warn("vCPU %d: KVM_RUN", v->id);
				vm_request_exit(vm, KHYVE_EXIT_ERROR);
				return;
			}
			settled = true;
			v->run->immediate_exit = 0;
			eat_kicks();
			if (atomic_exchange(&v->halt_check, false)) {
				check_halted(v);
				maybe_all_halted(vm);
			}
			continue;
		}
		settled = false;
		reason = v->run->exit_reason;
		if (reason >= ARRAY_SIZE(handlers) || handlers[reason] == NULL) {
			khyve_warnx("vCPU %d: unhandled KVM exit reason %u",
			    v->id, reason);
			vcpu_dump(v);
			vm_request_exit(vm, KHYVE_EXIT_ERROR);
			return;
		}
		if (handlers[reason](v) == VMEXIT_ABORT)
			return;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct {
		struct kvm_signal_mask hdr;
		uint8_t set[8];
	} kmask = { .hdr.len = 8 };
	char name[16];

	snprintf(name, sizeof(name), "vcpu %d", v->id);
	pthread_setname_np(pthread_self(), name);
	if (v->pinned && pthread_setaffinity_np(pthread_self(),
	    sizeof(v->cpuset), &v->cpuset))
		khyve_warnx("vCPU %d: cannot pin to the host CPUs of -p "
		    "(vcpu.%d.cpuset)", v->id, v->id);
	/* Inside KVM_RUN nothing is blocked, so SIG_KICK interrupts it. */
	if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, &kmask) < 0) {
		khyve_warn("vCPU %d: KVM_SET_SIGNAL_MASK", v->id);
		vm_request_exit(v->vm, KHYVE_EXIT_ERROR);
		return NULL;
	}
	sandbox_enter(SANDBOX_VCPU);
	vm_loop(v);
	if (v->vm->gdb != NULL)
		gdb_vcpu_gone(v);
	return NULL;
}

int vm_start(struct vm *vm)
{
	sigset_t set, old;
	int rc = 0;

	/* Threads inherit the mask: SIG_KICK blocked outside KVM_RUN. */
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		rc = khyve_thread_create(&v->thread, vcpu_thread, v);
		if (rc != 0) {
			khyve_warnx("cannot start vCPU %d thread", i);
			vm_request_exit(vm, KHYVE_EXIT_ERROR);
			break;
		}
		v->thread_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->run != NULL)
		v->run->immediate_exit = 1;
	if (v->thread_started)
		pthread_kill(v->thread, SIG_KICK);
}

void vcpu_kick_all(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	if (vm->gdb != NULL)
		gdb_vm_exiting(vm);
}

void vm_stop(struct vm *vm)
{
	if (!atomic_load(&vm->exit_requested))
		vm_request_exit(vm, KHYVE_EXIT_POWEROFF);
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->thread_started) {
			pthread_join(v->thread, NULL);
			v->thread_started = false;
		}
	}
}
