/*
 * rtc_mc146818.c - the MC146818 RTC/CMOS model (see rtc_mc146818.h).
 *
 * Clock state: the date/time registers are not a stored clock but a view
 * rendered from `guest ns` whenever the guest reads them, in the format
 * register B selects (BCD or binary, 12 or 24 hours).  The clock counts
 * when the dividers run (A.DV = 010, as bhyve's divider_enabled()); with
 * the dividers in reset it is frozen at frozen_ns.  While B.SET is set the
 * guest owns the registers: nothing is rendered, writes are stored, and
 * clearing SET turns the registers into the new time.  A time register
 * written without SET changes the clock at once (bhyve only does this for
 * the century byte, for OpenBSD); an invalid time is ignored.
 *
 * Times are kept in 128-bit nanoseconds so that any time a guest can
 * write (up to 9999-12-31) is representable.
 */
#include <string.h>
#include <time.h>

#include "common.h"
#include "dev/rtc_mc146818.h"

#define NS 1000000000LL
#define SECS_PER_DAY 86400
#define KIB 1024ULL
#define MIB (1024 * KIB)

static bool dividers_run(const struct rtc_cmos *r)
{
	return (r->ram[RTC_REG_A] & RTC_A_DV_MASK) == RTC_A_DV_RUN;
}

static bool halted(const struct rtc_cmos *r)
{
	return (r->ram[RTC_REG_B] & RTC_B_SET) != 0;
}

/* The clock advances and produces update/alarm events. */
static bool counting(const struct rtc_cmos *r)
{
	return dividers_run(r) && !halted(r);
}

static __int128 guest_ns(const struct rtc_cmos *r, int64_t now)
{
	return dividers_run(r) ? (__int128)now + r->off_ns : r->frozen_ns;
}

static int64_t floor_div(__int128 a, int64_t b)
{
	return (int64_t)(a >= 0 ? a / b : -((-a + b - 1) / b));
}

int64_t rtc_cmos_guest_seconds(const struct rtc_cmos *r, int64_t now)
{
	return floor_div(guest_ns(r, now), NS);
}

/* ---- register formats -------------------------------------------------- */

static uint8_t enc(const struct rtc_cmos *r, unsigned v)
{
	v %= 100;
	if (r->ram[RTC_REG_B] & RTC_B_DM)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* A register value in the current format, or -1 if it is not valid. */
static int dec(const struct rtc_cmos *r, uint8_t v)
{
	if (r->ram[RTC_REG_B] & RTC_B_DM)
		return v;
	if ((v & 0x0f) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t enc_hour(const struct rtc_cmos *r, unsigned h24)
{
	unsigned h12;

	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return enc(r, h24);
	/* 12-hour mode: 12 AM is 12, bit 7 flags PM. */
	h12 = h24 % 12 == 0 ? 12 : h24 % 12;
	return (uint8_t)(enc(r, h12) | (h24 >= 12 ? 0x80 : 0));
}

static int dec_hour(const struct rtc_cmos *r, uint8_t v)
{
	int h;

	if (r->ram[RTC_REG_B] & RTC_B_24H) {
		h = dec(r, v);
		return h >= 0 && h <= 23 ? h : -1;
	}
	h = dec(r, v & 0x7f);
	if (h < 1 || h > 12)
		return -1;
	if (h == 12)
		h = 0;
	return (v & 0x80) ? h + 12 : h;
}

static void render(struct rtc_cmos *r, int64_t secs)
{
	struct tm tm;
	time_t t = (time_t)secs;
	int year;

	if (gmtime_r(&t, &tm) == NULL)
		return;
	year = tm.tm_year + 1900;
	r->ram[RTC_SEC] = enc(r, (unsigned)tm.tm_sec);
	r->ram[RTC_MIN] = enc(r, (unsigned)tm.tm_min);
	r->ram[RTC_HOUR] = enc_hour(r, (unsigned)tm.tm_hour);
	r->ram[RTC_WDAY] = enc(r, (unsigned)tm.tm_wday + 1);
	r->ram[RTC_MDAY] = enc(r, (unsigned)tm.tm_mday);
	r->ram[RTC_MONTH] = enc(r, (unsigned)tm.tm_mon + 1);
	r->ram[RTC_YEAR] = enc(r, (unsigned)(year % 100));
	r->ram[RTC_CENTURY] = enc(r, (unsigned)MIN(year / 100, 99));
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The time in the registers, if it is a valid date from 1970 on. */
static bool parse(const struct rtc_cmos *r, int64_t *secs)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	int sec = dec(r, r->ram[RTC_SEC]), min = dec(r, r->ram[RTC_MIN]);
	int hour = dec_hour(r, r->ram[RTC_HOUR]);
	int mday = dec(r, r->ram[RTC_MDAY]), mon = dec(r, r->ram[RTC_MONTH]);
	int yy = dec(r, r->ram[RTC_YEAR]), cc = dec(r, r->ram[RTC_CENTURY]);
	struct tm tm;
	int year;

	/* The day of the week is ignored, as bhyve does: guests don't all
	 * keep it right. */
	if (sec < 0 || sec > 59 || min < 0 || min > 59 || hour < 0 ||
	    mon < 1 || mon > 12 || yy < 0 || yy > 99 || cc < 0 || cc > 99)
		return false;
	year = cc * 100 + yy;
	if (year < 1970 || mday < 1 ||
	    mday > mdays[mon - 1] + (mon == 2 && leap(year)))
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = sec;
	tm.tm_min = min;
	tm.tm_hour = hour;
	tm.tm_mday = mday;
	tm.tm_mon = mon - 1;
	tm.tm_year = year - 1900;
	*secs = (int64_t)timegm(&tm);
	return true;
}

static void set_time(struct rtc_cmos *r, int64_t secs, int64_t now)
{
	__int128 t = (__int128)secs * NS;

	/* The new second starts now. */
	if (dividers_run(r))
		r->off_ns = t - now;
	else
		r->frozen_ns = t;
}

/* ---- interrupt flags --------------------------------------------------- */

static int64_t period_ns(const struct rtc_cmos *r)
{
	unsigned rs = r->ram[RTC_REG_A] & RTC_A_RS_MASK;

	if (rs == 0 || !dividers_run(r))
		return 0;
	/* Rates 1 and 2 are 256 and 128 Hz with a 32.768 kHz base. */
	if (rs < 3)
		rs += 7;
	return (int64_t)((NS << (rs - 1)) / 32768);
}

static void set_c(struct rtc_cmos *r, uint8_t c)
{
	uint8_t b = r->ram[RTC_REG_B];

	c &= RTC_C_PF | RTC_C_AF | RTC_C_UF;
	if (((c & RTC_C_PF) && (b & RTC_B_PIE)) ||
	    ((c & RTC_C_AF) && (b & RTC_B_AIE)) ||
	    ((c & RTC_C_UF) && (b & RTC_B_UIE)))
		c |= RTC_C_IRQF;
	r->ram[RTC_REG_C] = c;
}

static bool alarm_match(const struct rtc_cmos *r, int64_t t)
{
	int64_t sod = t % SECS_PER_DAY;
	uint8_t as = r->ram[RTC_SEC_ALARM], am = r->ram[RTC_MIN_ALARM];
	uint8_t ah = r->ram[RTC_HOUR_ALARM];

	if (sod < 0)
		sod += SECS_PER_DAY;
	/* 11xxxxxx in an alarm byte matches anything. */
	return (as >= 0xc0 || as == enc(r, (unsigned)(sod % 60))) &&
	    (am >= 0xc0 || am == enc(r, (unsigned)(sod / 60 % 60))) &&
	    (ah >= 0xc0 || ah == enc_hour(r, (unsigned)(sod / 3600)));
}

/* Set the flags for everything that happened since last_ns. */
static void advance(struct rtc_cmos *r, int64_t now)
{
	int64_t last = r->last_ns, p = period_ns(r);
	uint8_t c = r->ram[RTC_REG_C];

	if (now <= last)
		return;
	if (p > 0 && floor_div(now, p) != floor_div(last, p))
		c |= RTC_C_PF;
	if (counting(r)) {
		int64_t g0 = floor_div((__int128)last + r->off_ns, NS);
		int64_t g1 = floor_div((__int128)now + r->off_ns, NS);

		if (g1 > g0) {
			c |= RTC_C_UF;
			/* Any alarm pattern matches within a day. */
			if (g1 - g0 > SECS_PER_DAY)
				g0 = g1 - SECS_PER_DAY;
			for (int64_t t = g0 + 1; t <= g1; t++) {
				if (alarm_match(r, t)) {
					c |= RTC_C_AF;
					break;
				}
			}
		}
	}
	r->last_ns = now;
	set_c(r, c);
}

bool rtc_cmos_irq(const struct rtc_cmos *r)
{
	return (r->ram[RTC_REG_C] & RTC_C_IRQF) != 0;
}

bool rtc_cmos_tick(struct rtc_cmos *r, int64_t now)
{
	advance(r, now);
	return rtc_cmos_irq(r);
}

unsigned rtc_cmos_timer_ms(const struct rtc_cmos *r)
{
	uint8_t b = r->ram[RTC_REG_B];
	int64_t p = period_ns(r);
	unsigned ms = 0;

	if ((b & RTC_B_PIE) && p > 0)
		ms = (unsigned)MAX(p / 1000000, 1);
	/* Update and alarm events fall on second boundaries the timer is
	 * not aligned to: look often enough to be at most 50 ms late. */
	if ((b & (RTC_B_AIE | RTC_B_UIE)) && counting(r))
		ms = ms ? MIN(ms, 50u) : 50u;
	return ms;
}

/* ---- registers --------------------------------------------------------- */

void rtc_cmos_init(struct rtc_cmos *r, int64_t now, int64_t wall_ns)
{
	memset(r, 0, sizeof(*r));
	r->ram[RTC_REG_A] = RTC_A_DV_RUN;
	r->ram[RTC_REG_B] = RTC_B_24H;
	r->ram[RTC_REG_D] = RTC_D_VRT;
	r->index = RTC_REG_D;
	r->off_ns = (__int128)wall_ns - now;
	r->frozen_ns = wall_ns;
	r->last_ns = now;
	render(r, rtc_cmos_guest_seconds(r, now));
}

static void put16(struct rtc_cmos *r, unsigned at, uint64_t v)
{
	r->ram[at] = (uint8_t)v;
	r->ram[at + 1] = (uint8_t)(v >> 8);
}

void rtc_cmos_set_memory(struct rtc_cmos *r, uint64_t lowmem,
    uint64_t highmem)
{
	uint64_t ext, above16, above4g;
	unsigned sum = 0;

	/* 0x15/0x16: base memory, 640 KiB. */
	put16(r, 0x15, 640);
	/* 0x17/0x18, 0x30/0x31: KiB above 1 MiB, at most 63 MiB. */
	ext = lowmem > MIB ? (lowmem - MIB) / KIB : 0;
	ext = MIN(ext, 63 * 1024ULL);
	put16(r, 0x17, ext);
	put16(r, 0x30, ext);
	/* 0x34/0x35: 64 KiB units from 16 MiB to the top of low memory. */
	above16 = lowmem > 16 * MIB ? (lowmem - 16 * MIB) / (64 * KIB) : 0;
	put16(r, 0x34, MIN(above16, 0xffffULL));
	/* 0x5b-0x5d: 64 KiB units above 4 GiB. */
	above4g = MIN(highmem / (64 * KIB), 0xffffffULL);
	r->ram[0x5b] = (uint8_t)above4g;
	r->ram[0x5c] = (uint8_t)(above4g >> 8);
	r->ram[0x5d] = (uint8_t)(above4g >> 16);
	/* 0x2e/0x2f: big-endian sum of 0x10-0x2d. */
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->ram[i];
	r->ram[0x2e] = (uint8_t)(sum >> 8);
	r->ram[0x2f] = (uint8_t)sum;
}

void rtc_cmos_index_write(struct rtc_cmos *r, uint8_t val)
{
	r->index = val & 0x7f;
	r->nmi_masked = (val & 0x80) != 0;
}

static bool is_time_reg(unsigned i)
{
	return i == RTC_SEC || i == RTC_MIN || i == RTC_HOUR ||
	    i == RTC_WDAY || i == RTC_MDAY || i == RTC_MONTH ||
	    i == RTC_YEAR || i == RTC_CENTURY;
}

uint8_t rtc_cmos_data_read(struct rtc_cmos *r, int64_t now)
{
	unsigned i = r->index % RTC_CMOS_SIZE;
	uint8_t v;

	advance(r, now);
	if (is_time_reg(i) && !halted(r))
		render(r, rtc_cmos_guest_seconds(r, now));
	switch (i) {
	case RTC_REG_A:
		v = r->ram[RTC_REG_A];
		if (counting(r) &&
		    guest_ns(r, now) % NS >= NS - RTC_UIP_NS)
			v |= RTC_A_UIP;
		return v;
	case RTC_REG_C:
		/* Reading C acknowledges every flag (and drops IRQF). */
		v = r->ram[RTC_REG_C];
		r->ram[RTC_REG_C] = 0;
		return v;
	default:
		return r->ram[i];
	}
}

static void write_a(struct rtc_cmos *r, uint8_t val, int64_t now)
{
	bool ran = dividers_run(r);

	/* Freezing keeps the time the dividers stopped at; restarting
	 * continues from it, as if no time had passed. */
	if (ran)
		r->frozen_ns = guest_ns(r, now);
	r->ram[RTC_REG_A] = val & (uint8_t)~RTC_A_UIP;
	if (!ran && dividers_run(r))
		r->off_ns = r->frozen_ns - now;
}

static void write_b(struct rtc_cmos *r, uint8_t val, int64_t now)
{
	uint8_t old = r->ram[RTC_REG_B];
	int64_t secs;

	if (!(old & RTC_B_SET) && (val & RTC_B_SET)) {
		/* Setting SET stops updates and clears UIE. */
		val &= (uint8_t)~RTC_B_UIE;
		r->ram[RTC_REG_B] = val;
		render(r, rtc_cmos_guest_seconds(r, now));
	} else {
		r->ram[RTC_REG_B] = val;
	}
	if ((old & RTC_B_SET) && !(val & RTC_B_SET) && parse(r, &secs))
		set_time(r, secs, now);
	set_c(r, r->ram[RTC_REG_C]); /* the enables changed */
}

void rtc_cmos_data_write(struct rtc_cmos *r, uint8_t val, int64_t now)
{
	unsigned i = r->index % RTC_CMOS_SIZE;
	int64_t secs;

	advance(r, now);
	switch (i) {
	case RTC_REG_A:
		write_a(r, val, now);
		break;
	case RTC_REG_B:
		write_b(r, val, now);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		if (!is_time_reg(i) || halted(r)) {
			r->ram[i] = i == RTC_SEC ? val & 0x7f : val;
			break;
		}
		/* Running clock: change one field of the current time. */
		render(r, rtc_cmos_guest_seconds(r, now));
		r->ram[i] = i == RTC_SEC ? val & 0x7f : val;
		if (parse(r, &secs))
			set_time(r, secs, now);
		break;
	}
}
