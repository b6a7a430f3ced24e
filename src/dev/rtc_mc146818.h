/*
 * rtc_mc146818.h - the MC146818 real-time clock and CMOS memory model
 * (bhyve's vrtc.c and rtc.c), with no I/O, locking or timers of its own.
 *
 * Time: every entry point takes `now`, a monotonic host time in
 * nanoseconds, so the model is deterministic under test.  The guest's
 * clock is now + an offset; rtc_cmos_init() sets the offset from the
 * wall clock the caller chose (UTC, or local time for rtc.use_localtime),
 * and a guest that sets the time only moves the offset.  The host clock
 * stepping later does not move the guest's clock (as bhyve, which counts
 * uptime after setting the RTC once).
 *
 * Interrupts: flags in register C are set as the hardware would
 * (periodic PF, alarm AF, update-ended UF) whenever the model is advanced
 * (every access, and rtc_cmos_tick()), and the IRQ line is the IRQF bit:
 * high from the first enabled flag until the guest reads register C.
 * A caller that wants interrupts without guest accesses runs a timer of
 * rtc_cmos_timer_ms() and calls rtc_cmos_tick().
 *
 * Everything the guest writes is hostile: any index and value is accepted;
 * time written in an invalid format is ignored (the clock keeps running).
 * The caller serialises all calls on one struct.
 */
#ifndef KHYVE_DEV_RTC_MC146818_H
#define KHYVE_DEV_RTC_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_CMOS_SIZE 128

/* Register indexes and bits. */
enum {
	RTC_SEC = 0x00, RTC_SEC_ALARM = 0x01, RTC_MIN = 0x02,
	RTC_MIN_ALARM = 0x03, RTC_HOUR = 0x04, RTC_HOUR_ALARM = 0x05,
	RTC_WDAY = 0x06, RTC_MDAY = 0x07, RTC_MONTH = 0x08, RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32,
};

#define RTC_A_UIP 0x80
#define RTC_A_DV_MASK 0x70
#define RTC_A_DV_RUN 0x20 /* 32.768 kHz time base, dividers counting */
#define RTC_A_RS_MASK 0x0f

#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM 0x04   /* binary (else BCD) */
#define RTC_B_24H 0x02
#define RTC_B_DSE 0x01

#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10

#define RTC_D_VRT 0x80

/* The update cycle: UIP reads 1 during the last 244 us of each second. */
#define RTC_UIP_NS 244000

struct rtc_cmos {
	uint8_t index;    /* register selected through port 0x70 */
	bool nmi_masked;  /* bit 7 of the last port 0x70 write */
	uint8_t ram[RTC_CMOS_SIZE];
	__int128 off_ns;  /* guest time = now + off_ns while counting */
	__int128 frozen_ns; /* guest time while the dividers are in reset */
	int64_t last_ns;  /* `now` of the last flag evaluation */
};

/* Power-on state (bhyve's: A=0x20, B=24h BCD, D=VRT), guest clock set to
 * `wall_ns` (nanoseconds since 1970 in the time zone the guest wants). */
void rtc_cmos_init(struct rtc_cmos *r, int64_t now, int64_t wall_ns);

/* The memory-size bytes firmware reads (base, extended, above 16 MiB,
 * above 4 GiB) and the standard checksum over 0x10-0x2d. */
void rtc_cmos_set_memory(struct rtc_cmos *r, uint64_t lowmem,
    uint64_t highmem);

/* Port 0x70 (write only; bhyve reads it as 0xff). */
void rtc_cmos_index_write(struct rtc_cmos *r, uint8_t val);
/* Port 0x71. */
uint8_t rtc_cmos_data_read(struct rtc_cmos *r, int64_t now);
void rtc_cmos_data_write(struct rtc_cmos *r, uint8_t val, int64_t now);

/* Advance the flags to `now`; returns the IRQ line level. */
bool rtc_cmos_tick(struct rtc_cmos *r, int64_t now);
/* The IRQ line level (IRQF). */
bool rtc_cmos_irq(const struct rtc_cmos *r);
/* Period in ms of a timer that keeps enabled interrupts timely; 0: none
 * needed. */
unsigned rtc_cmos_timer_ms(const struct rtc_cmos *r);
/* Guest clock in whole seconds since 1970 (for tests and debugging). */
int64_t rtc_cmos_guest_seconds(const struct rtc_cmos *r, int64_t now);

#endif
