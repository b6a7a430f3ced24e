/*
 * uart_fuzz.c - the 16550 UART model (src/dev/uart_16550.c): any sequence
 * of guest register reads and writes (DLAB, FIFO control, loopback, ...)
 * interleaved with host input, checking the FIFO invariants of
 * uart_16550.h after every step.
 *
 * Input: a stream of operations; each first byte picks one:
 *   0-1 guest write (register, value)    2-3 guest read (register)
 *   4   host input (1..32 bytes, capped by rx_room as uart_lpc does)
 *   5   host input ignoring rx_room (the model must cap it itself)
 */
#include <stdlib.h>

#include "common.h"
#include "dev/uart_16550.h"
#include "fuzz.h"

static void check(const struct uart16550 *u)
{
	if (u->n > u->size || u->size > UART16550_FIFOSZ || u->size == 0 ||
	    u->r >= UART16550_FIFOSZ ||
	    uart16550_rx_room(u) > UART16550_FIFOSZ)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uart16550 u;
	struct fz f;
	uint8_t buf[32], tx;

	fz_init(&f, data, size);
	uart16550_init(&u);
	check(&u);
	while (fz_more(&f)) {
		uint8_t op = fz_u8(&f);
		unsigned reg = op >> 3; /* 0..31: mostly out of range on purpose */
		size_t n, room;

		if (reg >= 16)
			reg &= 7;
		switch (op & 7) {
		case 0:
		case 1:
			(void)uart16550_write(&u, reg, fz_u8(&f), &tx);
			break;
		case 2:
		case 3:
			(void)uart16550_read(&u, reg);
			break;
		case 4:
		case 5:
			n = (size_t)(fz_u8(&f) & 31) + 1;
			n = fz_bytes(&f, buf, n);
			room = uart16550_rx_room(&u);
			if ((op & 7) == 4 && n > room)
				n = room;
			/* It takes at most the room it announced. */
			if (uart16550_rx_from_host(&u, buf, n) > MIN(n, room))
				abort();
			break;
		default:
			(void)uart16550_intr(&u);
			(void)uart16550_loopback(&u);
			break;
		}
		check(&u);
	}
	return 0;
}
