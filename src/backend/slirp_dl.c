/*
 * slirp_dl.c - libslirp through dlopen (see slirp_dl.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "backend/slirp_dl.h"

struct slirp_dl slirp_dl;

static bool loaded;

int slirp_dl_open(const char *soname, struct slirp_dl *out, char *err,
    size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define SYM(f, field) { #f, offsetof(struct slirp_dl, field) }
		SYM(slirp_new, new_),
		SYM(slirp_cleanup, cleanup),
		SYM(slirp_input, input),
		SYM(slirp_pollfds_fill, pollfds_fill),
		SYM(slirp_pollfds_poll, pollfds_poll),
		SYM(slirp_handle_timer, handle_timer),
		SYM(slirp_add_hostxfwd, add_hostxfwd),
#undef SYM
	};
	struct slirp_dl t = { 0 };
	void *h;

	/* Lazy binding, as when linked: binding glib's symbols up front
	 * doubled khyve's start-up in the nested test VM (LD_BIND_NOW). */
	h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(err, errlen, "%s", dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *f = dlsym(h, syms[i].name);

		if (f == NULL) {
			snprintf(err, errlen, "%s has no %s", soname,
			    syms[i].name);
			dlclose(h);
			return -ENOENT;
		}
		/* Stored through its bytes: ISO C has no conversion from
		 * void * to a function pointer. */
		memcpy((char *)&t + syms[i].off, &f, sizeof(f));
	}
	*out = t; /* the handle stays open for the process's life */
	return 0;
}

int slirp_dl_load(char *err, size_t errlen)
{
	int rc;

	if (loaded)
		return 0;
	rc = slirp_dl_open(SLIRP_DL_SONAME, &slirp_dl, err, errlen);
	loaded = rc == 0;
	return rc;
}
