/*
 * slirp_dl.h - libslirp, loaded when the first slirp back end starts.
 *
 * libslirp brings glib and pcre2 with it: three shared objects the
 * dynamic loader would map, relocate and initialise in every khyve
 * process, though only a VM with a slirp NIC uses them.  khyve links
 * without them and dlopen()s libslirp.so.0 from the slirp back end's
 * init, on the main thread, before any thread confines itself (the
 * sandbox would refuse the open and the mmaps later).
 */
#ifndef KHYVE_BACKEND_SLIRP_DL_H
#define KHYVE_BACKEND_SLIRP_DL_H

#include <slirp/libslirp.h>

/* The libslirp calls khyve makes, with libslirp's own prototypes. */
struct slirp_dl {
	typeof(slirp_new) *new_;
	typeof(slirp_cleanup) *cleanup;
	typeof(slirp_input) *input;
	typeof(slirp_pollfds_fill) *pollfds_fill;
	typeof(slirp_pollfds_poll) *pollfds_poll;
	typeof(slirp_handle_timer) *handle_timer;
	typeof(slirp_add_hostxfwd) *add_hostxfwd;
};

/*
 * The loaded library, loading it on the first call (thread-safe; it
 * stays loaded for the life of the process).  NULL after a message
 * naming `who` when libslirp.so.0 or one of its symbols is missing.
 */
const struct slirp_dl *slirp_dl_get(const char *who);

#endif
