/* test_gdb_packet.c - GDB remote protocol framing (gdb/gdb_packet.c):
 * checksums, escapes, run lengths, oversized packets, junk, the encoder
 * and the hex helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "gdb/gdb_packet.h"
#include "test.h"

/* Feed n bytes; return the last event that was not NONE/JUNK (or NONE)
 * and count the junk. */
static enum gdb_rx_event feed(struct gdb_rx *rx, const void *data, size_t n,
    int *junk)
{
	const uint8_t *p = data;
	enum gdb_rx_event last = GDB_RX_NONE;

	for (size_t i = 0; i < n; i++) {
		enum gdb_rx_event e = gdb_rx_byte(rx, p[i]);

		if (e == GDB_RX_JUNK) {
			if (junk)
				(*junk)++;
		} else if (e != GDB_RX_NONE)
			last = e;
	}
	return last;
}

/* Frame a raw payload (already escaped) with its checksum. */
static size_t frame(char *out, size_t cap, const void *raw, size_t n)
{
	const uint8_t *p = raw;
	uint8_t sum = 0;
	size_t len;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	out[0] = '$';
	memcpy(out + 1, raw, n);
	len = 1 + n;
	len += (size_t)snprintf(out + len, cap - len, "#%02x", sum);
	return len;
}

static enum gdb_rx_event feed_framed(struct gdb_rx *rx, const void *raw,
    size_t n)
{
	size_t cap = n + 8;
	char *buf = malloc(cap);
	enum gdb_rx_event e;

	e = feed(rx, buf, frame(buf, cap, raw, n), NULL);
	free(buf);
	return e;
}

TEST(gdb_packet_checksum)
{
	struct gdb_rx rx;

	gdb_rx_init(&rx);
	CHECK_EQ(feed(&rx, "$g#67", 5, NULL), GDB_RX_PACKET);
	CHECK_EQ(rx.len, 1);
	CHECK_STR((char *)rx.buf, "g");
	CHECK_EQ(feed(&rx, "$OK#9A", 6, NULL), GDB_RX_PACKET); /* upper hex */
	CHECK_STR((char *)rx.buf, "OK");
	CHECK_EQ(feed(&rx, "$g#68", 5, NULL), GDB_RX_BADSUM);
	CHECK_EQ(feed(&rx, "$g#6z", 5, NULL), GDB_RX_BADSUM);
	CHECK_EQ(feed(&rx, "$g#z7", 5, NULL), GDB_RX_BADSUM);
	CHECK_EQ(feed(&rx, "$#00", 4, NULL), GDB_RX_PACKET); /* empty */
	CHECK_EQ(rx.len, 0);
	/* The state machine recovers after each bad one. */
	CHECK_EQ(feed(&rx, "$m0,4#fd", 8, NULL), GDB_RX_PACKET);
	CHECK_STR((char *)rx.buf, "m0,4");
}

TEST(gdb_packet_outside)
{
	struct gdb_rx rx;
	int junk = 0;

	gdb_rx_init(&rx);
	CHECK_EQ(gdb_rx_byte(&rx, '+'), GDB_RX_ACK);
	CHECK_EQ(gdb_rx_byte(&rx, '-'), GDB_RX_NACK);
	CHECK_EQ(gdb_rx_byte(&rx, 0x03), GDB_RX_INTERRUPT);
	CHECK_EQ(gdb_rx_byte(&rx, 'x'), GDB_RX_JUNK);
	CHECK_EQ(gdb_rx_byte(&rx, '#'), GDB_RX_JUNK);
	CHECK_EQ(gdb_rx_byte(&rx, 0xff), GDB_RX_JUNK);
	/* Junk then a packet: the packet still arrives. */
	CHECK_EQ(feed(&rx, "\x00\x01zz}*#$g#67", 12, &junk), GDB_RX_PACKET);
	CHECK_EQ(junk, 7);
	/* A '$' inside a packet starts over. */
	CHECK_EQ(feed(&rx, "$abc$g#67", 9, NULL), GDB_RX_PACKET);
	CHECK_STR((char *)rx.buf, "g");
	/* Ctrl-C inside a packet is payload, not an interrupt. */
	CHECK_EQ(feed(&rx, "$\x03#03", 5, NULL), GDB_RX_PACKET);
	CHECK_EQ(rx.buf[0], 0x03);
}

TEST(gdb_packet_escape)
{
	struct gdb_rx rx;

	gdb_rx_init(&rx);
	/* "}\x03" is '#', "}\x5d" is '}', "}\x04" '$', "}\x0a" '*'. */
	CHECK_EQ(feed_framed(&rx, "X}\x03}\x5d}\x04}\x0a", 9), GDB_RX_PACKET);
	CHECK_EQ(rx.len, 5);
	CHECK(memcmp(rx.buf, "X#}$*", 5) == 0);
	/* An escape that runs into the end is malformed. */
	CHECK_EQ(feed_framed(&rx, "X}", 2), GDB_RX_MALFORMED);
	/* ... and into a '$', which starts a new packet. */
	CHECK_EQ(feed(&rx, "$X}$g#67", 8, NULL), GDB_RX_PACKET);
	CHECK_STR((char *)rx.buf, "g");
}

TEST(gdb_packet_rle)
{
	struct gdb_rx rx;

	gdb_rx_init(&rx);
	CHECK_EQ(feed_framed(&rx, "0* ", 3), GDB_RX_PACKET); /* 3 more */
	CHECK_STR((char *)rx.buf, "0000");
	CHECK_EQ(feed_framed(&rx, "ab*\"c", 5), GDB_RX_PACKET); /* 5 more */
	CHECK_STR((char *)rx.buf, "abbbbbbc");
	CHECK_EQ(feed_framed(&rx, "x*~", 3), GDB_RX_PACKET); /* 97 more */
	CHECK_EQ(rx.len, 98);
	/* A run needs something to repeat and a printable count. */
	CHECK_EQ(feed_framed(&rx, "*!", 2), GDB_RX_MALFORMED);
	CHECK_EQ(feed_framed(&rx, "* a", 3), GDB_RX_MALFORMED);
	CHECK_EQ(feed_framed(&rx, "a*\x1f", 3), GDB_RX_MALFORMED);
	CHECK_EQ(feed_framed(&rx, "a*\x7f", 3), GDB_RX_MALFORMED);
	CHECK_EQ(feed_framed(&rx, "a*", 2), GDB_RX_MALFORMED);
	/* An escaped byte can be repeated too. */
	CHECK_EQ(feed_framed(&rx, "}\x03* ", 4), GDB_RX_PACKET);
	CHECK_STR((char *)rx.buf, "####");
}

TEST(gdb_packet_oversized)
{
	struct gdb_rx rx;
	size_t n = GDB_PKT_MAX + 1;
	uint8_t *big = malloc(2 * n + 16);

	gdb_rx_init(&rx);
	memset(big, 'a', n);
	CHECK_EQ(feed_framed(&rx, big, GDB_PKT_MAX), GDB_RX_PACKET);
	CHECK_EQ(rx.len, GDB_PKT_MAX);
	CHECK_EQ(feed_framed(&rx, big, n), GDB_RX_TOOLONG);
	/* Run lengths cannot expand past the buffer either. */
	for (size_t i = 0; i < 2 * n; i += 3)
		memcpy(big + i, "a*~", 3);
	CHECK_EQ(feed_framed(&rx, big, 3 * (GDB_PKT_MAX / 97 + 2)),
	    GDB_RX_TOOLONG);
	/* Nor can escapes make the raw length unbounded. */
	for (size_t i = 0; i + 1 < 2 * n; i += 2)
		memcpy(big + i, "}\x03", 2);
	CHECK_EQ(feed_framed(&rx, big, 2 * n), GDB_RX_TOOLONG);
	/* A good packet still works afterwards. */
	CHECK_EQ(feed(&rx, "$g#67", 5, NULL), GDB_RX_PACKET);
	free(big);
}

TEST(gdb_packet_junk_stream)
{
	struct gdb_rx rx;
	uint32_t x = 12345;
	int packets = 0;

	/* Pseudo-random bytes, biased towards the framing characters. */
	gdb_rx_init(&rx);
	for (int i = 0; i < 200000; i++) {
		static const uint8_t special[] = "$#}*+-\x03" "0123456789abcdef";
		uint8_t c;

		x = x * 1103515245 + 12345;
		c = (x >> 16) & 1 ? special[(x >> 17) % (sizeof(special) - 1)] :
		    (uint8_t)(x >> 20);
		if (gdb_rx_byte(&rx, c) == GDB_RX_PACKET) {
			packets++;
			CHECK(rx.len <= GDB_PKT_MAX);
			CHECK_EQ(rx.buf[rx.len], 0);
		}
	}
	CHECK(packets > 0);
}

TEST(gdb_packet_encode)
{
	struct gdb_tx tx;
	struct gdb_rx rx;
	uint8_t all[256];

	gdb_tx_init(&tx, 4096);
	gdb_tx_begin(&tx);
	gdb_tx_str(&tx, "OK");
	gdb_tx_end(&tx);
	CHECK_EQ(tx.len, 6);
	CHECK(memcmp(tx.buf, "$OK#9a", 6) == 0);
	gdb_tx_consume(&tx, tx.len);
	CHECK_EQ(tx.len, 0);

	/* Escaped on the way out, and back through the decoder. */
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	gdb_tx_begin(&tx);
	gdb_tx_put(&tx, all, sizeof(all));
	gdb_tx_end(&tx);
	CHECK(memchr(tx.buf + 1, '$', tx.len - 1) == NULL);
	CHECK(memchr(tx.buf + 1, '*', tx.len - 1) == NULL);
	CHECK_EQ(memchr(tx.buf, '#', tx.len) == tx.buf + tx.len - 3, 1);
	gdb_rx_init(&rx);
	CHECK_EQ(feed(&rx, tx.buf, tx.len, NULL), GDB_RX_PACKET);
	CHECK_EQ(rx.len, 256);
	CHECK(memcmp(rx.buf, all, 256) == 0);
	gdb_tx_consume(&tx, 2); /* "$" and the 0x00 */
	CHECK_EQ(tx.buf[0], 0x01);

	gdb_tx_consume(&tx, tx.len);
	gdb_tx_begin(&tx);
	gdb_tx_hex(&tx, "\x00\xab\xff", 3);
	gdb_tx_fmt(&tx, ";%x", 0x1234);
	gdb_tx_end(&tx);
	CHECK(tx.len == 15 && memcmp(tx.buf, "$00abff;1234#", 13) == 0);
	gdb_tx_free(&tx);

	/* Past the limit nothing is stored and overflow is set. */
	gdb_tx_init(&tx, 16);
	gdb_tx_raw(&tx, "0123456789", 10);
	CHECK(!tx.overflow);
	gdb_tx_raw(&tx, "0123456789", 10);
	CHECK(tx.overflow);
	CHECK_EQ(tx.len, 10);
	gdb_tx_free(&tx);
}

TEST(gdb_packet_hex)
{
	const uint8_t *p;
	uint8_t out[4];
	uint64_t v;
	const char *s;

	s = "1f,rest";
	p = (const uint8_t *)s;
	CHECK_EQ(gdb_parse_hex(&p, p + strlen(s), &v), 0);
	CHECK_EQ(v, 0x1f);
	CHECK_EQ(*p, ',');
	s = "00000000000000000000ffffffffffffffff";
	p = (const uint8_t *)s;
	CHECK_EQ(gdb_parse_hex(&p, p + strlen(s), &v), 0);
	CHECK(v == ~0ULL);
	s = "1ffffffffffffffff"; /* 65 bits */
	p = (const uint8_t *)s;
	CHECK_EQ(gdb_parse_hex(&p, p + strlen(s), &v), -EINVAL);
	s = ",";
	p = (const uint8_t *)s;
	CHECK_EQ(gdb_parse_hex(&p, p + 1, &v), -EINVAL);
	CHECK_EQ(gdb_parse_hex(&p, p, &v), -EINVAL); /* nothing left */
	/* Bounded by the end pointer, not by a NUL. */
	s = "12345";
	p = (const uint8_t *)s;
	CHECK_EQ(gdb_parse_hex(&p, p + 2, &v), 0);
	CHECK_EQ(v, 0x12);

	CHECK_EQ(gdb_unhex((const uint8_t *)"deadBEEF", 8, out, 4), 0);
	CHECK(memcmp(out, "\xde\xad\xbe\xef", 4) == 0);
	CHECK_EQ(gdb_unhex((const uint8_t *)"dead", 3, out, 2), -EINVAL);
	CHECK_EQ(gdb_unhex((const uint8_t *)"deadbe", 6, out, 2), -EINVAL);
	CHECK_EQ(gdb_unhex((const uint8_t *)"dxad", 4, out, 2), -EINVAL);
	CHECK_EQ(gdb_hexval('g'), -1);
	CHECK_EQ(gdb_hexval('F'), 15);
}
