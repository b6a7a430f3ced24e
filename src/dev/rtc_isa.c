/*
 * rtc_isa.c - the MC146818 model (rtc_mc146818.c) at ports 0x70/0x71,
 * IRQ 8, with the CMOS memory-size bytes from the VM's memory and the
 * host clock (UTC, or local time unless rtc.use_localtime=false: bhyve's
 * -u).  Every PC has one, so it has no -l name and is always present.
 *
 * Threads: port accesses on vCPU threads, the interrupt timer on the
 * event-loop thread; sc->lock serialises both, and vm_irq_line() is called
 * under it so levels are delivered in order.  The timer exists only while
 * the guest has enabled an interrupt that needs one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "dev/platform.h"
#include "dev/rtc_mc146818.h"
#include "event/mevent.h"
#include "vmm/vm.h"

#define RTC_PORT 0x70
#define RTC_NPORTS 2
#define RTC_IRQ 8

struct rtc_isa {
	pthread_mutex_t lock;
	struct rtc_cmos c;
	struct vm *vm;
	int irq_level;
	struct mevent *timer;
	unsigned timer_ms;
};

static int64_t ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void rtc_timer(int fd, enum mevent_type type, void *arg);

/* Line and timer follow the model; sc->lock held. */
static void rtc_sync(struct rtc_isa *sc)
{
	int level = rtc_cmos_irq(&sc->c) ? 1 : 0;
	unsigned ms = rtc_cmos_timer_ms(&sc->c);

	if (level != sc->irq_level &&
	    vm_irq_line(sc->vm, RTC_IRQ, level) == 0)
		sc->irq_level = level;
	if (ms == sc->timer_ms || sc->vm->ev == NULL)
		return;
	if (sc->timer != NULL)
		mevent_delete(sc->timer);
	sc->timer = NULL;
	sc->timer_ms = 0;
	if (ms == 0)
		return;
	sc->timer = mevent_add(sc->vm->ev, (int)ms, EVF_TIMER, rtc_timer, sc);
	if (sc->timer != NULL)
		sc->timer_ms = ms;
	else
		khyve_warn("rtc: cannot start the interrupt timer");
}

static void rtc_timer(int fd, enum mevent_type type, void *arg)
{
	struct rtc_isa *sc = arg;

	(void)fd;
	(void)type;
	pthread_mutex_lock(&sc->lock);
	rtc_cmos_tick(&sc->c, ts_ns(CLOCK_MONOTONIC));
	rtc_sync(sc);
	pthread_mutex_unlock(&sc->lock);
}

static int rtc_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct rtc_isa *sc = opaque;
	int64_t now = ts_ns(CLOCK_MONOTONIC);
	uint64_t out = 0;

	(void)vcpu;
	pthread_mutex_lock(&sc->lock);
	/* A word access is the index then the data port, as on ISA. */
	for (int i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(*val >> (8 * i));
		uint64_t port = offset + (uint64_t)i;

		if (port == 0) {
			if (write)
				rtc_cmos_index_write(&sc->c, b);
			else
				out |= 0xffULL << (8 * i); /* as bhyve */
		} else if (write) {
			rtc_cmos_data_write(&sc->c, b, now);
		} else {
			out |= (uint64_t)rtc_cmos_data_read(&sc->c, now)
			    << (8 * i);
		}
	}
	rtc_sync(sc);
	pthread_mutex_unlock(&sc->lock);
	if (!write)
		*val = out;
	return 0;
}

static int rtc_init(const struct platform_dev *dev, struct vm *vm)
{
	struct rtc_isa *sc;
	int64_t wall = ts_ns(CLOCK_REALTIME);
	int rc;

	(void)dev;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	if (config_bool(NULL, "rtc.use_localtime", true)) {
		time_t t = (time_t)(wall / 1000000000LL);
		struct tm tm;

		/* The guest sees local wall-clock time as if it were UTC. */
		if (localtime_r(&t, &tm) != NULL)
			wall += (int64_t)tm.tm_gmtoff * 1000000000LL;
	}
	pthread_mutex_init(&sc->lock, NULL);
	sc->vm = vm;
	rtc_cmos_init(&sc->c, ts_ns(CLOCK_MONOTONIC), wall);
	rtc_cmos_set_memory(&sc->c, vm->mem.lowmem, vm->mem.highmem);
	rc = iobus_register(&vm->pio, RTC_PORT, RTC_NPORTS, rtc_io, sc, "rtc");
	if (rc != 0) {
		pthread_mutex_destroy(&sc->lock);
		free(sc);
	}
	return rc;
}

static void rtc_fini(const struct platform_dev *dev, struct vm *vm)
{
	struct rtc_isa *sc = iobus_opaque(&vm->pio, RTC_PORT);

	(void)dev;
	if (sc == NULL)
		return;
	iobus_unregister(&vm->pio, RTC_PORT);
	if (sc->timer != NULL)
		mevent_delete(sc->timer);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

static const struct platform_dev rtc_dev = {
	.name = "rtc",
	.init = rtc_init,
	.fini = rtc_fini,
};
PLATFORM_DEV_SET(rtc_dev);
