/*
 * gdb_packet.c - GDB remote protocol framing: decoder state machine,
 * reply encoder and hex helpers (see gdb_packet.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdb/gdb_packet.h"

enum { RX_IDLE, RX_DATA, RX_ESC, RX_RLE, RX_CSUM1, RX_CSUM2 };

/* Run-length counts are printable: ' ' (3 more copies) to '~' (97). */
#define RLE_MIN ' '
#define RLE_MAX '~'
#define RLE_BIAS 29

void gdb_rx_init(struct gdb_rx *rx)
{
	rx->state = RX_IDLE;
	rx->len = 0;
	rx->buf[0] = '\0';
}

static void rx_start(struct gdb_rx *rx)
{
	rx->state = RX_DATA;
	rx->sum = 0;
	rx->csum = 0;
	rx->csum_bad = false;
	rx->malformed = false;
	rx->toolong = false;
	rx->raw = 0;
	rx->len = 0;
}

static void rx_store(struct gdb_rx *rx, uint8_t c)
{
	if (rx->len >= GDB_PKT_MAX) {
		rx->toolong = true;
		return;
	}
	rx->buf[rx->len++] = c;
}

/* Account one raw payload byte: checksum, and the raw length bound. */
static void rx_count(struct gdb_rx *rx, uint8_t c)
{
	rx->sum = (uint8_t)(rx->sum + c);
	if (++rx->raw > GDB_PKT_RAW_MAX)
		rx->toolong = true;
}

static enum gdb_rx_event rx_finish(struct gdb_rx *rx)
{
	rx->state = RX_IDLE;
	rx->buf[rx->len < GDB_PKT_MAX ? rx->len : GDB_PKT_MAX] = '\0';
	if (rx->toolong)
		return GDB_RX_TOOLONG;
	if (rx->csum_bad || rx->csum != rx->sum)
		return GDB_RX_BADSUM;
	if (rx->malformed)
		return GDB_RX_MALFORMED;
	return GDB_RX_PACKET;
}

enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c)
{
	int v;

	switch (rx->state) {
	case RX_IDLE:
		switch (c) {
		case '$':
			rx_start(rx);
			return GDB_RX_NONE;
		case '+':
			return GDB_RX_ACK;
		case '-':
			return GDB_RX_NACK;
		case 0x03:
			return GDB_RX_INTERRUPT;
		default:
			return GDB_RX_JUNK;
		}
	case RX_DATA:
		if (c == '#') {
			rx->state = RX_CSUM1;
		} else if (c == '$') {
			rx_start(rx); /* resynchronise on a new start */
		} else {
			rx_count(rx, c);
			if (c == '}')
				rx->state = RX_ESC;
			else if (c == '*') {
				if (rx->len == 0)
					rx->malformed = true;
				rx->state = RX_RLE;
			} else
				rx_store(rx, c);
		}
		return GDB_RX_NONE;
	case RX_ESC:
		if (c == '#' || c == '$') {
			/* '}' must be followed by the escaped byte. */
			rx->malformed = true;
			if (c == '$')
				rx_start(rx);
			else
				rx->state = RX_CSUM1;
			return GDB_RX_NONE;
		}
		rx_count(rx, c);
		rx_store(rx, c ^ 0x20);
		rx->state = RX_DATA;
		return GDB_RX_NONE;
	case RX_RLE:
		if (c == '$') {
			rx_start(rx);
			return GDB_RX_NONE;
		}
		if (c == '#') {
			rx->malformed = true;
			rx->state = RX_CSUM1;
			return GDB_RX_NONE;
		}
		rx_count(rx, c);
		rx->state = RX_DATA;
		if (c < RLE_MIN || c > RLE_MAX || rx->len == 0) {
			rx->malformed = true;
			return GDB_RX_NONE;
		}
		for (int n = c - RLE_BIAS; n > 0 && !rx->toolong; n--)
			rx_store(rx, rx->buf[rx->len - 1]);
		return GDB_RX_NONE;
	case RX_CSUM1:
		v = gdb_hexval(c);
		rx->csum_bad = v < 0;
		rx->csum = (uint8_t)(v < 0 ? 0 : v << 4);
		rx->state = RX_CSUM2;
		return GDB_RX_NONE;
	case RX_CSUM2:
	default:
		v = gdb_hexval(c);
		if (v < 0)
			rx->csum_bad = true;
		else
			rx->csum |= (uint8_t)v;
		return rx_finish(rx);
	}
}

/* ---- encoder ---- */

void gdb_tx_init(struct gdb_tx *tx, size_t limit)
{
	memset(tx, 0, sizeof(*tx));
	tx->limit = limit;
}

void gdb_tx_free(struct gdb_tx *tx)
{
	free(tx->buf);
	tx->buf = NULL;
	tx->len = tx->cap = 0;
}

static bool tx_room(struct gdb_tx *tx, size_t n)
{
	size_t cap;
	uint8_t *nb;

	if (tx->overflow)
		return false;
	if (n <= tx->cap - tx->len)
		return true;
	if (n > tx->limit - tx->len || tx->len > tx->limit) {
		tx->overflow = true;
		return false;
	}
	cap = tx->cap ? tx->cap : 256;
	while (cap - tx->len < n)
		cap *= 2;
	if (cap > tx->limit)
		cap = tx->limit;
	nb = realloc(tx->buf, cap);
	if (nb == NULL) {
		tx->overflow = true;
		return false;
	}
	tx->buf = nb;
	tx->cap = cap;
	return true;
}

void gdb_tx_raw(struct gdb_tx *tx, const void *data, size_t len)
{
	if (!tx_room(tx, len))
		return;
	memcpy(tx->buf + tx->len, data, len);
	tx->len += len;
}

void gdb_tx_begin(struct gdb_tx *tx)
{
	tx->pkt_start = tx->len;
	tx->sum = 0;
	gdb_tx_raw(tx, "$", 1);
}

void gdb_tx_put(struct gdb_tx *tx, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i], esc[2] = { '}', (uint8_t)(c ^ 0x20) };

		if (c == '$' || c == '#' || c == '}' || c == '*') {
			gdb_tx_raw(tx, esc, 2);
			tx->sum = (uint8_t)(tx->sum + esc[0] + esc[1]);
		} else {
			gdb_tx_raw(tx, &c, 1);
			tx->sum = (uint8_t)(tx->sum + c);
		}
	}
}

void gdb_tx_str(struct gdb_tx *tx, const char *s)
{
	gdb_tx_put(tx, s, strlen(s));
}

void gdb_tx_fmt(struct gdb_tx *tx, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		gdb_tx_put(tx, buf, (size_t)n < sizeof(buf) ? (size_t)n :
		    sizeof(buf) - 1);
}

void gdb_tx_hex(struct gdb_tx *tx, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;
	char h[64];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		h[n++] = digits[p[i] >> 4];
		h[n++] = digits[p[i] & 0xf];
		if (n == sizeof(h)) {
			gdb_tx_put(tx, h, n);
			n = 0;
		}
	}
	gdb_tx_put(tx, h, n);
}

void gdb_tx_end(struct gdb_tx *tx)
{
	char tail[4];

	snprintf(tail, sizeof(tail), "#%02x", tx->sum);
	gdb_tx_raw(tx, tail, 3);
}

void gdb_tx_consume(struct gdb_tx *tx, size_t n)
{
	if (n >= tx->len) {
		tx->len = 0;
		tx->pkt_start = 0;
		return;
	}
	memmove(tx->buf, tx->buf + n, tx->len - n);
	tx->len -= n;
	tx->pkt_start = tx->pkt_start > n ? tx->pkt_start - n : 0;
}

/* ---- hex helpers ---- */

int gdb_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gdb_parse_hex(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *s = *p;
	uint64_t x = 0;
	int n = 0, d;

	while (s < end && (d = gdb_hexval(*s)) >= 0) {
		if (x >> 60)
			return -EINVAL; /* would overflow 64 bits */
		x = (x << 4) | (uint64_t)d;
		s++;
		n++;
	}
	if (n == 0)
		return -EINVAL;
	*v = x;
	*p = s;
	return 0;
}

int gdb_unhex(const uint8_t *src, size_t srclen, void *dst, size_t n)
{
	uint8_t *d = dst;

	if (srclen / 2 != n || srclen % 2 != 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = gdb_hexval(src[2 * i]), lo = gdb_hexval(src[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		d[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
