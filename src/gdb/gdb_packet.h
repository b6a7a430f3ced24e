/*
 * gdb_packet.h - GDB remote serial protocol framing, as pure functions.
 *
 * A client sends "$payload#cc": cc is the modulo-256 sum of the raw
 * payload bytes in two hex digits.  Inside the payload '}' escapes the
 * next byte (XOR 0x20) and "X*n" repeats X another n - 29 times (run
 * length encoding).  Between packets a client sends '+' (ack), '-' (nack:
 * send the last reply again) and 0x03 (interrupt, "Ctrl-C").
 *
 * Trust boundary: every byte here comes from a TCP peer.  The decoder is
 * a byte-at-a-time state machine with a fixed buffer: it never allocates,
 * never reads past what it was given and never stores more than
 * GDB_PKT_MAX decoded bytes; anything longer, malformed or with a bad
 * checksum becomes an event for the caller to answer.
 *
 * The encoder builds replies into a bounded, growing buffer, escaping
 * '$', '#', '}' and '*' so that binary data (memory, qXfer) is safe.
 */
#ifndef KHYVE_GDB_PACKET_H
#define KHYVE_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest decoded payload accepted; advertised as PacketSize (in hex). */
#define GDB_PKT_MAX 0x4000
/* Raw (escaped) bytes allowed between '$' and '#': every byte escaped. */
#define GDB_PKT_RAW_MAX (2 * GDB_PKT_MAX)

enum gdb_rx_event {
	GDB_RX_NONE,      /* byte consumed, nothing complete yet */
	GDB_RX_PACKET,    /* good packet: rx->buf[0..rx->len) (NUL after) */
	GDB_RX_BADSUM,    /* checksum mismatch or non-hex digits: nack it */
	GDB_RX_MALFORMED, /* good checksum, bad escape or run length */
	GDB_RX_TOOLONG,   /* longer than GDB_PKT_MAX decoded bytes */
	GDB_RX_ACK,       /* '+' */
	GDB_RX_NACK,      /* '-' */
	GDB_RX_INTERRUPT, /* 0x03 */
	GDB_RX_JUNK,      /* any other byte outside a packet (ignored) */
};

struct gdb_rx {
	int state;
	uint8_t sum;      /* running sum of the raw payload */
	uint8_t csum;     /* checksum digits received so far */
	bool csum_bad;    /* a checksum digit was not hex */
	bool malformed;   /* bad escape or run length seen */
	bool toolong;     /* more than GDB_PKT_MAX decoded bytes */
	size_t raw;       /* raw payload bytes so far */
	size_t len;       /* decoded payload bytes in buf */
	uint8_t buf[GDB_PKT_MAX + 1];
};

void gdb_rx_init(struct gdb_rx *rx);
/* Feed one byte; the event tells what (if anything) it completed. */
enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c);

/*
 * Reply buffer.  gdb_tx_begin() starts a packet, the put functions add
 * payload (escaped) and gdb_tx_end() closes it with the checksum.  Plain
 * bytes (acks) go in with gdb_tx_raw().  The buffer grows up to `limit`
 * bytes; past that tx->overflow is set and nothing more is stored (the
 * caller drops the connection: a client that does not read its replies).
 */
struct gdb_tx {
	uint8_t *buf;
	size_t len, cap, limit;
	size_t pkt_start; /* offset of the '$' of the packet being built */
	uint8_t sum;
	bool overflow;
};

void gdb_tx_init(struct gdb_tx *tx, size_t limit);
void gdb_tx_free(struct gdb_tx *tx);
void gdb_tx_raw(struct gdb_tx *tx, const void *data, size_t len);
void gdb_tx_begin(struct gdb_tx *tx);
void gdb_tx_put(struct gdb_tx *tx, const void *data, size_t len);
void gdb_tx_str(struct gdb_tx *tx, const char *s);
void gdb_tx_fmt(struct gdb_tx *tx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Bytes as two lower-case hex digits each. */
void gdb_tx_hex(struct gdb_tx *tx, const void *data, size_t len);
void gdb_tx_end(struct gdb_tx *tx);
/* Drop the first n bytes (sent to the peer). */
void gdb_tx_consume(struct gdb_tx *tx, size_t n);

/* ---- payload parsing helpers (bounded by len, never by a NUL) ---- */

/* Value of one hex digit, or -1. */
int gdb_hexval(uint8_t c);
/*
 * Parse a big-endian hex number of 1..16 digits at *p (up to end) into
 * *v; *p moves past it.  Returns 0, or -EINVAL when there is no digit or
 * the number does not fit in 64 bits.
 */
int gdb_parse_hex(const uint8_t **p, const uint8_t *end, uint64_t *v);
/*
 * Decode exactly n bytes from 2n hex digits at src (srclen bytes there).
 * Returns 0, or -EINVAL if srclen != 2n or a digit is not hex.
 */
int gdb_unhex(const uint8_t *src, size_t srclen, void *dst, size_t n);

#endif
