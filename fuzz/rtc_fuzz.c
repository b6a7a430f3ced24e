/*
 * rtc_fuzz.c - the MC146818 RTC/CMOS model (src/dev/rtc_mc146818.c):
 * guest index/data port accesses at guest-chosen moments (the model takes
 * `now` as an argument, so the run is deterministic), including time set
 * in any format, divider resets, alarms and periodic rates.
 *
 * Input: 8 bytes of start time, 8 of wall clock, then operations; each
 * first byte picks: 0 index write, 1 data write, 2 data read, 3 tick,
 * 4 let time pass (up to ~2^40 ns), 5 timer_ms/guest_seconds queries.
 */
#include <stdlib.h>

#include "dev/rtc_mc146818.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_cmos r;
	struct fz f;
	int64_t now, wall;

	fz_init(&f, data, size);
	/* Any start time a host could have: 0..2^62 ns. */
	now = (int64_t)(fz_u64(&f) >> 2);
	wall = (int64_t)(fz_u64(&f) >> 2);
	rtc_cmos_init(&r, now, wall);
	rtc_cmos_set_memory(&r, fz_u64(&f), fz_u64(&f));
	while (fz_more(&f)) {
		uint8_t op = fz_u8(&f);

		switch (op % 6) {
		case 0:
			rtc_cmos_index_write(&r, fz_u8(&f));
			break;
		case 1:
			rtc_cmos_data_write(&r, fz_u8(&f), now);
			break;
		case 2:
			(void)rtc_cmos_data_read(&r, now);
			break;
		case 3:
			if (rtc_cmos_tick(&r, now) != rtc_cmos_irq(&r))
				abort();
			break;
		case 4:
			/* Monotonic time only moves forward. */
			now += (int64_t)(fz_u64(&f) & ((1ULL << (op >> 3)) - 1) &
			    ((1ULL << 40) - 1));
			break;
		default:
			(void)rtc_cmos_timer_ms(&r);
			(void)rtc_cmos_guest_seconds(&r, now);
			break;
		}
		if (r.index >= RTC_CMOS_SIZE)
			abort();
	}
	return 0;
}
