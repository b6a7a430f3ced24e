/*
 * test_mevent.c - the event loop: callbacks fire, stop returns its code,
 * a timer added disabled runs only once enabled, and destroying a loop
 * frees the events nobody deleted without closing the caller's
 * descriptors (under SANITIZE=1 LeakSanitizer checks the freeing at exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "event/mevent.h"
#include "test.h"

static void on_read(int fd, enum mevent_type type, void *arg)
{
	struct mevent_loop *l = arg;
	char c;

	(void)type;
	if (read(fd, &c, 1) == 1)
		mevent_loop_stop(l, c);
}

static void on_timer(int fd, enum mevent_type type, void *arg)
{
	int *n = arg;

	(void)fd;
	(void)type;
	(*n)++;
}

TEST(mevent_dispatch_and_stop)
{
	struct mevent_loop *l = mevent_loop_create();
	int p[2], ticks = 0;

	CHECK(l != NULL);
	if (l == NULL)
		return;
	CHECK_EQ(pipe(p), 0);
	CHECK(mevent_add(l, p[0], EVF_READ, on_read, l) != NULL);
	CHECK(mevent_add(l, 1, EVF_TIMER, on_timer, &ticks) != NULL);
	CHECK_EQ(write(p[1], "*", 1), 1);
	CHECK_EQ(mevent_dispatch(l), '*');
	mevent_loop_destroy(l);
	close(p[0]);
	close(p[1]);
}

TEST(mevent_destroy_frees_live_events)
{
	struct mevent_loop *l = mevent_loop_create();
	struct mevent *a, *b, *c;
	int p[2], ticks = 0;

	CHECK(l != NULL);
	if (l == NULL)
		return;
	CHECK_EQ(pipe(p), 0);
	a = mevent_add(l, p[0], EVF_READ, on_read, l);
	b = mevent_add(l, 1000, EVF_TIMER, on_timer, &ticks);
	c = mevent_add(l, SIGUSR2, EVF_SIGNAL, on_timer, &ticks);
	CHECK(a != NULL && b != NULL && c != NULL);
	/* One deleted by its owner (the middle of the live list), two not. */
	CHECK_EQ(mevent_delete(b), 0);
	CHECK_EQ(mevent_delete(b), -ENOENT);
	mevent_loop_destroy(l);
	/* The caller's descriptors stay theirs. */
	CHECK(fcntl(p[0], F_GETFD) >= 0);
	CHECK(fcntl(p[1], F_GETFD) >= 0);
	close(p[0]);
	close(p[1]);
	mevent_loop_destroy(NULL);
}

static void stop_loop(int fd, enum mevent_type type, void *arg)
{
	(void)fd;
	(void)type;
	mevent_loop_stop(arg, 1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A 50 ms timer that stops its loop, disabled (at creation, or by
 * mevent_disable while it ran): wait three of its periods, enable it and
 * time the loop.  A timer that had run while disabled would be pending
 * and stop the loop at once; a stopped one takes a full period.
 */
static uint64_t ms_to_fire_after_nap(bool made_disabled)
{
	struct mevent_loop *l = mevent_loop_create();
	struct timespec nap = { 0, 150 * 1000000L };
	struct mevent *t;
	uint64_t t0, ms = 0;

	if (l == NULL)
		return 0;
	if (made_disabled)
		t = mevent_add_disabled(l, 50, EVF_TIMER, stop_loop, l);
	else if ((t = mevent_add(l, 50, EVF_TIMER, stop_loop, l)) != NULL &&
	    mevent_disable(t) != 0)
		t = NULL;
	if (t != NULL) {
		nanosleep(&nap, NULL);
		t0 = now_ms();
		if (mevent_enable(t) == 0 && mevent_dispatch(l) == 1)
			ms = now_ms() - t0;
	}
	mevent_loop_destroy(l);
	return ms;
}

TEST(mevent_disabled_timer_waits_for_enable)
{
	CHECK(ms_to_fire_after_nap(true) >= 45);
	CHECK(ms_to_fire_after_nap(false) >= 45);
}
