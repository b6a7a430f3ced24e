/*
 * sandbox.h - khyve confines itself once started (bhyve's Capsicum step,
 * done the Linux way: a seccomp-bpf filter per thread kind, and Landlock).
 *
 * Contract.
 *   1. main() calls sandbox_init(cfg) on the main thread BEFORE any other
 *      thread exists.  It reads "sandbox" (off | log | kill; the default
 *      lives in config.c), builds every kind's BPF program with
 *      libseccomp, sets no_new_privs (inherited by later threads) and
 *      prepares the Landlock ruleset from the paths the configuration
 *      names.  It fails (-ENOSYS) when the mode is not "off" and the
 *      kernel cannot filter with the needed actions, and -EINVAL on a bad
 *      mode: the caller stops before anything starts.
 *   2. Every thread calls sandbox_enter(kind) when it begins its loop,
 *      after its own set-up (names, affinity, signal masks) and before it
 *      handles anything the guest controls.  Filters are per thread (no
 *      TSYNC): a thread created by a confined thread would inherit that
 *      filter as well as load its own, so no thread may be created by a
 *      thread that has entered.  khyve creates every thread during
 *      start-up; the main thread enters last, just before its event loop.
 *   3. sandbox_fini() on the main thread, after every other thread was
 *      joined, releases the prepared state.
 *
 * Modes.  kill (default): a syscall outside the thread's list kills the
 * whole process with SIGSYS (SCMP_ACT_KILL_PROCESS), and Landlock limits
 * what may still be opened.  log: nothing is enforced; the kernel logs
 * (audit/dmesg) every syscall a list lacks, so missing entries show up
 * while debugging; Landlock is not applied (it cannot log).  off: nothing.
 *
 * Landlock (kernel ABI 1 and later, probed at run time; a one-line note
 * when absent): the thread may afterwards open only the files the
 * configuration names (read/write; boot files read-only), create or
 * remove sockets only in the directories of the configured socket paths,
 * and read /etc/resolv.conf and /etc/hosts (slirp's DNS proxy).
 * Descriptors opened before are not affected.
 *
 * sandbox_enter() cannot fail in a way the thread could handle: the
 * filters are built and checked by sandbox_init(), so a load failure
 * means the kernel changed its mind; the thread then aborts (fails
 * closed) rather than run a guest unconfined.
 */
#ifndef KHYVE_SANDBOX_H
#define KHYVE_SANDBOX_H

#include <stddef.h>

struct config_node;

enum sandbox_kind {
	SANDBOX_MAIN,  /* main thread: event loop (gdb stub, chardevs) and teardown */
	SANDBOX_VCPU,  /* KVM_RUN and the device emulation of exits */
	SANDBOX_IO,    /* a virtio device's I/O thread (not net) */
	SANDBOX_BLOCK, /* blockif workers */
	SANDBOX_NET,   /* virtio-net's I/O thread and the slirp poll thread */
	SANDBOX_NKINDS
};

enum sandbox_mode { SANDBOX_OFF, SANDBOX_LOG, SANDBOX_KILL };

int sandbox_init(struct config_node *cfg);
void sandbox_enter(enum sandbox_kind kind);
void sandbox_fini(void);

/* The mode sandbox_init() chose (SANDBOX_OFF before it ran). */
enum sandbox_mode sandbox_mode(void);

/* ---- the lists, for the README check and the unit tests ---- */

const char *sandbox_kind_name(enum sandbox_kind kind);
/* How many syscalls `kind` allows (the common ones included). */
size_t sandbox_count(enum sandbox_kind kind);
/*
 * Write "name (N): sys1, sys2, ioctl(REQ|REQ), ..." for `kind`, the line
 * the README carries, into buf.  Returns the length it needed.
 */
size_t sandbox_describe(enum sandbox_kind kind, char *buf, size_t len);

/* Parse "off", "log", "kill"; -EINVAL otherwise. */
int sandbox_parse_mode(const char *s, enum sandbox_mode *out);

#endif
