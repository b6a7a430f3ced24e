/*
 * delay.c - short waits timed by PIT channel 2 (the speaker channel, gated
 * by port 0x61; KVM's in-kernel PIT and QEMU both emulate it), the way
 * Linux calibrates its TSC.  Without a PIT (port 0x61 reads 0xff) it falls
 * back to port 0x80 writes, roughly 1 us each on a PC.  Every wait is
 * bounded so a broken timer cannot hang a test.
 */
#include "guest.h"

#define PIT_HZ 1193182u
#define PIT_MAX_POLLS 2000000

static int pit_state; /* 0 unknown, 1 working, -1 absent */

static void pit_wait(uint16_t ticks)
{
	uint8_t v = inb(0x61);

	outb(0x61, (uint8_t)((v & ~0x02) | 0x01)); /* gate on, speaker off */
	outb(0x43, 0xb0);                          /* ch2, lo/hi, mode 0 */
	outb(0x42, (uint8_t)ticks);
	outb(0x42, (uint8_t)(ticks >> 8));
	for (int i = 0; i < PIT_MAX_POLLS; i++)
		if (inb(0x61) & 0x20) /* OUT2 rises at terminal count */
			break;
}

void delay_us(uint32_t us)
{
	if (pit_state == 0)
		pit_state = inb(0x61) == 0xff ? -1 : 1;
	if (pit_state < 0) {
		for (uint32_t i = 0; i < us; i++)
			outb(0x80, 0);
		return;
	}
	while (us) {
		uint32_t chunk = us > 50000 ? 50000 : us;
		/* ticks = chunk * 1.193182 (chunk <= 50000: no overflow) */
		uint32_t ticks = (chunk * 1193u) / 1000u + 1;

		pit_wait((uint16_t)ticks);
		us -= chunk;
	}
}

void delay_ms(uint32_t ms)
{
	while (ms) {
		uint32_t chunk = ms > 1000 ? 1000 : ms;

		delay_us(chunk * 1000u);
		ms -= chunk;
	}
}
