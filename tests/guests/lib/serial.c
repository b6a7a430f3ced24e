/* serial.c - COM1 (16550 at 0x3f8), polled, 115200 8N1. */
#include "guest.h"

#define COM1 0x3f8
#define THR 0 /* transmit holding (DLAB 0) */
#define DLL 0 /* divisor low (DLAB 1) */
#define IER 1
#define DLM 1
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define LSR_THRE 0x20

void serial_init(void)
{
	outb(COM1 + IER, 0x00); /* no interrupts */
	outb(COM1 + LCR, 0x80); /* DLAB */
	outb(COM1 + DLL, 0x01); /* 115200 baud */
	outb(COM1 + DLM, 0x00);
	outb(COM1 + LCR, 0x03); /* 8N1 */
	outb(COM1 + FCR, 0x07); /* enable and clear FIFOs */
	outb(COM1 + MCR, 0x03); /* DTR, RTS */
}

/*
 * THRE set means the transmit FIFO (16 bytes, enabled above) is empty, so
 * one LSR read per 16 characters suffices: every port access is a VM exit.
 */
static int tx_room;

void serial_putc(char c)
{
	if (tx_room == 0) {
		/* Bounded: a missing UART reads 0xff (THRE set) anyway. */
		for (int i = 0; i < 100000; i++)
			if (inb(COM1 + LSR) & LSR_THRE)
				break;
		tx_room = 16;
	}
	tx_room--;
	outb(COM1 + THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}
