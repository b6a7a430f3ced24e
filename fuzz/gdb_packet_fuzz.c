/*
 * gdb_packet_fuzz.c - fuzz target for the gdb stub's input path: the
 * framing decoder (gdb/gdb_packet.c) on raw bytes, then the whole protocol
 * server (gdb/gdb_server.c) over the fake target of the unit tests, fed
 * in chunks, with the target stopping and the client reading (or not)
 * between chunks as the input decides.
 *
 * Built two ways (see `make fuzz`): with clang's libFuzzer
 * (-fsanitize=fuzzer), and with any C compiler plus fuzz/replay.c, a
 * main() that replays files or corpus directories (the unit tests replay
 * fuzz/corpus/gdb_packet/ this way).  A broken invariant calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdb/gdb_packet.h"
#include "gdb/gdb_server.h"
#include "../tests/unit/gdb_fake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rx(const uint8_t *data, size_t size)
{
	static struct gdb_rx rx;

	gdb_rx_init(&rx);
	for (size_t i = 0; i < size; i++) {
		enum gdb_rx_event e = gdb_rx_byte(&rx, data[i]);

		if (e == GDB_RX_PACKET &&
		    (rx.len > GDB_PKT_MAX || rx.buf[rx.len] != '\0'))
			abort();
	}
}

static void check_server(const uint8_t *data, size_t size)
{
	static struct gdb_server s;
	static struct fake f;
	uint8_t mode;
	size_t pos = 1;

	if (size < 1)
		return;
	mode = data[0];
	fake_init(&f);
	f.bp_rc = (mode & 0x10) ? -EOPNOTSUPP : 0;
	if (gdb_server_init(&s, &fake_ops, &f, FAKE_CPUS,
		(mode & 1) ? GDB_ARCH_I386 : GDB_ARCH_AMD64) != 0)
		return;
	if (mode & 2)
		fake_stop(&s, &f, GDB_STOP_ATTACH, -1, 0);
	while (pos < size) {
		/* A chunk of 1..64 bytes; its first byte steers the run. */
		uint8_t ctl = data[pos];
		size_t n = (size_t)(ctl & 0x3f) + 1;

		pos++;
		if (n > size - pos)
			n = size - pos;
		gdb_server_input(&s, data + pos, n);
		pos += n;
		if (s.out.len > GDB_OUT_MAX || s.inq_len > GDB_INQ_MAX)
			abort();
		if (f.running && (ctl & 0x40)) {
			f.running = false;
			fake_stop(&s, &f, (enum gdb_stop_reason)(ctl % 8),
			    (int)(ctl % 5) - 1, ctl);
		}
		if (!(ctl & 0x80))
			gdb_tx_consume(&s.out, s.out.len); /* the client reads */
		if (s.closing) {
			gdb_server_connect(&s);
			fake_stop(&s, &f, GDB_STOP_ATTACH, -1, 0);
		}
	}
	gdb_server_fini(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_rx(data, size);
	check_server(data, size);
	return 0;
}
