/*
 * test_slirp_dl.c - libslirp loaded on demand: a missing library or
 * symbol is an error with a reason, the real library fills every entry.
 */
#include <errno.h>

#include "backend/slirp_dl.h"
#include "test.h"

static void check_filled(int *failed, const struct slirp_dl *t)
{
	CHECK(t->new_ != NULL);
	CHECK(t->cleanup != NULL);
	CHECK(t->input != NULL);
	CHECK(t->pollfds_fill != NULL);
	CHECK(t->pollfds_poll != NULL);
	CHECK(t->handle_timer != NULL);
	CHECK(t->add_hostxfwd != NULL);
}

TEST(slirp_dl_missing_library)
{
	struct slirp_dl t;
	char err[256] = "";

	CHECK_EQ(slirp_dl_open("libkhyve-no-such-slirp.so.0", &t, err,
	    sizeof(err)), -ENOENT);
	CHECK(strstr(err, "libkhyve-no-such-slirp.so.0") != NULL);
}

TEST(slirp_dl_missing_symbol)
{
	struct slirp_dl t;
	char err[256] = "";

	/* A library without libslirp's API. */
	CHECK_EQ(slirp_dl_open("libc.so.6", &t, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "has no slirp_new") != NULL);
}

TEST(slirp_dl_loads_every_entry)
{
	struct slirp_dl t;
	char err[256] = "";

	memset(&t, 0, sizeof(t));
	CHECK_EQ(slirp_dl_open(SLIRP_DL_SONAME, &t, err, sizeof(err)), 0);
	check_filled(failed, &t);
	CHECK_EQ(slirp_dl_load(err, sizeof(err)), 0);
	check_filled(failed, &slirp_dl);
	CHECK(slirp_dl.new_ == t.new_);
	CHECK(slirp_dl.add_hostxfwd == t.add_hostxfwd);
}
