/*
 * fwcfg_qemu.c - QEMU's fw_cfg interface (see fwcfg.h for the protocol).
 *
 * Items live in a small array searched linearly (a few dozen at most).
 * FILE_DIR is rebuilt whenever a file is added, sorted by name as QEMU
 * keeps it.  The selector picks an item and rewinds the offset; the data
 * port and DMA reads share that offset.  A selector naming no item reads
 * as zeros.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "dev/fwcfg.h"

#define FWCFG_MAX_ITEMS (FWCFG_MAX_FILES + 32)
#define DMA_DESC_LEN 16

struct fwcfg_item {
	uint16_t key;
	uint32_t len;
	uint8_t *data;
	char name[FWCFG_NAME_MAX]; /* files only */
};

struct fwcfg {
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	struct fwcfg_item items[FWCFG_MAX_ITEMS];
	int nitems, nfiles;
	uint16_t selector;
	uint32_t offset;
	uint32_t dma_hi; /* high half of the DMA address, as written */
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static struct fwcfg_item *find(struct fwcfg *f, uint16_t key)
{
	for (int i = 0; i < f->nitems; i++)
		if (f->items[i].key == key)
			return &f->items[i];
	return NULL;
}

static int set_item(struct fwcfg *f, uint16_t key, const void *data,
    uint32_t len, const char *name)
{
	struct fwcfg_item *it = find(f, key);
	uint8_t *copy;

	if (len > FWCFG_ITEM_MAX)
		return -EINVAL;
	if (it == NULL && f->nitems >= FWCFG_MAX_ITEMS)
		return -ENOSPC;
	copy = malloc(len ? len : 1);
	if (copy == NULL)
		return -ENOMEM;
	if (len)
		memcpy(copy, data, len);
	if (it == NULL) {
		it = &f->items[f->nitems++];
		memset(it, 0, sizeof(*it));
		it->key = key;
	}
	free(it->data);
	it->data = copy;
	it->len = len;
	if (name != NULL)
		snprintf(it->name, sizeof(it->name), "%s", name);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	const struct fwcfg_item *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* FILE_DIR: be32 count, then { be32 size, be16 key, u16 0, name[56] }. */
static int rebuild_dir(struct fwcfg *f)
{
	const struct fwcfg_item *files[FWCFG_MAX_FILES];
	uint32_t len = 4 + 64 * (uint32_t)f->nfiles;
	uint8_t *d = calloc(1, len);
	int n = 0, rc;

	if (d == NULL)
		return -ENOMEM;
	for (int i = 0; i < f->nitems && n < FWCFG_MAX_FILES; i++)
		if (f->items[i].key >= FWCFG_FILE_FIRST &&
		    f->items[i].key < FWCFG_FILE_FIRST + FWCFG_MAX_FILES)
			files[n++] = &f->items[i];
	qsort(files, (size_t)n, sizeof(files[0]), cmp_name);
	put_be32(d, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		uint8_t *e = d + 4 + 64 * i;

		put_be32(e, files[i]->len);
		e[4] = (uint8_t)(files[i]->key >> 8);
		e[5] = (uint8_t)files[i]->key;
		memcpy(e + 8, files[i]->name, FWCFG_NAME_MAX);
	}
	rc = set_item(f, FWCFG_FILE_DIR, d, len, NULL);
	free(d);
	return rc;
}

struct fwcfg *fwcfg_create(const struct guest_mem *mem)
{
	struct fwcfg *f = calloc(1, sizeof(*f));
	uint32_t id = FWCFG_ID_TRAD | FWCFG_ID_DMA;

	if (f == NULL)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	f->mem = mem;
	if (set_item(f, FWCFG_SIGNATURE, "QEMU", 4, NULL) != 0 ||
	    set_item(f, FWCFG_ID, &id, 4, NULL) != 0 || rebuild_dir(f) != 0) {
		fwcfg_destroy(f);
		return NULL;
	}
	return f;
}

void fwcfg_destroy(struct fwcfg *f)
{
	if (f == NULL)
		return;
	for (int i = 0; i < f->nitems; i++)
		free(f->items[i].data);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int fwcfg_add_item(struct fwcfg *f, uint16_t key, const void *data,
    uint32_t len)
{
	int rc;

	/* Files and the directory are fwcfg_add_file()'s. */
	if (key == FWCFG_FILE_DIR || (key & 0x3fff) >= FWCFG_FILE_FIRST)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	rc = find(f, key) != NULL ? -EEXIST : set_item(f, key, data, len, NULL);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data,
    uint32_t len)
{
	size_t nlen = name != NULL ? strnlen(name, FWCFG_NAME_MAX) : 0;
	int rc = 0;

	if (nlen == 0 || nlen >= FWCFG_NAME_MAX)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->nitems; i++)
		if (f->items[i].key >= FWCFG_FILE_FIRST &&
		    strcmp(f->items[i].name, name) == 0)
			rc = -EEXIST;
	if (rc == 0 && f->nfiles >= FWCFG_MAX_FILES)
		rc = -ENOSPC;
	if (rc == 0)
		rc = set_item(f, (uint16_t)(FWCFG_FILE_FIRST + f->nfiles), data,
		    len, name);
	if (rc == 0) {
		f->nfiles++;
		rc = rebuild_dir(f);
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* f->lock held.  The next byte of the selected item, 0 past its end. */
static uint8_t data_byte(struct fwcfg *f)
{
	struct fwcfg_item *it = find(f, f->selector);

	if (it == NULL || f->offset >= it->len)
		return 0;
	return it->data[f->offset++];
}

/*
 * f->lock held.  Run the descriptor at guest address `desc`: read it,
 * select, read or skip, and write the control word back (0, or ERROR).
 * An unreachable descriptor is ignored (there is nowhere to report).
 */
static void dma_run(struct fwcfg *f, uint64_t desc)
{
	uint8_t d[DMA_DESC_LEN], done[4] = { 0 };
	uint32_t ctl, len, avail = 0, n;
	uint64_t addr;
	struct fwcfg_item *it;
	uint8_t *dst;

	if (f->mem == NULL || gmem_read(f->mem, desc, d, sizeof(d)) != 0)
		return;
	ctl = get_be32(d);
	len = get_be32(d + 4);
	addr = (uint64_t)get_be32(d + 8) << 32 | get_be32(d + 12);
	if (ctl & FWCFG_DMA_SELECT) {
		f->selector = (uint16_t)(ctl >> 16);
		f->offset = 0;
	}
	it = find(f, f->selector);
	if (it != NULL && f->offset < it->len)
		avail = it->len - f->offset;
	n = len < avail ? len : avail;
	if (ctl & FWCFG_DMA_WRITE) {
		/* No item of ours is writable. */
		put_be32(done, FWCFG_DMA_ERROR);
	} else if (ctl & FWCFG_DMA_READ) {
		/* The whole destination must be guest RAM (gmem_ptr checks
		 * the range does not wrap); past the item's end it reads 0. */
		if (len != 0 && (dst = gmem_ptr(f->mem, addr, len)) == NULL) {
			put_be32(done, FWCFG_DMA_ERROR);
		} else if (len != 0) {
			if (n)
				memcpy(dst, it->data + f->offset, n);
			memset(dst + n, 0, len - n);
			f->offset += n;
		}
	} else if (ctl & FWCFG_DMA_SKIP) {
		f->offset += n;
	}
	(void)gmem_write(f->mem, desc, done, sizeof(done));
}

void fwcfg_io(struct fwcfg *f, bool write, uint64_t offset, int size,
    uint64_t *val)
{
	static const char dma_sig[8] = "QEMU CFG";
	uint64_t out = 0;

	pthread_mutex_lock(&f->lock);
	if (offset == 0 && size == 2) { /* selector */
		if (write) {
			f->selector = (uint16_t)*val;
			f->offset = 0;
		} else {
			out = f->selector;
		}
	} else if (offset == 1 && !write) { /* data: bytes in order */
		for (int i = 0; i < size && i < 8; i++)
			out |= (uint64_t)data_byte(f) << (8 * i);
	} else if (offset >= 4 && offset + (uint64_t)size <= 12) {
		if (!write) {
			for (int i = 0; i < size; i++)
				out |= (uint64_t)(uint8_t)dma_sig[offset - 4 +
				    (uint64_t)i] << (8 * i);
		} else if (offset == 4 && size == 4) {
			/* The bytes are big-endian; outl saw them LE. */
			f->dma_hi = __builtin_bswap32((uint32_t)*val);
		} else if (offset == 8 && size == 4) {
			dma_run(f, (uint64_t)f->dma_hi << 32 |
			    __builtin_bswap32((uint32_t)*val));
			f->dma_hi = 0;
		}
	}
	/* Anything else (data writes, odd widths) is ignored, as QEMU does. */
	pthread_mutex_unlock(&f->lock);
	if (!write)
		*val = out;
}
