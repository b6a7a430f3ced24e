/*
 * slirp_dl.h - libslirp, loaded when the first slirp back end opens.
 *
 * libslirp pulls in glib, pcre2 and libm: four shared libraries that a
 * khyve without user-mode networking would map, relocate and run the
 * constructors of at every start.  Loading them on demand keeps them out
 * of every other VM's start-up time and memory (bench/run's density
 * rows).  The table has libslirp's own prototypes (from its header), so
 * calls through it are checked like direct ones.
 */
#ifndef KHYVE_SLIRP_DL_H
#define KHYVE_SLIRP_DL_H

#include <stddef.h>
#include <slirp/libslirp.h>

struct slirp_dl {
	__typeof__(slirp_new) *new_;
	__typeof__(slirp_cleanup) *cleanup;
	__typeof__(slirp_input) *input;
	__typeof__(slirp_pollfds_fill) *pollfds_fill;
	__typeof__(slirp_pollfds_poll) *pollfds_poll;
	__typeof__(slirp_handle_timer) *handle_timer;
	__typeof__(slirp_add_hostxfwd) *add_hostxfwd;
};

/* Filled by slirp_dl_load(); valid after it returned 0. */
extern struct slirp_dl slirp_dl;

#define SLIRP_DL_SONAME "libslirp.so.0"

/*
 * Load libslirp (SLIRP_DL_SONAME) into slirp_dl: 0, or -ENOENT with the
 * reason in err.  Once it succeeded, later calls return 0 at once; a
 * failure is not remembered.  Call before any thread uses slirp_dl (back
 * ends open in the main thread at start-up).
 */
int slirp_dl_load(char *err, size_t errlen);

/* The loader itself, for tests: dlopen `soname` and fill *out, every
 * time it is called (the library then stays loaded). */
int slirp_dl_open(const char *soname, struct slirp_dl *out, char *err,
    size_t errlen);

#endif
