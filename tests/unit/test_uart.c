/* test_uart.c - the 16550A register model (dev/uart_16550.c). */
#include "dev/uart_16550.h"
#include "test.h"

static uint8_t rd(struct uart16550 *u, unsigned reg)
{
	return uart16550_read(u, reg);
}

static bool wr(struct uart16550 *u, unsigned reg, uint8_t v)
{
	uint8_t tx;

	return uart16550_write(u, reg, v, &tx);
}

TEST(uart_power_on_state)
{
	struct uart16550 u;

	uart16550_init(&u);
	CHECK_EQ(rd(&u, UART_REG_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(rd(&u, UART_REG_IIR), UART_IIR_NOPEND);
	CHECK_EQ(rd(&u, UART_REG_IER), 0);
	CHECK_EQ(rd(&u, UART_REG_MSR), UART_MSR_DCD | UART_MSR_DSR);
	CHECK(!uart16550_intr(&u));
	CHECK_EQ(uart16550_rx_room(&u), 1); /* 16450 mode: holding register */
	CHECK_EQ(rd(&u, UART_REG_DATA), 0xff); /* empty */
	/* Divisor for 9600 baud from the 1.8432 MHz clock. */
	wr(&u, UART_REG_LCR, UART_LCR_DLAB);
	CHECK_EQ(rd(&u, UART_REG_DATA), 12);
	CHECK_EQ(rd(&u, UART_REG_IER), 0);
}

TEST(uart_dlab_and_scratch)
{
	struct uart16550 u;

	uart16550_init(&u);
	wr(&u, UART_REG_LCR, UART_LCR_DLAB | 0x03);
	CHECK(!wr(&u, UART_REG_DATA, 0x01)); /* DLL: not transmitted */
	wr(&u, UART_REG_IER, 0x00);          /* DLM */
	CHECK_EQ(rd(&u, UART_REG_DATA), 0x01);
	CHECK_EQ(rd(&u, UART_REG_IER), 0x00);
	CHECK_EQ(rd(&u, UART_REG_LCR), UART_LCR_DLAB | 0x03);
	wr(&u, UART_REG_LCR, 0x03);
	/* With DLAB clear, offsets 0/1 are the data and IER again. */
	CHECK_EQ(rd(&u, UART_REG_IER), 0);
	wr(&u, UART_REG_IER, 0xff);
	CHECK_EQ(rd(&u, UART_REG_IER), 0x0f); /* bits 4-7 read as zero */
	wr(&u, UART_REG_LCR, UART_LCR_DLAB);
	CHECK_EQ(rd(&u, UART_REG_DATA), 0x01); /* divisor kept */
	wr(&u, UART_REG_LCR, 0);
	wr(&u, UART_REG_SCR, 0x5a);
	CHECK_EQ(rd(&u, UART_REG_SCR), 0x5a);
	wr(&u, UART_REG_MCR, 0xff);
	CHECK_EQ(rd(&u, UART_REG_MCR), 0x1f);
}

TEST(uart_transmit_and_thre_interrupt)
{
	struct uart16550 u;
	uint8_t tx = 0;

	uart16550_init(&u);
	CHECK(uart16550_write(&u, UART_REG_DATA, 'A', &tx));
	CHECK_EQ(tx, 'A');
	/* THRE pending but not enabled: no interrupt. */
	CHECK(!uart16550_intr(&u));
	/* Enabling ETXRDY raises it (THR always empty). */
	wr(&u, UART_REG_IER, UART_IER_ETXRDY);
	CHECK(uart16550_intr(&u));
	CHECK_EQ(rd(&u, UART_REG_IIR), UART_IIR_TXRDY);
	/* Reading IIR acknowledged it. */
	CHECK(!uart16550_intr(&u));
	CHECK_EQ(rd(&u, UART_REG_IIR), UART_IIR_NOPEND);
	/* The next THR write raises it again. */
	CHECK(uart16550_write(&u, UART_REG_DATA, 'B', &tx));
	CHECK(uart16550_intr(&u));
	/* Re-writing IER with ETXRDY already set does not re-raise it. */
	rd(&u, UART_REG_IIR);
	wr(&u, UART_REG_IER, UART_IER_ETXRDY);
	CHECK(!uart16550_intr(&u));
	CHECK_EQ(rd(&u, UART_REG_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
	    UART_LSR_THRE | UART_LSR_TEMT);
}

TEST(uart_receive_fifo)
{
	struct uart16550 u;
	uint8_t in[20];

	for (int i = 0; i < 20; i++)
		in[i] = (uint8_t)('a' + i);
	uart16550_init(&u);
	/* 16450 mode: one byte at a time. */
	CHECK_EQ(uart16550_rx_from_host(&u, in, 20), 1);
	CHECK_EQ(uart16550_rx_room(&u), 0);
	CHECK_EQ(rd(&u, UART_REG_LSR) & UART_LSR_RXRDY, UART_LSR_RXRDY);
	CHECK_EQ(rd(&u, UART_REG_DATA), 'a');
	CHECK_EQ(rd(&u, UART_REG_LSR) & UART_LSR_RXRDY, 0);

	/* FIFO mode: 16 bytes, the rest is not consumed. */
	wr(&u, UART_REG_IIR, UART_FCR_ENABLE);
	CHECK_EQ(uart16550_rx_room(&u), 16);
	CHECK_EQ(uart16550_rx_from_host(&u, in, 20), 16);
	CHECK_EQ(uart16550_rx_room(&u), 0);
	CHECK_EQ(uart16550_rx_from_host(&u, in, 20), 0);
	/* Interrupt only with ERXRDY; IIR shows FIFOs enabled. */
	CHECK(!uart16550_intr(&u));
	wr(&u, UART_REG_IER, UART_IER_ERXRDY);
	CHECK(uart16550_intr(&u));
	CHECK_EQ(rd(&u, UART_REG_IIR), UART_IIR_FIFO_MASK | UART_IIR_RXTOUT);
	for (int i = 0; i < 16; i++)
		CHECK_EQ(rd(&u, UART_REG_DATA), 'a' + i);
	CHECK_EQ(rd(&u, UART_REG_DATA), 0xff);
	CHECK(!uart16550_intr(&u));
	CHECK_EQ(rd(&u, UART_REG_IIR), UART_IIR_FIFO_MASK | UART_IIR_NOPEND);

	/* Wrap-around keeps the order. */
	CHECK_EQ(uart16550_rx_from_host(&u, in, 10), 10);
	for (int i = 0; i < 5; i++)
		rd(&u, UART_REG_DATA);
	CHECK_EQ(uart16550_rx_from_host(&u, in + 10, 10), 10);
	for (int i = 5; i < 20; i++)
		CHECK_EQ(rd(&u, UART_REG_DATA), 'a' + i);

	/* FCR receiver reset empties the FIFO; disabling FIFOs too. */
	uart16550_rx_from_host(&u, in, 4);
	wr(&u, UART_REG_IIR, UART_FCR_ENABLE | UART_FCR_RCV_RST);
	CHECK_EQ(rd(&u, UART_REG_LSR) & UART_LSR_RXRDY, 0);
	uart16550_rx_from_host(&u, in, 4);
	wr(&u, UART_REG_IIR, 0);
	CHECK_EQ(rd(&u, UART_REG_LSR) & UART_LSR_RXRDY, 0);
	CHECK_EQ(uart16550_rx_room(&u), 1);
	CHECK_EQ(rd(&u, UART_REG_IIR) & UART_IIR_FIFO_MASK, 0);
}

TEST(uart_loopback)
{
	struct uart16550 u;
	uint8_t tx = 0;

	uart16550_init(&u);
	wr(&u, UART_REG_IIR, UART_FCR_ENABLE);
	wr(&u, UART_REG_MCR, UART_MCR_LOOPBACK);
	CHECK(uart16550_loopback(&u));
	/* Host input waits while the line is looped back. */
	CHECK_EQ(uart16550_rx_room(&u), 0);
	CHECK_EQ(uart16550_rx_from_host(&u, (const uint8_t *)"x", 1), 0);
	/* Transmitted bytes come back, nothing goes to the host. */
	CHECK(!uart16550_write(&u, UART_REG_DATA, 0x5a, &tx));
	CHECK_EQ(rd(&u, UART_REG_LSR) & UART_LSR_RXRDY, UART_LSR_RXRDY);
	CHECK_EQ(rd(&u, UART_REG_DATA), 0x5a);
	/* Modem outputs appear on the inputs. */
	rd(&u, UART_REG_MSR);
	wr(&u, UART_REG_MCR, UART_MCR_LOOPBACK | UART_MCR_RTS | UART_MCR_DTR |
	    UART_MCR_OUT1 | UART_MCR_OUT2);
	CHECK_EQ(rd(&u, UART_REG_MSR) & 0xf0,
	    UART_MSR_CTS | UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCD);
	/* Leaving loopback reconnects the host. */
	wr(&u, UART_REG_MCR, 0);
	CHECK(!uart16550_loopback(&u));
	CHECK_EQ(uart16550_rx_room(&u), 16);
	CHECK(uart16550_write(&u, UART_REG_DATA, 0x33, &tx));
	CHECK_EQ(tx, 0x33);
}

TEST(uart_msr_deltas)
{
	struct uart16550 u;
	uint8_t msr;

	uart16550_init(&u);
	wr(&u, UART_REG_MCR, UART_MCR_LOOPBACK);
	/* Entering loopback dropped DCD and DSR: both deltas set. */
	msr = rd(&u, UART_REG_MSR);
	CHECK_EQ(msr & UART_MSR_DELTA_MASK, UART_MSR_DDSR | UART_MSR_DDCD);
	CHECK_EQ(rd(&u, UART_REG_MSR) & UART_MSR_DELTA_MASK, 0); /* cleared */
	wr(&u, UART_REG_MCR, UART_MCR_LOOPBACK | UART_MCR_RTS);
	CHECK_EQ(rd(&u, UART_REG_MSR), UART_MSR_DCTS | UART_MSR_CTS);
	/* RI reports only its falling edge. */
	wr(&u, UART_REG_MCR, UART_MCR_LOOPBACK | UART_MCR_OUT1);
	CHECK_EQ(rd(&u, UART_REG_MSR) & UART_MSR_TERI, 0);
	wr(&u, UART_REG_MCR, UART_MCR_LOOPBACK);
	CHECK_EQ(rd(&u, UART_REG_MSR) & UART_MSR_TERI, UART_MSR_TERI);
	/* A modem-status interrupt when enabled. */
	wr(&u, UART_REG_IER, UART_IER_EMSC);
	CHECK(!uart16550_intr(&u));
	wr(&u, UART_REG_MCR, UART_MCR_LOOPBACK | UART_MCR_DTR);
	CHECK(uart16550_intr(&u));
	CHECK_EQ(rd(&u, UART_REG_IIR), UART_IIR_MLSC);
	rd(&u, UART_REG_MSR);
	CHECK(!uart16550_intr(&u));
}

TEST(uart_interrupt_priorities)
{
	struct uart16550 u;

	uart16550_init(&u);
	wr(&u, UART_REG_IIR, UART_FCR_ENABLE);
	wr(&u, UART_REG_MCR, UART_MCR_LOOPBACK);
	/* 17 bytes into a 16-byte FIFO: overrun. */
	for (int i = 0; i < 17; i++)
		wr(&u, UART_REG_DATA, (uint8_t)i);
	wr(&u, UART_REG_IER, UART_IER_ERXRDY | UART_IER_ETXRDY |
	    UART_IER_ERLS | UART_IER_EMSC);
	/* Pending: overrun, data, THR empty, modem deltas (loopback). */
	CHECK_EQ(rd(&u, UART_REG_IIR) & 0x0f, UART_IIR_RLS);
	CHECK_EQ(rd(&u, UART_REG_LSR) & UART_LSR_OE, UART_LSR_OE);
	CHECK_EQ(rd(&u, UART_REG_LSR) & UART_LSR_OE, 0); /* cleared by read */
	CHECK_EQ(rd(&u, UART_REG_IIR) & 0x0f, UART_IIR_RXTOUT);
	for (int i = 0; i < 16; i++)
		CHECK_EQ(rd(&u, UART_REG_DATA), i); /* the 17th was lost */
	CHECK_EQ(rd(&u, UART_REG_IIR) & 0x0f, UART_IIR_TXRDY);
	/* That read acknowledged THRE: next is modem status. */
	CHECK_EQ(rd(&u, UART_REG_IIR) & 0x0f, UART_IIR_MLSC);
	CHECK(uart16550_intr(&u));
	rd(&u, UART_REG_MSR);
	CHECK_EQ(rd(&u, UART_REG_IIR) & 0x0f, UART_IIR_NOPEND);
	CHECK(!uart16550_intr(&u));
	/* Disabling every source drops the line even with data waiting. */
	wr(&u, UART_REG_DATA, 1);
	CHECK(uart16550_intr(&u));
	wr(&u, UART_REG_IER, 0);
	CHECK(!uart16550_intr(&u));
}

TEST(uart_hostile_offsets)
{
	struct uart16550 u, before;
	uint8_t tx = 0;

	uart16550_init(&u);
	memcpy(&before, &u, sizeof(u));
	for (unsigned reg = 8; reg < 300; reg += 7) {
		CHECK_EQ(rd(&u, reg), 0xff);
		CHECK(!uart16550_write(&u, reg, 0xff, &tx));
	}
	CHECK(!uart16550_write(&u, UINT32_MAX, 0xff, &tx));
	CHECK_EQ(rd(&u, UINT32_MAX), 0xff);
	/* LSR and MSR are read-only. */
	wr(&u, UART_REG_LSR, 0xff);
	wr(&u, UART_REG_MSR, 0xff);
	CHECK(memcmp(&u, &before, sizeof(u)) == 0);
	/* FCR bits other than ENABLE are ignored while it is clear. */
	wr(&u, UART_REG_IIR, UART_FCR_RX_MASK | UART_FCR_DMA);
	CHECK_EQ(uart16550_rx_room(&u), 1);
	CHECK_EQ(rd(&u, UART_REG_IIR), UART_IIR_NOPEND);
}
