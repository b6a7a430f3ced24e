/*
 * uart_16550.c - the 16550A register model (see uart_16550.h).
 *
 * Semantics follow bhyve's uart_emul.c:
 *  - the transmitter is infinitely fast: LSR always shows THRE|TEMT, and
 *    every THR write (or enabling ETXRDY) raises a THR-empty interrupt that
 *    a read of IIR acknowledges;
 *  - the receive FIFO holds 16 bytes with the FIFOs enabled, 1 without;
 *    changing FCR.ENABLE or writing FCR.RCV_RST empties it;
 *  - interrupt priority: line status (overrun) > received data (reported
 *    as the character time-out code 0x0c, as bhyve does) > THR empty >
 *    modem status; OUT2 does not gate the interrupt (as bhyve);
 *  - outside loopback the modem inputs are DCD and DSR asserted, so a
 *    guest tty opens without CLOCAL; in loopback RTS->CTS, DTR->DSR,
 *    OUT1->RI and OUT2->DCD, with the delta bits recording changes.
 */
#include <string.h>

#include "common.h"
#include "dev/uart_16550.h"

#define UART_RCLK 1843200
#define UART_DEFAULT_BAUD 9600

static uint8_t modem_status(uint8_t mcr)
{
	uint8_t msr = 0;

	if (mcr & UART_MCR_LOOPBACK) {
		if (mcr & UART_MCR_RTS)
			msr |= UART_MSR_CTS;
		if (mcr & UART_MCR_DTR)
			msr |= UART_MSR_DSR;
		if (mcr & UART_MCR_OUT1)
			msr |= UART_MSR_RI;
		if (mcr & UART_MCR_OUT2)
			msr |= UART_MSR_DCD;
	} else {
		msr = UART_MSR_DCD | UART_MSR_DSR;
	}
	return msr;
}

static void rx_reset(struct uart16550 *u, unsigned size)
{
	u->r = u->n = 0;
	u->size = size;
}

static bool rx_put(struct uart16550 *u, uint8_t ch)
{
	if (u->n >= u->size)
		return false;
	u->rx[(u->r + u->n) % UART16550_FIFOSZ] = ch;
	u->n++;
	return true;
}

static int rx_get(struct uart16550 *u)
{
	int ch;

	if (u->n == 0)
		return -1;
	ch = u->rx[u->r];
	u->r = (u->r + 1) % UART16550_FIFOSZ;
	u->n--;
	return ch;
}

void uart16550_init(struct uart16550 *u)
{
	uint16_t divisor = UART_RCLK / UART_DEFAULT_BAUD / 16;

	memset(u, 0, sizeof(*u));
	u->dll = (uint8_t)divisor;
	u->dlh = (uint8_t)(divisor >> 8);
	u->msr = modem_status(u->mcr);
	rx_reset(u, 1); /* no FIFO until the guest enables it */
}

static uint8_t intr_reason(const struct uart16550 *u)
{
	if ((u->lsr & UART_LSR_OE) && (u->ier & UART_IER_ERLS))
		return UART_IIR_RLS;
	if (u->n > 0 && (u->ier & UART_IER_ERXRDY))
		return UART_IIR_RXTOUT;
	if (u->thre_pending && (u->ier & UART_IER_ETXRDY))
		return UART_IIR_TXRDY;
	if ((u->msr & UART_MSR_DELTA_MASK) && (u->ier & UART_IER_EMSC))
		return UART_IIR_MLSC;
	return UART_IIR_NOPEND;
}

bool uart16550_intr(const struct uart16550 *u)
{
	return intr_reason(u) != UART_IIR_NOPEND;
}

bool uart16550_loopback(const struct uart16550 *u)
{
	return (u->mcr & UART_MCR_LOOPBACK) != 0;
}

size_t uart16550_rx_room(const struct uart16550 *u)
{
	if (uart16550_loopback(u))
		return 0;
	return u->size - u->n;
}

size_t uart16550_rx_from_host(struct uart16550 *u, const uint8_t *buf,
    size_t len)
{
	size_t take = MIN(len, uart16550_rx_room(u));

	for (size_t i = 0; i < take; i++)
		rx_put(u, buf[i]);
	return take;
}

uint8_t uart16550_read(struct uart16550 *u, unsigned reg)
{
	uint8_t v, reason;
	int ch;

	if ((u->lcr & UART_LCR_DLAB) && reg == UART_REG_DATA)
		return u->dll;
	if ((u->lcr & UART_LCR_DLAB) && reg == UART_REG_IER)
		return u->dlh;

	switch (reg) {
	case UART_REG_DATA:
		ch = rx_get(u);
		/* An empty RBR reads as 0xff, as in bhyve. */
		return ch < 0 ? 0xff : (uint8_t)ch;
	case UART_REG_IER:
		return u->ier;
	case UART_REG_IIR:
		reason = intr_reason(u);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if (reason == UART_IIR_TXRDY)
			u->thre_pending = false;
		v = reason;
		if (u->fcr & UART_FCR_ENABLE)
			v |= UART_IIR_FIFO_MASK;
		return v;
	case UART_REG_LCR:
		return u->lcr;
	case UART_REG_MCR:
		return u->mcr;
	case UART_REG_LSR:
		/* The transmitter is always ready for more. */
		u->lsr |= UART_LSR_TEMT | UART_LSR_THRE;
		if (u->n > 0)
			u->lsr |= UART_LSR_RXRDY;
		else
			u->lsr &= (uint8_t)~UART_LSR_RXRDY;
		v = u->lsr;
		u->lsr &= (uint8_t)~UART_LSR_OE; /* cleared by reading */
		return v;
	case UART_REG_MSR:
		v = u->msr;
		u->msr &= (uint8_t)~UART_MSR_DELTA_MASK;
		return v;
	case UART_REG_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}

static void write_mcr(struct uart16550 *u, uint8_t val)
{
	uint8_t msr;

	u->mcr = val & 0x1f; /* bits 5-7 read as zero */
	msr = modem_status(u->mcr);
	/* Record each modem input that changed in its delta bit; RI
	 * reports only its trailing (1 -> 0) edge. */
	if ((msr ^ u->msr) & UART_MSR_CTS)
		u->msr |= UART_MSR_DCTS;
	if ((msr ^ u->msr) & UART_MSR_DSR)
		u->msr |= UART_MSR_DDSR;
	if ((msr ^ u->msr) & UART_MSR_DCD)
		u->msr |= UART_MSR_DDCD;
	if ((u->msr & UART_MSR_RI) && !(msr & UART_MSR_RI))
		u->msr |= UART_MSR_TERI;
	u->msr = (u->msr & UART_MSR_DELTA_MASK) | msr;
}

static void write_fcr(struct uart16550 *u, uint8_t val)
{
	/* Switching between 16450 and FIFO mode empties the FIFO. */
	if ((u->fcr ^ val) & UART_FCR_ENABLE)
		rx_reset(u, (val & UART_FCR_ENABLE) ? UART16550_FIFOSZ : 1);
	/* The other bits only take effect with ENABLE set. */
	if (!(val & UART_FCR_ENABLE)) {
		u->fcr = 0;
		return;
	}
	if (val & UART_FCR_RCV_RST)
		rx_reset(u, UART16550_FIFOSZ);
	u->fcr = val & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_RX_MASK);
}

bool uart16550_write(struct uart16550 *u, unsigned reg, uint8_t val,
    uint8_t *tx)
{
	bool send = false;

	if ((u->lcr & UART_LCR_DLAB) && reg == UART_REG_DATA) {
		u->dll = val;
		return false;
	}
	if ((u->lcr & UART_LCR_DLAB) && reg == UART_REG_IER) {
		u->dlh = val;
		return false;
	}

	switch (reg) {
	case UART_REG_DATA:
		if (uart16550_loopback(u)) {
			if (!rx_put(u, val))
				u->lsr |= UART_LSR_OE;
		} else {
			*tx = val;
			send = true;
		}
		u->thre_pending = true;
		break;
	case UART_REG_IER:
		/* THRE always reads as empty, so enabling its interrupt
		 * raises it at once. */
		if (!(u->ier & UART_IER_ETXRDY) && (val & UART_IER_ETXRDY))
			u->thre_pending = true;
		u->ier = val & 0x0f;
		break;
	case UART_REG_IIR:
		write_fcr(u, val);
		break;
	case UART_REG_LCR:
		u->lcr = val;
		break;
	case UART_REG_MCR:
		write_mcr(u, val);
		break;
	case UART_REG_SCR:
		u->scr = val;
		break;
	default:
		/* LSR and MSR are read-only; other offsets don't exist. */
		break;
	}
	return send;
}
