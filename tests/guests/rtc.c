/*
 * rtc.elf - read the MC146818 RTC through ports 0x70/0x71: wait for the
 * update-in-progress flag to clear, read the time twice until two reads
 * agree, decode BCD or binary and 12/24-hour per register B, and print
 * "rtc YYYY-MM-DD HH:MM:SS", the status registers and all 128 bytes of
 * CMOS ("cmos XX: ..").  The century comes from register 0x32 when it
 * holds a plausible value, else 20.
 */
#include "guest.h"

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

struct rtc_time {
	uint8_t sec, min, hour, day, mon, year, cent;
};

static void read_raw(struct rtc_time *t)
{
	for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
		;
	t->sec = cmos(0x00);
	t->min = cmos(0x02);
	t->hour = cmos(0x04);
	t->day = cmos(0x07);
	t->mon = cmos(0x08);
	t->year = cmos(0x09);
	t->cent = cmos(0x32);
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10u + (v & 0xf);
}

void guest_main(void)
{
	struct rtc_time a, b;
	uint8_t regb;
	unsigned sec, min, hour, day, mon, year, cent;
	bool pm;

	read_raw(&a);
	for (int tries = 0; tries < 5; tries++) {
		read_raw(&b);
		if (memcmp(&a, &b, sizeof(a)) == 0)
			break;
		a = b;
	}
	regb = cmos(0x0b);
	pm = !(regb & 0x02) && (a.hour & 0x80);
	a.hour &= 0x7f;
	if (regb & 0x04) { /* binary */
		sec = a.sec, min = a.min, hour = a.hour;
		day = a.day, mon = a.mon, year = a.year, cent = a.cent;
	} else {
		sec = bcd(a.sec), min = bcd(a.min), hour = bcd(a.hour);
		day = bcd(a.day), mon = bcd(a.mon), year = bcd(a.year);
		cent = bcd(a.cent);
	}
	if (!(regb & 0x02)) { /* 12-hour clock: 12 AM is 0 */
		if (hour == 12)
			hour = 0;
		if (pm)
			hour += 12;
	}
	if (cent < 19 || cent > 30)
		cent = 20;
	printf("rtc regs: a=0x%02x b=0x%02x d=0x%02x century=0x%02x\n",
	    cmos(0x0a), regb, cmos(0x0d), a.cent);
	printf("rtc %u-%02u-%02u %02u:%02u:%02u\n", cent * 100 + year, mon,
	    day, hour, min, sec);
	for (unsigned r = 0; r < 128; r += 16) {
		char line[80];
		int n = snprintf(line, sizeof(line), "cmos %02x:", r);

		for (unsigned i = 0; i < 16; i++) {
			/* register C (0x0c) clears pending flags on read */
			n += snprintf(line + n, sizeof(line) - (size_t)n,
			    " %02x", cmos((uint8_t)(r + i)));
		}
		printf("%s\n", line);
	}
	finish(GX_OK);
}
