/*
 * fwctl.c - bhyve's fwctl interface (see fwcfg.h for the protocol; the
 * states are bhyve's: identify, then request/response pairs).
 *
 * Differences from bhyve, all for hostile guests: a request size under
 * the 12-byte header is dropped (bhyve exits), name bytes beyond the
 * 80-byte buffer are ignored, and responses are built into a fixed
 * buffer so no read can run past it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/fwcfg.h"

#define OP_GET 3
#define OP_GET_LEN 4
#define NAME_MAX_LEN 80 /* bhyve's FGET_STRSZ */
#define REQ_HDR 12
#define RESP_HDR 16
#define FWCTL_ENOENT 2
#define FWCTL_E2BIG 7

enum fwctl_state { IDENT_WAIT, IDENT_SEND, REQ, RESP };

struct fwctl {
	pthread_mutex_t lock;
	enum fwctl_state state;
	unsigned ident_idx;
	uint32_t ncpus;
	/* Request being received. */
	unsigned req_words;   /* header words seen (0..3) */
	uint32_t req_left;    /* payload bytes still expected */
	uint32_t op, txid;
	char name[NAME_MAX_LEN + 4];
	uint32_t name_len;    /* payload bytes received */
	bool too_big;
	/* Response being sent: header + data words. */
	uint32_t resp[RESP_HDR / 4 + 4];
	unsigned resp_words, resp_idx;
};

struct fwctl *fwctl_create(uint32_t ncpus)
{
	struct fwctl *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->ncpus = ncpus;
	c->state = IDENT_WAIT;
	return c;
}

void fwctl_destroy(struct fwctl *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* c->lock held: the request is complete; build the response. */
static void respond(struct fwctl *c)
{
	uint32_t err = 0, nwords = 0, data[4] = { 0 };

	c->name[NAME_MAX_LEN] = '\0';
	if (c->op != OP_GET && c->op != OP_GET_LEN) {
		err = FWCTL_ENOENT;
	} else if (c->too_big) {
		err = FWCTL_E2BIG;
	} else if (strcmp(c->name, "hw.ncpu") != 0) {
		err = FWCTL_ENOENT;
	} else {
		/* bhyve sends a size_t (8 bytes) and, for GET, the value. */
		data[0] = sizeof(uint32_t);
		nwords = 2;
		if (c->op == OP_GET)
			data[nwords++] = c->ncpus;
	}
	c->resp[0] = RESP_HDR + 4 * nwords;
	c->resp[1] = c->op;
	c->resp[2] = c->txid;
	c->resp[3] = err;
	memcpy(&c->resp[4], data, 4 * nwords);
	c->resp_words = 4 + nwords;
	c->resp_idx = 0;
	c->state = RESP;
}

/* c->lock held: one 32-bit word of a request. */
static void request_word(struct fwctl *c, uint32_t v)
{
	switch (c->req_words) {
	case 0:
		if (v < REQ_HDR)
			return; /* no header fits: drop it, wait for another */
		c->req_left = v - REQ_HDR;
		c->name_len = 0;
		c->too_big = c->req_left > NAME_MAX_LEN;
		memset(c->name, 0, sizeof(c->name));
		c->req_words = 1;
		return;
	case 1:
		c->op = v;
		c->req_words = 2;
		return;
	case 2:
		c->txid = v;
		c->req_words = 3;
		break;
	default:
		if (c->name_len + 4 <= NAME_MAX_LEN)
			memcpy(c->name + c->name_len, &v, 4);
		c->name_len += c->name_len < NAME_MAX_LEN ? 4 : 0;
		c->req_left = c->req_left > 4 ? c->req_left - 4 : 0;
		break;
	}
	if (c->req_left == 0) {
		c->req_words = 0;
		respond(c);
	}
}

void fwctl_io(struct fwctl *c, bool write, uint64_t offset, int size,
    uint64_t *val)
{
	uint64_t out = write ? 0 : (size == 1 ? 0xff : 0xffffffff);

	(void)offset; /* bhyve decodes by width, not by port */
	pthread_mutex_lock(&c->lock);
	if (write && size == 2 && (uint16_t)*val == 0) {
		/* The guest may not know our state: start over. */
		c->state = IDENT_SEND;
		c->ident_idx = 0;
		c->req_words = 0;
	} else if (write && size == 4 && c->state == REQ) {
		request_word(c, (uint32_t)*val);
	} else if (!write && size == 1 && c->state == IDENT_SEND) {
		out = (uint8_t)"BHYV"[c->ident_idx++];
		if (c->ident_idx >= 4)
			c->state = REQ;
	} else if (!write && size == 4 && c->state == RESP) {
		out = c->resp[c->resp_idx++];
		if (c->resp_idx >= c->resp_words)
			c->state = REQ;
	}
	pthread_mutex_unlock(&c->lock);
	if (!write)
		*val = out;
}
