/*
 * qloader.c - QEMU's BIOS linker/loader script (see qloader.h): the
 * builder khyve's fw_cfg uses, and an interpreter for tests.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/fwtables.h"
#include "firmware/qloader.h"

/* Argument offsets inside an entry (after the 4-byte command word). */
#define E_CMD 0
#define E_NAME1 4
#define E_NAME2 (E_NAME1 + QLOADER_NAME_LEN)
#define E_ALLOC_ALIGN E_NAME2                      /* 60 */
#define E_ALLOC_ZONE (E_ALLOC_ALIGN + 4)            /* 64 */
#define E_PTR_OFFSET (E_NAME2 + QLOADER_NAME_LEN)   /* 116 */
#define E_PTR_SIZE (E_PTR_OFFSET + 4)               /* 120 */
#define E_CSUM_OFFSET E_NAME2                       /* 60 */
#define E_CSUM_START (E_CSUM_OFFSET + 4)            /* 64 */
#define E_CSUM_LENGTH (E_CSUM_START + 4)            /* 68 */

void qloader_init(struct qloader *l)
{
	memset(l, 0, sizeof(*l));
}

void qloader_free(struct qloader *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

static bool good_name(const char *n)
{
	size_t len = n != NULL ? strnlen(n, QLOADER_NAME_LEN) : 0;

	return len > 0 && len < QLOADER_NAME_LEN;
}

/* A zeroed entry for `cmd`, or NULL (error recorded). */
static uint8_t *entry(struct qloader *l, uint32_t cmd)
{
	uint8_t *e;

	if (l->err != 0)
		return NULL;
	if (l->len + QLOADER_ENTRY_LEN > l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16 * QLOADER_ENTRY_LEN;
		uint8_t *n = realloc(l->buf, cap);

		if (n == NULL) {
			l->err = -ENOMEM;
			return NULL;
		}
		l->buf = n;
		l->cap = cap;
	}
	e = l->buf + l->len;
	memset(e, 0, QLOADER_ENTRY_LEN);
	fw_put32(e + E_CMD, cmd);
	l->len += QLOADER_ENTRY_LEN;
	return e;
}

static void fail(struct qloader *l)
{
	if (l->err == 0)
		l->err = -EINVAL;
}

void qloader_allocate(struct qloader *l, const char *file, uint32_t align,
    uint8_t zone)
{
	uint8_t *e;

	if (!good_name(file) || align == 0 || (align & (align - 1)) != 0 ||
	    (zone != QLOADER_ZONE_HIGH && zone != QLOADER_ZONE_FSEG)) {
		fail(l);
		return;
	}
	if ((e = entry(l, QLOADER_ALLOCATE)) == NULL)
		return;
	memcpy(e + E_NAME1, file, strlen(file));
	fw_put32(e + E_ALLOC_ALIGN, align);
	e[E_ALLOC_ZONE] = zone;
}

void qloader_add_pointer(struct qloader *l, const char *dest,
    const char *src, uint32_t offset, uint8_t size)
{
	uint8_t *e;

	if (!good_name(dest) || !good_name(src) ||
	    (size != 1 && size != 2 && size != 4 && size != 8)) {
		fail(l);
		return;
	}
	if ((e = entry(l, QLOADER_ADD_POINTER)) == NULL)
		return;
	memcpy(e + E_NAME1, dest, strlen(dest));
	memcpy(e + E_NAME2, src, strlen(src));
	fw_put32(e + E_PTR_OFFSET, offset);
	e[E_PTR_SIZE] = size;
}

void qloader_add_checksum(struct qloader *l, const char *file,
    uint32_t offset, uint32_t start, uint32_t length)
{
	uint8_t *e;

	/* The checksum byte lies in the range it makes sum to 0. */
	if (!good_name(file) || length == 0 || start > UINT32_MAX - length ||
	    offset < start || offset - start >= length) {
		fail(l);
		return;
	}
	if ((e = entry(l, QLOADER_ADD_CHECKSUM)) == NULL)
		return;
	memcpy(e + E_NAME1, file, strlen(file));
	fw_put32(e + E_CSUM_OFFSET, offset);
	fw_put32(e + E_CSUM_START, start);
	fw_put32(e + E_CSUM_LENGTH, length);
}

int qloader_finish(struct qloader *l, const uint8_t **out, size_t *len)
{
	if (l->err != 0)
		return l->err;
	*out = l->buf;
	*len = l->len;
	return 0;
}

/* ---- the interpreter ---- */

/* The file named by the NUL-terminated field at `n`, or NULL. */
static struct qloader_file *lookup(const uint8_t *n, struct qloader_file *f,
    int nfiles)
{
	if (memchr(n, 0, QLOADER_NAME_LEN) == NULL)
		return NULL;
	for (int i = 0; i < nfiles; i++)
		if (strcmp((const char *)n, f[i].name) == 0)
			return &f[i];
	return NULL;
}

int qloader_run(const uint8_t *script, size_t len, struct qloader_file *files,
    int nfiles)
{
	if (len % QLOADER_ENTRY_LEN != 0)
		return -EINVAL;
	for (int i = 0; i < nfiles; i++)
		files[i].allocated = 0;
	for (size_t at = 0; at < len; at += QLOADER_ENTRY_LEN) {
		const uint8_t *e = script + at;
		struct qloader_file *d = lookup(e + E_NAME1, files, nfiles), *s;
		uint32_t off, start, length;
		uint64_t v = 0;
		uint8_t size;

		switch (fw_get32(e + E_CMD)) {
		case QLOADER_ALLOCATE:
			if (d == NULL)
				return -EINVAL;
			d->allocated = 1;
			break;
		case QLOADER_ADD_POINTER:
			s = lookup(e + E_NAME2, files, nfiles);
			off = fw_get32(e + E_PTR_OFFSET);
			size = e[E_PTR_SIZE];
			if (d == NULL || s == NULL || !d->allocated ||
			    !s->allocated || (size != 1 && size != 2 &&
			    size != 4 && size != 8) || off > d->len ||
			    size > d->len - off)
				return -EINVAL;
			for (int b = 0; b < size; b++)
				v |= (uint64_t)d->data[off + b] << (8 * b);
			v += s->addr;
			for (int b = 0; b < size; b++)
				d->data[off + b] = (uint8_t)(v >> (8 * b));
			break;
		case QLOADER_ADD_CHECKSUM:
			off = fw_get32(e + E_CSUM_OFFSET);
			start = fw_get32(e + E_CSUM_START);
			length = fw_get32(e + E_CSUM_LENGTH);
			if (d == NULL || !d->allocated || off >= d->len ||
			    start > d->len || length > d->len - start)
				return -EINVAL;
			d->data[off] = (uint8_t)(d->data[off] -
			    fw_sum(d->data + start, length));
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}
