/*
 * uart_16550.h - the 16550A UART register model (bhyve's uart_emul.c),
 * with no I/O, locking or interrupt delivery of its own.
 *
 * The model is a pure state machine so that tests can drive it without a
 * VM: register accesses go in, and the caller asks afterwards whether the
 * interrupt line should be high (uart16550_intr()), whether a byte must be
 * sent to the host (the return of uart16550_write()) and how much room
 * the receive FIFO has for host input (uart16550_rx_room()).  The caller
 * serialises all calls on one struct (uart_lpc.c holds a mutex).
 *
 * Everything passed in comes from the guest or the host side and is
 * hostile: any register offset and any value is accepted; offsets outside
 * 0..7 read as 0xff and ignore writes.
 */
#ifndef KHYVE_DEV_UART_16550_H
#define KHYVE_DEV_UART_16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART16550_NREGS 8
#define UART16550_FIFOSZ 16

/* Register offsets (DLAB=1 turns 0/1 into the divisor latch). */
enum {
	UART_REG_DATA = 0, /* RBR (read), THR (write), DLL */
	UART_REG_IER = 1,  /* DLM when DLAB */
	UART_REG_IIR = 2,  /* IIR (read), FCR (write) */
	UART_REG_LCR = 3,
	UART_REG_MCR = 4,
	UART_REG_LSR = 5,
	UART_REG_MSR = 6,
	UART_REG_SCR = 7,
};

/* Register bits used by the model and the tests. */
#define UART_IER_ERXRDY 0x01
#define UART_IER_ETXRDY 0x02
#define UART_IER_ERLS 0x04
#define UART_IER_EMSC 0x08

#define UART_IIR_NOPEND 0x01
#define UART_IIR_MLSC 0x00
#define UART_IIR_TXRDY 0x02
#define UART_IIR_RXRDY 0x04
#define UART_IIR_RLS 0x06
#define UART_IIR_RXTOUT 0x0c
#define UART_IIR_FIFO_MASK 0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_RCV_RST 0x02
#define UART_FCR_XMT_RST 0x04
#define UART_FCR_DMA 0x08
#define UART_FCR_RX_MASK 0xc0

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOPBACK 0x10

#define UART_LSR_RXRDY 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80
#define UART_MSR_DELTA_MASK 0x0f

struct uart16550 {
	uint8_t ier, lcr, mcr, lsr, msr, fcr, scr;
	uint8_t dll, dlh;
	bool thre_pending; /* THR-empty interrupt not yet acknowledged */
	/* Receive FIFO.  Invariant: n <= size <= UART16550_FIFOSZ,
	 * r < UART16550_FIFOSZ; size is 1 with the FIFOs disabled. */
	uint8_t rx[UART16550_FIFOSZ];
	unsigned r, n, size;
};

/* Power-on state: 9600 baud divisor, FIFOs off, nothing pending. */
void uart16550_init(struct uart16550 *u);

/* Guest read of register `reg` (with its read side effects). */
uint8_t uart16550_read(struct uart16550 *u, unsigned reg);

/*
 * Guest write.  Returns true and stores the byte in *tx when the guest
 * transmitted a byte that must go to the host (a THR write outside
 * loopback mode); false otherwise.
 */
bool uart16550_write(struct uart16550 *u, unsigned reg, uint8_t val,
    uint8_t *tx);

/* Level the interrupt line should have now. */
bool uart16550_intr(const struct uart16550 *u);

/*
 * Host input.  uart16550_rx_room() is how many bytes the receive FIFO can
 * take now.  It is 0 in loopback mode, where the line is disconnected from
 * the host: the caller then leaves host input waiting (bhyve drops it)
 * until the guest leaves loopback.  uart16550_rx_from_host() takes up to
 * len bytes and returns how many it consumed (at most the room).
 */
size_t uart16550_rx_room(const struct uart16550 *u);
size_t uart16550_rx_from_host(struct uart16550 *u, const uint8_t *buf,
    size_t len);
bool uart16550_loopback(const struct uart16550 *u);

#endif
