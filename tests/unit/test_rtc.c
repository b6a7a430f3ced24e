/* test_rtc.c - the MC146818 RTC/CMOS model (dev/rtc_mc146818.c). */
#include "dev/rtc_mc146818.h"
#include "test.h"

#define SEC_NS 1000000000LL
/* 2024-02-29 13:45:07 UTC, a Thursday. */
#define T0 1709214307LL
#define BOOT_NS (1000 * SEC_NS) /* arbitrary monotonic start */

static uint8_t rd(struct rtc_cmos *r, unsigned idx, int64_t now)
{
	rtc_cmos_index_write(r, (uint8_t)idx);
	return rtc_cmos_data_read(r, now);
}

static void wr(struct rtc_cmos *r, unsigned idx, uint8_t v, int64_t now)
{
	rtc_cmos_index_write(r, (uint8_t)idx);
	rtc_cmos_data_write(r, v, now);
}

static void setup(struct rtc_cmos *r)
{
	rtc_cmos_init(r, BOOT_NS, T0 * SEC_NS);
}

TEST(rtc_bcd_time)
{
	struct rtc_cmos r;
	int64_t t = BOOT_NS + SEC_NS / 2;

	setup(&r);
	CHECK_EQ(rd(&r, RTC_SEC, t), 0x07);
	CHECK_EQ(rd(&r, RTC_MIN, t), 0x45);
	CHECK_EQ(rd(&r, RTC_HOUR, t), 0x13);
	CHECK_EQ(rd(&r, RTC_WDAY, t), 0x05); /* Sunday is 1 */
	CHECK_EQ(rd(&r, RTC_MDAY, t), 0x29);
	CHECK_EQ(rd(&r, RTC_MONTH, t), 0x02);
	CHECK_EQ(rd(&r, RTC_YEAR, t), 0x24);
	CHECK_EQ(rd(&r, RTC_CENTURY, t), 0x20);
	/* The clock runs: 53 s later the minute rolls over. */
	t += 53 * SEC_NS;
	CHECK_EQ(rd(&r, RTC_SEC, t), 0x00);
	CHECK_EQ(rd(&r, RTC_MIN, t), 0x46);
	CHECK_EQ(rtc_cmos_guest_seconds(&r, t), T0 + 53);
}

TEST(rtc_binary_and_12h)
{
	struct rtc_cmos r;
	int64_t t = BOOT_NS;

	setup(&r);
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_DM, t);
	CHECK_EQ(rd(&r, RTC_SEC, t), 7);
	CHECK_EQ(rd(&r, RTC_MIN, t), 45);
	CHECK_EQ(rd(&r, RTC_HOUR, t), 13);
	CHECK_EQ(rd(&r, RTC_YEAR, t), 24);
	CHECK_EQ(rd(&r, RTC_CENTURY, t), 20);
	/* 12-hour binary: 1 PM. */
	wr(&r, RTC_REG_B, RTC_B_DM, t);
	CHECK_EQ(rd(&r, RTC_HOUR, t), 0x80 | 1);
	/* 12-hour BCD at 00:xx (12 AM) and 12:xx (12 PM). */
	wr(&r, RTC_REG_B, 0, t);
	t += (int64_t)(24 - 13) * 3600 * SEC_NS; /* 00:45 next day */
	CHECK_EQ(rd(&r, RTC_HOUR, t), 0x12);
	CHECK_EQ(rd(&r, RTC_MDAY, t), 0x01); /* 2024-03-01 */
	CHECK_EQ(rd(&r, RTC_MONTH, t), 0x03);
	t += 12LL * 3600 * SEC_NS;
	CHECK_EQ(rd(&r, RTC_HOUR, t), 0x92);
}

TEST(rtc_registers_a_to_d)
{
	struct rtc_cmos r;
	int64_t t = BOOT_NS;

	setup(&r);
	CHECK_EQ(rd(&r, RTC_REG_A, t), RTC_A_DV_RUN);
	CHECK_EQ(rd(&r, RTC_REG_B, t), RTC_B_24H);
	CHECK_EQ(rd(&r, RTC_REG_C, t), 0);
	CHECK_EQ(rd(&r, RTC_REG_D, t), RTC_D_VRT);
	/* C and D are read-only; UIP in A is read-only. */
	wr(&r, RTC_REG_C, 0xff, t);
	wr(&r, RTC_REG_D, 0x00, t);
	CHECK_EQ(rd(&r, RTC_REG_C, t), 0);
	CHECK_EQ(rd(&r, RTC_REG_D, t), RTC_D_VRT);
	wr(&r, RTC_REG_A, 0xa6, t);
	CHECK_EQ(rd(&r, RTC_REG_A, t), 0x26);
	/* UIP: only in the last 244 us before a second boundary. */
	CHECK_EQ(rd(&r, RTC_REG_A, BOOT_NS + SEC_NS - RTC_UIP_NS - 1) &
	    RTC_A_UIP, 0);
	CHECK_EQ(rd(&r, RTC_REG_A, BOOT_NS + SEC_NS - RTC_UIP_NS) &
	    RTC_A_UIP, RTC_A_UIP);
	CHECK_EQ(rd(&r, RTC_REG_A, BOOT_NS + SEC_NS - 1) & RTC_A_UIP,
	    RTC_A_UIP);
	CHECK_EQ(rd(&r, RTC_REG_A, BOOT_NS + SEC_NS) & RTC_A_UIP, 0);
}

TEST(rtc_set_time_with_set_bit)
{
	struct rtc_cmos r;
	int64_t t = BOOT_NS + 10 * SEC_NS;

	setup(&r);
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_SET, t);
	/* Set 1999-12-31 23:59:58. */
	wr(&r, RTC_SEC, 0x58, t);
	wr(&r, RTC_MIN, 0x59, t);
	wr(&r, RTC_HOUR, 0x23, t);
	wr(&r, RTC_MDAY, 0x31, t);
	wr(&r, RTC_MONTH, 0x12, t);
	wr(&r, RTC_YEAR, 0x99, t);
	wr(&r, RTC_CENTURY, 0x19, t);
	/* While SET is on, the registers are the guest's. */
	CHECK_EQ(rd(&r, RTC_YEAR, t + 5 * SEC_NS), 0x99);
	CHECK_EQ(rd(&r, RTC_SEC, t + 5 * SEC_NS), 0x58);
	wr(&r, RTC_REG_B, RTC_B_24H, t);
	CHECK_EQ(rtc_cmos_guest_seconds(&r, t), 946684798LL);
	/* It counts from there, through the century. */
	t += 3 * SEC_NS;
	CHECK_EQ(rd(&r, RTC_SEC, t), 0x01);
	CHECK_EQ(rd(&r, RTC_YEAR, t), 0x00);
	CHECK_EQ(rd(&r, RTC_CENTURY, t), 0x20);
	CHECK_EQ(rd(&r, RTC_MONTH, t), 0x01);
}

TEST(rtc_invalid_time_ignored)
{
	struct rtc_cmos r;
	int64_t t = BOOT_NS;

	setup(&r);
	/* Not BCD, Feb 30, year before 1970: all rejected. */
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_SET, t);
	wr(&r, RTC_SEC, 0x1a, t);
	wr(&r, RTC_REG_B, RTC_B_24H, t);
	CHECK_EQ(rtc_cmos_guest_seconds(&r, t), T0);
	wr(&r, RTC_MDAY, 0x30, t); /* 2024-02-30 */
	CHECK_EQ(rtc_cmos_guest_seconds(&r, t), T0);
	CHECK_EQ(rd(&r, RTC_MDAY, t), 0x29);
	wr(&r, RTC_CENTURY, 0x19, t); /* 1924 */
	CHECK_EQ(rtc_cmos_guest_seconds(&r, t), T0);
	wr(&r, RTC_HOUR, 0x24, t);
	CHECK_EQ(rtc_cmos_guest_seconds(&r, t), T0);
	/* 12-hour mode: hour 0 and 13 do not exist. */
	wr(&r, RTC_REG_B, 0, t);
	wr(&r, RTC_HOUR, 0x00, t);
	wr(&r, RTC_HOUR, 0x13, t);
	CHECK_EQ(rtc_cmos_guest_seconds(&r, t), T0);
	/* A valid single-field write without SET moves the clock. */
	wr(&r, RTC_REG_B, RTC_B_24H, t);
	wr(&r, RTC_YEAR, 0x25, t); /* 2025-02-29 does not exist */
	CHECK_EQ(rd(&r, RTC_YEAR, t), 0x24);
	wr(&r, RTC_MONTH, 0x03, t);
	wr(&r, RTC_YEAR, 0x25, t);
	CHECK_EQ(rd(&r, RTC_YEAR, t), 0x25);
	CHECK_EQ(rd(&r, RTC_MONTH, t), 0x03);
	CHECK_EQ(rd(&r, RTC_MDAY, t), 0x29);
	wr(&r, RTC_CENTURY, 0x99, t);
	CHECK_EQ(rd(&r, RTC_CENTURY, t + SEC_NS), 0x99);
}

TEST(rtc_divider_reset_freezes)
{
	struct rtc_cmos r;
	int64_t t = BOOT_NS;

	setup(&r);
	wr(&r, RTC_REG_A, 0x70, t + 2 * SEC_NS); /* dividers in reset */
	CHECK_EQ(rtc_cmos_guest_seconds(&r, t + 100 * SEC_NS), T0 + 2);
	CHECK_EQ(rd(&r, RTC_SEC, t + 100 * SEC_NS), 0x09);
	wr(&r, RTC_REG_A, 0x26, t + 100 * SEC_NS);
	CHECK_EQ(rtc_cmos_guest_seconds(&r, t + 101 * SEC_NS), T0 + 3);
}

TEST(rtc_memory_bytes)
{
	static const struct {
		uint64_t low, high;
		unsigned ext, above16, above4g;
	} cases[] = {
		{ 512ULL << 10, 0, 0, 0, 0 },             /* tiny */
		{ 1ULL << 20, 0, 0, 0, 0 },               /* exactly 1 MiB */
		{ 16ULL << 20, 0, 15 * 1024, 0, 0 },      /* 16 MiB */
		{ 64ULL << 20, 0, 63 * 1024, 768, 0 },    /* cap reached */
		{ 128ULL << 20, 0, 63 * 1024, 1792, 0 },  /* capped */
		{ 3ULL << 30, 1ULL << 30, 63 * 1024, 0xbf00, 0x4000 },
		{ 3ULL << 30, 1ULL << 40, 63 * 1024, 0xbf00, 0xffffff },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rtc_cmos r;
		unsigned sum = 0;

		setup(&r);
		rtc_cmos_set_memory(&r, cases[i].low, cases[i].high);
		CHECK_EQ(rd(&r, 0x15, BOOT_NS) | rd(&r, 0x16, BOOT_NS) << 8,
		    640);
		CHECK_EQ(rd(&r, 0x17, BOOT_NS) | rd(&r, 0x18, BOOT_NS) << 8,
		    cases[i].ext);
		CHECK_EQ(rd(&r, 0x30, BOOT_NS) | rd(&r, 0x31, BOOT_NS) << 8,
		    cases[i].ext);
		CHECK_EQ(rd(&r, 0x34, BOOT_NS) | rd(&r, 0x35, BOOT_NS) << 8,
		    cases[i].above16);
		CHECK_EQ(rd(&r, 0x5b, BOOT_NS) | rd(&r, 0x5c, BOOT_NS) << 8 |
		    rd(&r, 0x5d, BOOT_NS) << 16, cases[i].above4g);
		for (unsigned j = 0x10; j <= 0x2d; j++)
			sum += rd(&r, j, BOOT_NS);
		CHECK_EQ(rd(&r, 0x2e, BOOT_NS) << 8 | rd(&r, 0x2f, BOOT_NS),
		    sum);
	}
}

TEST(rtc_index_and_nmi_mask)
{
	struct rtc_cmos r;

	setup(&r);
	CHECK_EQ(r.index, RTC_REG_D);
	CHECK(!r.nmi_masked);
	rtc_cmos_index_write(&r, 0x80 | RTC_REG_B);
	CHECK_EQ(r.index, RTC_REG_B);
	CHECK(r.nmi_masked);
	CHECK_EQ(rtc_cmos_data_read(&r, BOOT_NS), RTC_B_24H);
	rtc_cmos_index_write(&r, RTC_REG_B);
	CHECK(!r.nmi_masked);
	/* 0xff selects 0x7f, the last CMOS byte. */
	rtc_cmos_index_write(&r, 0xff);
	CHECK_EQ(r.index, 0x7f);
	rtc_cmos_data_write(&r, 0x42, BOOT_NS);
	CHECK_EQ(rtc_cmos_data_read(&r, BOOT_NS), 0x42);
	/* Every byte can be hit with any value without breaking the model. */
	for (unsigned i = 0; i < 256; i++) {
		rtc_cmos_index_write(&r, (uint8_t)i);
		rtc_cmos_data_write(&r, (uint8_t)(i * 37), BOOT_NS + i);
		(void)rtc_cmos_data_read(&r, BOOT_NS + i);
	}
	CHECK(r.index < RTC_CMOS_SIZE);
}

TEST(rtc_update_and_periodic_interrupts)
{
	struct rtc_cmos r;
	int64_t t = BOOT_NS;

	setup(&r);
	CHECK_EQ(rtc_cmos_timer_ms(&r), 0);
	/* Flags are set even with interrupts off; IRQF is not. */
	CHECK(!rtc_cmos_tick(&r, t + SEC_NS));
	CHECK_EQ(rd(&r, RTC_REG_C, t + SEC_NS), RTC_C_UF);
	/* Update-ended interrupt. */
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_UIE, t + SEC_NS);
	CHECK_EQ(rtc_cmos_timer_ms(&r), 50);
	CHECK(!rtc_cmos_tick(&r, t + SEC_NS + SEC_NS / 2));
	CHECK(rtc_cmos_tick(&r, t + 2 * SEC_NS));
	CHECK_EQ(rd(&r, RTC_REG_C, t + 2 * SEC_NS), RTC_C_IRQF | RTC_C_UF);
	CHECK(!rtc_cmos_irq(&r)); /* reading C acknowledged it */
	/* Setting SET clears UIE and stops update events. */
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_SET, t + 2 * SEC_NS);
	CHECK_EQ(rd(&r, RTC_REG_B, t + 2 * SEC_NS) & RTC_B_UIE, 0);
	CHECK(!rtc_cmos_tick(&r, t + 5 * SEC_NS));
	wr(&r, RTC_REG_B, RTC_B_24H, t + 5 * SEC_NS);
	rd(&r, RTC_REG_C, t + 5 * SEC_NS);

	/* Periodic at rate 15 (2 Hz). */
	wr(&r, RTC_REG_A, RTC_A_DV_RUN | 15, t + 5 * SEC_NS);
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_PIE, t + 5 * SEC_NS);
	CHECK_EQ(rtc_cmos_timer_ms(&r), 500);
	CHECK(rtc_cmos_tick(&r, t + 5 * SEC_NS + SEC_NS / 2));
	CHECK_EQ(rd(&r, RTC_REG_C, t + 6 * SEC_NS) & RTC_C_PF, RTC_C_PF);
	/* Fast rates clamp the timer to 1 ms; rate 0 stops it. */
	wr(&r, RTC_REG_A, RTC_A_DV_RUN | 3, t + 6 * SEC_NS);
	CHECK_EQ(rtc_cmos_timer_ms(&r), 1);
	wr(&r, RTC_REG_A, RTC_A_DV_RUN | 6, t + 6 * SEC_NS);
	CHECK_EQ(rtc_cmos_timer_ms(&r), 1); /* 1024 Hz */
	wr(&r, RTC_REG_A, RTC_A_DV_RUN, t + 6 * SEC_NS);
	CHECK_EQ(rtc_cmos_timer_ms(&r), 0);
	/* Disabling the enable drops a pending IRQF. */
	wr(&r, RTC_REG_A, RTC_A_DV_RUN | 15, t + 6 * SEC_NS);
	CHECK(rtc_cmos_tick(&r, t + 7 * SEC_NS));
	wr(&r, RTC_REG_B, RTC_B_24H, t + 7 * SEC_NS);
	CHECK(!rtc_cmos_irq(&r));
}

TEST(rtc_alarm_interrupt)
{
	struct rtc_cmos r;
	int64_t t = BOOT_NS; /* 13:45:07 */

	setup(&r);
	/* Alarm at 13:45:10. */
	wr(&r, RTC_SEC_ALARM, 0x10, t);
	wr(&r, RTC_MIN_ALARM, 0x45, t);
	wr(&r, RTC_HOUR_ALARM, 0x13, t);
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_AIE, t);
	CHECK(!rtc_cmos_tick(&r, t + 2 * SEC_NS));
	CHECK(rtc_cmos_tick(&r, t + 3 * SEC_NS));
	CHECK_EQ(rd(&r, RTC_REG_C, t + 3 * SEC_NS) & RTC_C_AF, RTC_C_AF);
	CHECK(!rtc_cmos_tick(&r, t + 4 * SEC_NS));
	/* Skipping past the alarm time in one step still catches it. */
	wr(&r, RTC_SEC_ALARM, 0x30, t + 4 * SEC_NS);
	CHECK(rtc_cmos_tick(&r, t + 40 * SEC_NS));
	rd(&r, RTC_REG_C, t + 40 * SEC_NS);
	/* "Don't care" hour and minute: every minute at :30. */
	wr(&r, RTC_MIN_ALARM, 0xc0, t + 40 * SEC_NS);
	wr(&r, RTC_HOUR_ALARM, 0xff, t + 40 * SEC_NS);
	CHECK(!rtc_cmos_tick(&r, t + 82 * SEC_NS)); /* 13:46:29 */
	CHECK(rtc_cmos_tick(&r, t + 83 * SEC_NS));  /* 13:46:30 */
	/* A gap of days is bounded work and still matches. */
	rd(&r, RTC_REG_C, t + 83 * SEC_NS);
	CHECK(rtc_cmos_tick(&r, t + 400LL * 86400 * SEC_NS));
}
