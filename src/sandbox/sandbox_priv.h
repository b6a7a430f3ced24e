/*
 * sandbox_priv.h - the policy tables shared by sandbox.c (which compiles
 * them into BPF) and sandbox_lists.c (which holds and describes them).
 */
#ifndef KHYVE_SANDBOX_PRIV_H
#define KHYVE_SANDBOX_PRIV_H

#include <stddef.h>

#include "sandbox/sandbox.h"

enum sb_check {
	SB_ANY,    /* any arguments */
	SB_NOEXEC, /* mmap/mprotect: arg 2 (prot) without PROT_EXEC */
	SB_SELF,   /* tgkill: arg 0 is our own pid */
	SB_FAMILY, /* socket: arg 0 is AF_UNIX, AF_INET or AF_INET6 */
	SB_IOCTL,  /* ioctl: arg 1 is one of the list's requests */
};

struct sb_rule {
	const char *name; /* libseccomp's name of the syscall */
	enum sb_check check;
};

struct sb_ioctl {
	unsigned long req;
	const char *name;
};

struct sb_list {
	const char *name;
	const struct sb_rule *rules;
	size_t nrules;
	const struct sb_ioctl *ioctls; /* for the SB_IOCTL rule */
	size_t nioctls;
};

extern const struct sb_list sb_common;
extern const struct sb_list sb_lists[SANDBOX_NKINDS];
/* ASan/UBSan builds only: what their run-time needs on every thread. */
extern const struct sb_list sb_sanitizer;

#endif
