/*
 * aml.c - the AML byte-code builder (aml.h).  Encodings follow the ACPI
 * 6.x specification, chapter 20 (AML grammar) and section 6.4 (resource
 * descriptors).
 *
 * Objects with a body are emitted opcode first; the body follows, and
 * aml_end() inserts the PkgLength between them once the body's size is
 * known (a memmove of the body, which is small: the whole DSDT is a few
 * KiB).  Invariant: open[i].start <= len for every open object, and
 * objects close in LIFO order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "firmware/aml.h"

#define ZERO_OP 0x00
#define ONE_OP 0x01
#define NAME_OP 0x08
#define BYTE_PREFIX 0x0a
#define WORD_PREFIX 0x0b
#define DWORD_PREFIX 0x0c
#define STRING_PREFIX 0x0d
#define QWORD_PREFIX 0x0e
#define SCOPE_OP 0x10
#define BUFFER_OP 0x11
#define PACKAGE_OP 0x12
#define METHOD_OP 0x14
#define DUAL_NAME_PREFIX 0x2e
#define MULTI_NAME_PREFIX 0x2f
#define EXT_OP_PREFIX 0x5b
#define DEVICE_OP 0x82 /* after EXT_OP_PREFIX */
#define ROOT_CHAR 0x5c
#define PARENT_PREFIX 0x5e
#define LOCAL0_OP 0x60
#define ARG0_OP 0x68
#define STORE_OP 0x70
#define IF_OP 0xa0
#define ELSE_OP 0xa1
#define RETURN_OP 0xa4

/* Resource descriptor tags (ACPI 6.x, 6.4.2 and 6.4.3). */
#define RES_IRQ_NOFLAGS 0x22
#define RES_IO 0x47
#define RES_END 0x79
#define RES_MEM32_FIXED 0x86
#define RES_DWORD_ADDR 0x87
#define RES_WORD_ADDR 0x88
#define RES_QWORD_ADDR 0x8a

#define ADDR_TYPE_MEM 0
#define ADDR_TYPE_IO 1
#define ADDR_TYPE_BUS 2
/* General flags: producer (bit 0 clear), positive decode, min and max
 * fixed: a bridge window (ResourceProducer, PosDecode, MinFixed,
 * MaxFixed). */
#define ADDR_GEN_WINDOW 0x0c
#define ADDR_IO_ENTIRE_RANGE 0x03
#define ADDR_MEM_RW 0x01
#define ADDR_MEM_CACHEABLE 0x02

#define NAMESEG_MAX 255 /* MultiNamePrefix's SegCount is one byte */

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	aml_init(a);
}

int aml_finish(struct aml *a, const uint8_t **out, size_t *len)
{
	if (a->err == 0 && a->depth != 0)
		a->err = -EINVAL;
	if (a->err != 0)
		return a->err;
	*out = a->buf;
	*len = a->len;
	return 0;
}

static bool reserve(struct aml *a, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (a->err != 0)
		return false;
	if (n <= a->cap - a->len)
		return true;
	if (n > SIZE_MAX / 4 - a->len) {
		a->err = -E2BIG;
		return false;
	}
	cap = MAX(a->cap * 2, a->len + n + 256);
	p = realloc(a->buf, cap);
	if (p == NULL) {
		a->err = -ENOMEM;
		return false;
	}
	a->buf = p;
	a->cap = cap;
	return true;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (n == 0 || !reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void le(struct aml *a, uint64_t v, int n)
{
	uint8_t b[8];

	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, (size_t)n);
}

static void fail(struct aml *a, int err)
{
	if (a->err == 0)
		a->err = err;
}

/* ---- PkgLength and object nesting ---- */

int aml_pkglen_encode(size_t body, uint8_t out[4])
{
	/* The encoded value counts the PkgLength bytes themselves. */
	if (body + 1 <= 0x3f) {
		out[0] = (uint8_t)(body + 1);
		return 1;
	}
	for (int n = 2; n <= 4; n++) {
		size_t v = body + (size_t)n;

		if (v < (1ULL << (4 + 8 * (n - 1)))) {
			out[0] = (uint8_t)((n - 1) << 6 | (v & 0x0f));
			for (int i = 1; i < n; i++)
				out[i] = (uint8_t)(v >> (4 + 8 * (i - 1)));
			return n;
		}
	}
	return 0;
}

static void open_obj(struct aml *a, bool buffer)
{
	if (a->err != 0)
		return;
	if (a->depth >= AML_MAX_DEPTH) {
		fail(a, -EINVAL);
		return;
	}
	a->open[a->depth].start = a->len;
	a->open[a->depth].buffer = buffer;
	a->depth++;
}

/* Insert `n` bytes at offset `at`, shifting the tail. */
static void insert(struct aml *a, size_t at, const uint8_t *p, size_t n)
{
	if (!reserve(a, n))
		return;
	memmove(a->buf + at + n, a->buf + at, a->len - at);
	memcpy(a->buf + at, p, n);
	a->len += n;
}

void aml_end(struct aml *a)
{
	uint8_t hdr[4 + 9];
	size_t start, body, nsize = 0;
	int n;

	if (a->err != 0)
		return;
	if (a->depth == 0) {
		fail(a, -EINVAL);
		return;
	}
	a->depth--;
	start = a->open[a->depth].start;
	body = a->len - start;
	if (a->open[a->depth].buffer) {
		/* BufferSize is a TermArg in front of the byte list. */
		struct aml sz;

		aml_init(&sz);
		aml_int(&sz, body);
		if (sz.err != 0 || sz.len > 9) {
			fail(a, sz.err ? sz.err : -E2BIG);
			aml_free(&sz);
			return;
		}
		nsize = sz.len;
		memcpy(hdr + 4, sz.buf, nsize);
		aml_free(&sz);
	}
	n = aml_pkglen_encode(body + nsize, hdr);
	if (n == 0) {
		fail(a, -E2BIG);
		return;
	}
	if (nsize != 0)
		memmove(hdr + n, hdr + 4, nsize);
	insert(a, start, hdr, (size_t)n + nsize);
}

/* ---- names ---- */

static bool seg_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' &&
	    c <= '9');
}

void aml_namestring(struct aml *a, const char *path)
{
	const char *p = path, *seg;
	uint8_t segs[NAMESEG_MAX][4];
	unsigned nseg = 0;

	if (a->err != 0)
		return;
	if (path == NULL) {
		fail(a, -EINVAL);
		return;
	}
	if (*p == '\\') {
		aml_byte(a, ROOT_CHAR);
		p++;
	} else {
		while (*p == '^') {
			aml_byte(a, PARENT_PREFIX);
			p++;
		}
	}
	if (*p == '\0') {
		/* "\" alone is the root itself (a NullName); "" and "^" name
		 * nothing. */
		if (p == path + 1 && path[0] == '\\')
			aml_byte(a, 0x00);
		else
			fail(a, -EINVAL);
		return;
	}
	for (;;) {
		size_t n = 0;

		seg = p;
		while (*p != '\0' && *p != '.')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || n > 4 || nseg == NAMESEG_MAX) {
			fail(a, -EINVAL);
			return;
		}
		for (size_t i = 0; i < 4; i++) {
			char c = i < n ? seg[i] : '_';

			if (!seg_char(c, i == 0)) {
				fail(a, -EINVAL);
				return;
			}
			segs[nseg][i] = (uint8_t)c;
		}
		nseg++;
		if (*p == '\0')
			break;
		p++; /* '.'; an empty segment after it fails above */
	}
	if (nseg == 2)
		aml_byte(a, DUAL_NAME_PREFIX);
	else if (nseg > 2) {
		aml_byte(a, MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nseg);
	}
	aml_bytes(a, segs, 4 * (size_t)nseg);
}

/* ---- data ---- */

void aml_int(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, ZERO_OP);
	else if (v == 1)
		aml_byte(a, ONE_OP);
	else if (v <= 0xff) {
		aml_byte(a, BYTE_PREFIX);
		le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, WORD_PREFIX);
		le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, DWORD_PREFIX);
		le(a, v, 4);
	} else {
		aml_byte(a, QWORD_PREFIX);
		le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	if (s == NULL) {
		fail(a, -EINVAL);
		return;
	}
	for (const char *p = s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e) {
			fail(a, -EINVAL);
			return;
		}
	aml_byte(a, STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint32_t aml_eisaid_value(const char *id)
{
	uint32_t v = 0;

	if (id == NULL || strlen(id) != 7)
		return 0;
	/* Three letters of five bits each ('A' = 1), then 16 bits of hex. */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		v = v << 5 | (uint32_t)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		int d = hexdigit(id[i]);

		if (d < 0)
			return 0;
		v = v << 4 | (uint32_t)d;
	}
	/* The ID is stored most significant byte first. */
	return __builtin_bswap32(v);
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = aml_eisaid_value(id);

	if (v == 0) {
		fail(a, -EINVAL);
		return;
	}
	/* Always a DWord, as ASL's EisaId() compiles. */
	aml_byte(a, DWORD_PREFIX);
	le(a, v, 4);
}

/* ---- named objects and statements ---- */

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, NAME_OP);
	aml_namestring(a, path);
}

void aml_name_int(struct aml *a, const char *path, uint64_t v)
{
	aml_name(a, path);
	aml_int(a, v);
}

void aml_name_string(struct aml *a, const char *path, const char *s)
{
	aml_name(a, path);
	aml_string(a, s);
}

void aml_name_eisaid(struct aml *a, const char *path, const char *id)
{
	aml_name(a, path);
	aml_eisaid(a, id);
}

void aml_scope(struct aml *a, const char *path)
{
	aml_byte(a, SCOPE_OP);
	open_obj(a, false);
	aml_namestring(a, path);
}

void aml_device(struct aml *a, const char *path)
{
	aml_byte(a, EXT_OP_PREFIX);
	aml_byte(a, DEVICE_OP);
	open_obj(a, false);
	aml_namestring(a, path);
}

void aml_method(struct aml *a, const char *path, int nargs, bool serialized)
{
	if (nargs < 0 || nargs > 7) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, METHOD_OP);
	open_obj(a, false);
	aml_namestring(a, path);
	aml_byte(a, (uint8_t)(nargs | (serialized ? 0x08 : 0)));
}

void aml_if(struct aml *a)
{
	aml_byte(a, IF_OP);
	open_obj(a, false);
}

void aml_else(struct aml *a)
{
	aml_byte(a, ELSE_OP);
	open_obj(a, false);
}

void aml_package(struct aml *a, unsigned n)
{
	if (n > 255) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, PACKAGE_OP);
	open_obj(a, false);
	aml_byte(a, (uint8_t)n);
}

void aml_buffer(struct aml *a)
{
	aml_byte(a, BUFFER_OP);
	open_obj(a, true);
}

void aml_return(struct aml *a)
{
	aml_byte(a, RETURN_OP);
}

void aml_store(struct aml *a)
{
	aml_byte(a, STORE_OP);
}

void aml_arg(struct aml *a, int n)
{
	if (n < 0 || n > 6) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, (uint8_t)(ARG0_OP + n));
}

void aml_local(struct aml *a, int n)
{
	if (n < 0 || n > 7) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, (uint8_t)(LOCAL0_OP + n));
}

/* ---- resource descriptors ---- */

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
    uint8_t len)
{
	aml_byte(a, RES_IO);
	aml_byte(a, 0x01); /* decodes 16 address bits */
	le(a, min, 2);
	le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_res_irq_noflags(struct aml *a, unsigned irq)
{
	if (irq > 15) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, RES_IRQ_NOFLAGS);
	le(a, 1u << irq, 2);
}

void aml_res_mem32_fixed(struct aml *a, bool writable, uint32_t base,
    uint32_t len)
{
	aml_byte(a, RES_MEM32_FIXED);
	le(a, 9, 2);
	aml_byte(a, writable ? 1 : 0);
	le(a, base, 4);
	le(a, len, 4);
}

/* Word/DWord/QWord Address Space Descriptors share one layout with
 * fields of `w` bytes: granularity, min, max, translation, length. */
static void addr_desc(struct aml *a, uint8_t tag, int w, uint8_t type,
    uint8_t tflags, uint64_t min, uint64_t max)
{
	if (max < min) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, tag);
	le(a, 3 + 5 * (uint64_t)w, 2);
	aml_byte(a, type);
	aml_byte(a, ADDR_GEN_WINDOW);
	aml_byte(a, tflags);
	le(a, 0, w);       /* granularity */
	le(a, min, w);
	le(a, max, w);
	le(a, 0, w);       /* translation offset */
	le(a, max - min + 1, w);
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	addr_desc(a, RES_WORD_ADDR, 2, ADDR_TYPE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	addr_desc(a, RES_WORD_ADDR, 2, ADDR_TYPE_IO, ADDR_IO_ENTIRE_RANGE, min,
	    max);
}

void aml_res_dword_mem(struct aml *a, bool cacheable, uint32_t min,
    uint32_t max)
{
	addr_desc(a, RES_DWORD_ADDR, 4, ADDR_TYPE_MEM, ADDR_MEM_RW |
	    (cacheable ? ADDR_MEM_CACHEABLE : 0), min, max);
}

void aml_res_qword_mem(struct aml *a, bool cacheable, uint64_t min,
    uint64_t max)
{
	/* The length of [0, 2^64) does not fit; no window is that big. */
	if (min == 0 && max == UINT64_MAX) {
		fail(a, -EINVAL);
		return;
	}
	addr_desc(a, RES_QWORD_ADDR, 8, ADDR_TYPE_MEM, ADDR_MEM_RW |
	    (cacheable ? ADDR_MEM_CACHEABLE : 0), min, max);
}

void aml_res_end(struct aml *a)
{
	aml_byte(a, RES_END);
	aml_byte(a, 0x00); /* checksum 0: "treat as correct" */
}
