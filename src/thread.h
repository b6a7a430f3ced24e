/*
 * thread.h - khyve's threads: pthreads on a stack transparent huge pages
 * cannot back.
 *
 * glibc gives each thread an 8 MiB anonymous stack.  With THP "always"
 * (as in the nested test VM's Debian 6.1 kernel; kernels before 6.7 do
 * not exempt MAP_STACK mappings), the kernel may align that mapping to
 * 2 MiB, and then the first touch of the stack's top (glibc's thread
 * descriptor lives there) faults in a whole 2 MiB page for the few KiB a
 * thread uses: measured as 2 MiB of an idle 1-vCPU khyve's ~3 MiB of
 * host memory beyond guest RAM (bench/run, density).  A stack mapping
 * below 2 MiB cannot hold an aligned 2 MiB range, so it gets 4 KiB
 * pages.  The size is FreeBSD's default thread stack (bhyve's threads
 * run on 2 MiB) less 64 KiB; no khyve function has a frame above 32 KiB
 * (-Wframe-larger-than).
 */
#ifndef KHYVE_THREAD_H
#define KHYVE_THREAD_H

#include <pthread.h>

#define KHYVE_THREAD_STACK ((2u << 20) - (64u << 10))

/* pthread_create() with a KHYVE_THREAD_STACK stack: 0 or a positive
 * errno, like pthread_create().  Join with pthread_join(). */
int khyve_thread_create(pthread_t *tid, void *(*fn)(void *), void *arg);

#endif
