/* test_smbios.c - the SMBIOS tables (firmware/smbios.c): both entry
 * points, every structure and string set walked with bounds, -B strings
 * and the UUID as a guest reads them. */
#include <errno.h>

#include "config.h"
#include "fw_fixture.h"
#include "options.h"
#include "test.h"

#define BASE 0xF1000ULL
#define CAP 0x1400

struct sm_struct {
	const uint8_t *p;   /* formatted area */
	const uint8_t *str; /* string set */
	size_t size;        /* with the strings */
};

struct sm_seen {
	int n, bad;
	struct sm_struct s[64];
	uint16_t maxsize;
};

/* The n-th string (1-based) of structure s, or NULL. */
static const char *sm_string(const struct sm_struct *s, uint8_t n)
{
	const char *c = (const char *)s->str;
	const char *end = (const char *)s->p + s->size;

	if (n == 0)
		return NULL;
	while (--n > 0 && c < end) {
		c += strnlen(c, (size_t)(end - c)) + 1;
		if (c < end && *c == '\0')
			return NULL;
	}
	return c < end && *c != '\0' ? c : NULL;
}

static const struct sm_struct *sm_find(const struct sm_seen *w, uint8_t type,
    int nth)
{
	for (int i = 0; i < w->n; i++)
		if (w->s[i].p[0] == type && nth-- == 0)
			return &w->s[i];
	return NULL;
}

/* Check the entry points; walk the table. */
static void walk(int *failed, const uint8_t *p, size_t used,
    struct sm_seen *w)
{
	const uint8_t *ep3 = p, *ep2 = p + 0x20, *t, *end;
	uint32_t tlen;
	uint64_t taddr;

	memset(w, 0, sizeof(*w));
	CHECK(memcmp(ep3, "_SM3_", 5) == 0);
	CHECK_EQ(ep3[6], 0x18);
	CHECK_EQ(fw_sum(ep3, 0x18), 0);
	CHECK_EQ(ep3[7], 3);
	CHECK_EQ(ep3[10], 1);
	CHECK(memcmp(ep2, "_SM_", 4) == 0);
	CHECK_EQ(ep2[5], 0x1f);
	CHECK_EQ(fw_sum(ep2, 0x1f), 0);
	CHECK(memcmp(ep2 + 0x10, "_DMI_", 5) == 0);
	CHECK_EQ(fw_sum(ep2 + 0x10, 0x0f), 0);
	CHECK_EQ(ep2[6], 2);
	CHECK_EQ(ep2[7], 8);
	taddr = fw_get64(ep3 + 16);
	tlen = fw_get32(ep3 + 12);
	CHECK_EQ(fw_get32(ep2 + 0x18), taddr);
	CHECK_EQ(fw_get16(ep2 + 0x16), tlen);
	CHECK(taddr >= BASE && taddr - BASE + tlen == used);
	if (!(taddr >= BASE && taddr - BASE + tlen == used)) {
		w->bad++;
		return;
	}
	t = p + (taddr - BASE);
	end = t + tlen;
	while (t < end) {
		const uint8_t *s;

		if (end - t < 4 || t[1] < 4 || t[1] > end - t ||
		    w->n == (int)ARRAY_SIZE(w->s)) {
			w->bad++;
			return;
		}
		/* Strings end at a double NUL. */
		for (s = t + t[1]; s + 1 < end && (s[0] || s[1]); s++)
			;
		if (s + 1 >= end) {
			w->bad++;
			return;
		}
		CHECK_EQ(fw_get16(t + 2), w->n); /* handles in order */
		w->s[w->n].p = t;
		w->s[w->n].str = t + t[1];
		w->s[w->n].size = (size_t)(s + 2 - t);
		if (w->s[w->n].size > w->maxsize)
			w->maxsize = (uint16_t)w->s[w->n].size;
		w->n++;
		t = s + 2;
	}
	CHECK(t == end);
	CHECK_EQ(fw_get16(ep2 + 0x1c), w->n);
	CHECK_EQ(fw_get16(ep2 + 8), w->maxsize);
}

static int build(struct fwfx_buf *b, const struct fw_machine *m,
    size_t *used)
{
	if (fwfx_alloc(b, CAP) == NULL)
		return -ENOMEM;
	return smbios_build(m, b->p, BASE, CAP, used);
}

TEST(smbios_structures)
{
	struct fw_machine m;
	struct fwfx_buf b;
	struct sm_seen w;
	const struct sm_struct *s;
	size_t used = 0;

	config_init();
	config_set(NULL, "name", "vm1");
	fwfx_machine(&m, 2, 4, 2, false);
	m.highmem = 2ULL << 30;
	CHECK_EQ(build(&b, &m, &used), 0);
	walk(failed, b.p, used, &w);
	CHECK_EQ(w.bad, 0);
	/* 0, 1, 2, 3, two 4s, 16, 17, two 19s, 32, 127 */
	CHECK_EQ(w.n, 12);
	s = sm_find(&w, 0, 0);
	CHECK(s != NULL && s->p[1] == 0x18);
	if (s != NULL) {
		CHECK_STR(sm_string(s, s->p[4]), "khyve");
		CHECK_EQ(s->p[0x13] & 0x10, 0x10); /* a virtual machine */
	}
	CHECK(sm_find(&w, 4, 1) != NULL && sm_find(&w, 4, 2) == NULL);
	s = sm_find(&w, 4, 1);
	if (s != NULL) {
		CHECK_EQ(s->p[1], 0x30);
		CHECK_STR(sm_string(s, s->p[4]), "CPU #1");
		CHECK_STR(sm_string(s, s->p[7]), "GenuineIntel");
		CHECK_EQ(s->p[0x23], 4); /* cores per socket */
		CHECK_EQ(s->p[0x25], 8); /* threads per socket */
		CHECK_EQ(fw_get16(s->p + 0x2a), 4);
		CHECK_EQ(fw_get32(s->p + 8), 0x000906ea);
	}
	s = sm_find(&w, 16, 0);
	if (s != NULL)
		CHECK_EQ(fw_get32(s->p + 7), (256 + 2048) * 1024);
	s = sm_find(&w, 17, 0);
	if (s != NULL) {
		CHECK_EQ(fw_get16(s->p + 4), fw_get16(sm_find(&w, 16, 0)->p + 2));
		CHECK_EQ(fw_get16(s->p + 0x0c), 256 + 2048);
	}
	/* Type 19: inclusive KiB ranges of low and high RAM. */
	s = sm_find(&w, 19, 0);
	if (s != NULL) {
		CHECK_EQ(fw_get32(s->p + 4), 0);
		CHECK_EQ(fw_get32(s->p + 8), 256 * 1024 - 1);
	}
	s = sm_find(&w, 19, 1);
	if (s != NULL) {
		CHECK_EQ(fw_get32(s->p + 4), 4 * 1024 * 1024);
		CHECK_EQ(fw_get32(s->p + 8), 6 * 1024 * 1024 - 1);
	}
	s = sm_find(&w, 2, 0);
	if (s != NULL) /* the chassis handle points at type 3 */
		CHECK_EQ(fw_get16(s->p + 0x0b),
		    fw_get16(sm_find(&w, 3, 0)->p + 2));
	CHECK(sm_find(&w, 32, 0) != NULL);
	CHECK(sm_find(&w, 127, 0) != NULL);
	fwfx_free(&b);
	config_fini();
}

/* -U and -B as a guest reads them back: the UUID's first three fields
 * little-endian, the strings where SMBIOS puts them. */
TEST(smbios_uuid_and_strings)
{
	static const char *const args[] = { "khyve", "-U",
		"6ba7b810-9dad-11d1-80b4-00c04fd430c8",
		"-B", "1,manufacturer=ACME Corp,serial=SN-42,family=Lab",
		"-B", "0,vendor=Firmware Inc", "-B", "3,asset_tag=A7", "vm" };
	static const uint8_t want[16] = { 0x10, 0xb8, 0xa7, 0x6b, 0xad, 0x9d,
		0xd1, 0x11, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
	struct fw_machine m;
	struct fwfx_buf b;
	struct sm_seen w;
	const struct sm_struct *s;
	size_t used = 0;
	int code = 0;

	config_init();
	CHECK_EQ(options_parse((int)ARRAY_SIZE(args), (char **)args, &code),
	    0);
	fwfx_machine(&m, 1, 1, 1, false);
	CHECK_EQ(build(&b, &m, &used), 0);
	walk(failed, b.p, used, &w);
	CHECK_EQ(w.bad, 0);
	s = sm_find(&w, 1, 0);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK(memcmp(s->p + 8, want, 16) == 0);
		CHECK_STR(sm_string(s, s->p[4]), "ACME Corp");
		CHECK_STR(sm_string(s, s->p[5]), "khyve");
		CHECK_STR(sm_string(s, s->p[7]), "SN-42");
		CHECK_STR(sm_string(s, s->p[0x1a]), "Lab");
	}
	s = sm_find(&w, 0, 0);
	if (s != NULL)
		CHECK_STR(sm_string(s, s->p[4]), "Firmware Inc");
	s = sm_find(&w, 3, 0);
	if (s != NULL)
		CHECK_STR(sm_string(s, s->p[8]), "A7");
	fwfx_free(&b);
	config_fini();
}

/* Without -U: the same host and VM name give the same UUID, another name
 * another one; RFC 9562 version 8, RFC variant. */
TEST(smbios_generated_uuid)
{
	struct fw_machine m;
	struct fwfx_buf b;
	struct sm_seen w;
	uint8_t u1[16] = { 0 }, u2[16] = { 0 }, u3[16] = { 0 };
	size_t used = 0;
	const char *names[3] = { "alpha", "alpha", "beta" };
	uint8_t *out[3] = { u1, u2, u3 };

	fwfx_machine(&m, 1, 1, 1, false);
	for (int i = 0; i < 3; i++) {
		config_init();
		config_set(NULL, "name", names[i]);
		CHECK_EQ(build(&b, &m, &used), 0);
		walk(failed, b.p, used, &w);
		if (sm_find(&w, 1, 0) != NULL)
			memcpy(out[i], sm_find(&w, 1, 0)->p + 8, 16);
		fwfx_free(&b);
		config_fini();
	}
	CHECK(memcmp(u1, u2, 16) == 0);
	CHECK(memcmp(u1, u3, 16) != 0);
	/* byte 7 holds time_hi's high byte (little-endian field) */
	CHECK_EQ(u1[7] >> 4, 8);
	CHECK_EQ(u1[8] >> 6, 2);
}

/* Values set with -o bypass -B's checks; they are checked here. */
TEST(smbios_bad_config)
{
	struct fw_machine m;
	struct fwfx_buf b;
	size_t used = 0;
	char longv[300];

	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	fwfx_machine(&m, 1, 1, 1, false);
	static const char *const bad[][2] = {
		{ "system.serial_number", "" },
		{ "bios.vendor", "a\tb" },
		{ "chassis.sku", NULL },
		{ "uuid", "not-a-uuid" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		config_init();
		config_set(NULL, bad[i][0], bad[i][1] ? bad[i][1] : longv);
		CHECK_EQ(build(&b, &m, &used), -EINVAL);
		fwfx_free(&b);
		config_fini();
	}
	/* No room: -ENOSPC at every size short of the need. */
	config_init();
	CHECK_EQ(build(&b, &m, &used), 0);
	fwfx_free(&b);
	for (size_t cap = 0; cap < used; cap += 1 + cap / 9) {
		size_t u2;

		if (fwfx_alloc(&b, cap) == NULL)
			break;
		CHECK_EQ(smbios_build(&m, b.p, BASE, cap, &u2), -ENOSPC);
		fwfx_free(&b);
	}
	config_fini();
}
