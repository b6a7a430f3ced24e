/*
 * slirp_dl.c - dlopen() of libslirp for the slirp back end (see
 * slirp_dl.h for why it is not linked).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "backend/slirp_dl.h"
#include "common.h"

/* The soname of libslirp's ABI 0 (Debian's libslirp0), which the
 * headers khyve is built with describe. */
#define SLIRP_SONAME "libslirp.so.0"

static struct slirp_dl lib;
static char load_error[256]; /* "": loaded */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define SYM(field, name) { #name, offsetof(struct slirp_dl, field) }
		SYM(new_, slirp_new),
		SYM(cleanup, slirp_cleanup),
		SYM(input, slirp_input),
		SYM(pollfds_fill, slirp_pollfds_fill),
		SYM(pollfds_poll, slirp_pollfds_poll),
		SYM(handle_timer, slirp_handle_timer),
		SYM(add_hostxfwd, slirp_add_hostxfwd),
#undef SYM
	};
	void *h = dlopen(SLIRP_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		void *f = dlsym(h, syms[i].name);

		if (f == NULL) {
			snprintf(load_error, sizeof(load_error), "%s",
			    dlerror());
			dlclose(h);
			return;
		}
		*(void **)((char *)&lib + syms[i].off) = f;
	}
	/* The handle is never closed: slirp's timers and sockets may call
	 * into it until the process ends. */
}

const struct slirp_dl *slirp_dl_get(const char *who)
{
	pthread_once(&once, load);
	if (load_error[0] != '\0') {
		khyve_warnx("%s: slirp needs %s (Debian: libslirp0): %s", who,
		    SLIRP_SONAME, load_error);
		return NULL;
	}
	return &lib;
}
