/*
 * sandbox_lists.c - what each thread kind may call (see sandbox.h).
 *
 * These tables are the policy: sandbox.c turns them into BPF, the README's
 * "Sandbox" section is generated from them (sandbox_describe), and a unit
 * test fails when a list and the README (or the test's counts) disagree.
 * Add an entry only with the reason it is needed, and keep lists short:
 * every entry is reachable by a guest that takes over that thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>

#include "common.h"
#include "sandbox/sandbox_priv.h"

#define R(n) { #n, SB_ANY }
#define RC(n, c) { #n, c }
#define IOC(r) { r, #r }

/*
 * Every thread: glibc's own needs (malloc: mmap/munmap/mremap/madvise/
 * brk, mprotect for arena growth; locks: futex; signals; thread exit:
 * madvise + exit), time (clock_gettime is vDSO but falls back), messages
 * (write to stderr), and kicks (pthread_kill = tgkill on our own pid).
 * Nothing may map or remap memory executable.
 */
static const struct sb_rule common_rules[] = {
	R(exit), R(exit_group), R(futex), R(rt_sigreturn), R(rt_sigprocmask),
	R(restart_syscall), RC(mmap, SB_NOEXEC), RC(mprotect, SB_NOEXEC),
	R(munmap), R(mremap), R(madvise), R(brk), R(clock_gettime),
	R(clock_nanosleep), R(gettid), R(getpid), RC(tgkill, SB_SELF),
	R(sched_yield), R(write),
};

/*
 * vCPU: KVM_RUN and what emulating an exit does: register access (the
 * gdb park, halt checks), interrupts (IRQ line, MSI, MSI-X routing,
 * irqfd/ioeventfd binding when the guest enables a queue or an MSI-X
 * vector, whose eventfd is made then; the PIC's ELCR), the UART/bvmcons/dbgport byte I/O through chardev (read/recv/
 * send, plus event changes when its ring fills), draining SIG_KICK, and
 * virtio-net's feature negotiation on a tap (TUNSET*).
 */
static const struct sb_rule vcpu_rules[] = {
	RC(ioctl, SB_IOCTL), R(rt_sigtimedwait), R(read), R(recvfrom),
	R(sendto), R(epoll_ctl), R(timerfd_create), R(timerfd_settime),
	R(close), R(eventfd2),
};
static const struct sb_ioctl vcpu_ioctls[] = {
	IOC(KVM_RUN), IOC(KVM_GET_REGS), IOC(KVM_SET_REGS),
	IOC(KVM_GET_SREGS), IOC(KVM_SET_SREGS), IOC(KVM_GET_MP_STATE),
	IOC(KVM_SET_GUEST_DEBUG), IOC(KVM_IRQ_LINE), IOC(KVM_SIGNAL_MSI),
	IOC(KVM_SET_GSI_ROUTING), IOC(KVM_IRQFD), IOC(KVM_IOEVENTFD),
	IOC(KVM_GET_IRQCHIP), IOC(KVM_SET_IRQCHIP), IOC(TUNSETVNETHDRSZ),
	IOC(TUNSETOFFLOAD),
};

/*
 * A virtio device's I/O thread: its event loop (epoll), kick eventfds,
 * the console's client sockets (accept, recv/recvmsg, send/sendmsg,
 * shut down, close),
 * getrandom for virtio-rnd, and interrupts.
 */
static const struct sb_rule io_rules[] = {
	R(epoll_wait), R(epoll_pwait), R(epoll_ctl), R(read), R(readv),
	R(writev), R(recvfrom), R(sendto), R(recvmsg), R(sendmsg), R(accept4),
	R(close), R(shutdown), R(getrandom), R(fcntl), R(timerfd_settime), RC(ioctl, SB_IOCTL),
};
static const struct sb_ioctl irq_ioctls[] = {
	IOC(KVM_IRQ_LINE), IOC(KVM_SIGNAL_MSI),
};

/* blockif workers: the disk I/O itself and the completion interrupt. */
static const struct sb_rule block_rules[] = {
	R(pread64), R(pwrite64), R(preadv), R(pwritev), R(fdatasync),
	R(fsync), R(fallocate), RC(ioctl, SB_IOCTL),
};
static const struct sb_ioctl block_ioctls[] = {
	IOC(BLKDISCARD), IOC(BLKZEROOUT), IOC(KVM_IRQ_LINE),
	IOC(KVM_SIGNAL_MSI),
};

/*
 * virtio-net's I/O thread and slirp's poll thread.  Both run libslirp
 * (the device thread through slirp_input), which opens a host socket for
 * every guest connection and reads /etc/resolv.conf for its DNS proxy;
 * a tap is read and written with readv/writev.
 */
static const struct sb_rule net_rules[] = {
	R(epoll_wait), R(epoll_pwait), R(epoll_ctl), R(read), R(readv),
	R(writev), R(recvfrom), R(sendto), R(recvmsg), R(sendmsg),
	R(accept4), R(close), R(shutdown), R(fcntl), R(timerfd_settime),
	R(poll), R(ppoll), RC(socket, SB_FAMILY), R(connect), R(bind),
	R(listen), R(getsockname), R(getpeername), R(setsockopt),
	R(getsockopt), R(openat), R(newfstatat), R(fstat), R(lseek),
	RC(ioctl, SB_IOCTL),
};
static const struct sb_ioctl net_ioctls[] = {
	IOC(FIONREAD), IOC(FIONBIO), IOC(KVM_IRQ_LINE), IOC(KVM_SIGNAL_MSI),
};

/*
 * Main thread: the event loop (chardevs, the gdb stub's socket and its
 * register access while every vCPU is parked, SIGTERM through a
 * signalfd) and the teardown after it (closing, unmapping, removing the
 * console sockets, unbinding ioeventfds and irqfds, putting the terminal
 * back, msync of a boot ROM's variable store so what the firmware wrote
 * is on disk).  Timers it arms later (the power button's deadline) are
 * made disarmed at start-up: timerfd_settime, not timerfd_create.
 */
static const struct sb_rule main_rules[] = {
	R(epoll_wait), R(epoll_pwait), R(epoll_ctl), R(read), R(readv),
	R(writev), R(recvfrom), R(sendto), R(accept4), R(setsockopt),
	R(close), R(shutdown), R(timerfd_settime), R(fcntl), R(unlink),
	R(newfstatat), R(fstat), R(rt_sigaction), R(msync),
	RC(ioctl, SB_IOCTL),
};
static const struct sb_ioctl main_ioctls[] = {
	IOC(KVM_GET_REGS), IOC(KVM_SET_REGS), IOC(KVM_GET_SREGS),
	IOC(KVM_SET_SREGS), IOC(KVM_GET_FPU), IOC(KVM_SET_FPU),
	IOC(KVM_GET_MSRS), IOC(KVM_SET_MSRS), IOC(KVM_IRQ_LINE),
	IOC(KVM_SIGNAL_MSI), IOC(KVM_IOEVENTFD), IOC(KVM_IRQFD),
	IOC(KVM_SET_GSI_ROUTING), IOC(TCGETS), IOC(TCSETS), IOC(TCSETSW),
	IOC(TCSETSF),
	/* Teardown: a boot ROM removes its memory slots before unmapping. */
	IOC(KVM_SET_USER_MEMORY_REGION),
};

#define LIST(a) a, ARRAY_SIZE(a)
const struct sb_list sb_common = { "common", LIST(common_rules), NULL, 0 };
const struct sb_list sb_lists[SANDBOX_NKINDS] = {
	[SANDBOX_MAIN] = { "main", LIST(main_rules), LIST(main_ioctls) },
	[SANDBOX_VCPU] = { "vcpu", LIST(vcpu_rules), LIST(vcpu_ioctls) },
	[SANDBOX_IO] = { "io", LIST(io_rules), LIST(irq_ioctls) },
	[SANDBOX_BLOCK] = { "block", LIST(block_rules), LIST(block_ioctls) },
	[SANDBOX_NET] = { "net", LIST(net_rules), LIST(net_ioctls) },
};

const char *sandbox_kind_name(enum sandbox_kind kind)
{
	return (unsigned)kind < SANDBOX_NKINDS ? sb_lists[kind].name : "?";
}

size_t sandbox_count(enum sandbox_kind kind)
{
	if ((unsigned)kind >= SANDBOX_NKINDS)
		return 0;
	return sb_common.nrules + sb_lists[kind].nrules;
}

static const char *check_note(const struct sb_rule *r)
{
	switch (r->check) {
	case SB_NOEXEC: return "(no PROT_EXEC)";
	case SB_SELF: return "(own pid)";
	case SB_FAMILY: return "(AF_UNIX|AF_INET|AF_INET6)";
	default: return "";
	}
}

/* Append to buf like snprintf would, tracking the length needed. */
static void put(char *buf, size_t len, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos < len)
		snprintf(buf + *pos, len - *pos, "%s", s);
	*pos += n;
}

static void describe_list(const struct sb_list *l, char *buf, size_t len,
    size_t *pos)
{
	for (size_t i = 0; i < l->nrules; i++) {
		const struct sb_rule *r = &l->rules[i];

		if (i > 0)
			put(buf, len, pos, ", ");
		put(buf, len, pos, r->name);
		put(buf, len, pos, check_note(r));
		if (r->check != SB_IOCTL)
			continue;
		put(buf, len, pos, "(");
		for (size_t j = 0; j < l->nioctls; j++) {
			if (j > 0)
				put(buf, len, pos, "|");
			put(buf, len, pos, l->ioctls[j].name);
		}
		put(buf, len, pos, ")");
	}
}

size_t sandbox_describe(enum sandbox_kind kind, char *buf, size_t len)
{
	const struct sb_list *l = (unsigned)kind < SANDBOX_NKINDS ?
	    &sb_lists[kind] : &sb_common;
	size_t pos = 0;
	char head[64];

	if (len > 0)
		buf[0] = '\0';
	if (l == &sb_common)
		snprintf(head, sizeof(head), "%s (%zu): ", l->name, l->nrules);
	else
		snprintf(head, sizeof(head), "%s (%zu = common + %zu): ",
		    l->name, sandbox_count(kind), l->nrules);
	put(buf, len, &pos, head);
	describe_list(l, buf, len, &pos);
	return pos;
}

/*
 * SANITIZE=1 builds (gcc defines __SANITIZE_ADDRESS__) add these to every
 * thread: ASan's run-time probes the process (/proc/self/maps, limits,
 * affinity) and, when it reports an error, reads /proc and the binary to
 * symbolise the stack.  A sanitizer build is a test tool, not a
 * deployment; its list is not part of the counts above.
 */
static const struct sb_rule sanitizer_rules[] = {
	R(open), R(openat), R(read), R(readlink), R(readlinkat), R(close),
	R(getdents64), R(newfstatat), R(fstat), R(lseek), R(pread64),
	R(sched_getaffinity), R(prlimit64), R(getrlimit), R(sigaltstack),
	R(rt_sigaction), R(prctl), R(uname), R(getppid), R(nanosleep),
};
const struct sb_list sb_sanitizer = { "sanitizer", LIST(sanitizer_rules),
	NULL, 0 };
