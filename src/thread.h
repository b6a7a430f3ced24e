/*
 * thread.h - how khyve starts its threads (vCPUs, virtio I/O threads,
 * blockif workers, slirp's poll thread).
 *
 * glibc gives a new thread a stack of RLIMIT_STACK, usually 8 MiB.  That
 * is only address space until touched, but where transparent huge pages
 * are "always" (Debian's kernels default to madvise; others do not), a
 * stack mapping of 2 MiB or more may be backed by a 2 MiB huge page as
 * soon as the thread touches it: 2 MiB of RAM per thread, for a few KiB
 * used (seen in bench/: an idle VM's threads grew by 2 MiB steps on a
 * 6.1 kernel; Linux 6.7 and later keep MAP_STACK mappings, which glibc
 * uses, off huge pages).  A smaller stack mapping cannot hold one.  The deepest khyve path
 * (a vCPU's exit handler into a device) uses a few tens of KiB, and
 * libslirp's poll thread calls into glib; 1 MiB leaves room for both,
 * also in ASan builds.
 */
#ifndef KHYVE_THREAD_H
#define KHYVE_THREAD_H

#include <pthread.h>

#define KHYVE_THREAD_STACK (1024 * 1024)

/* pthread_create with a KHYVE_THREAD_STACK stack; 0 or a negative
 * errno. */
int khyve_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
