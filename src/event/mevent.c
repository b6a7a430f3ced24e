/*
 * mevent.c - the event loop on epoll (see mevent.h for the contract).
 *
 * Each event owns an epoll registration keyed by a pointer to its struct.
 * Timers and signals are turned into file descriptors (timerfd, signalfd),
 * so the loop only ever waits on epoll.  Deleted events are put on a
 * graveyard list and freed by the loop thread between dispatch rounds: the
 * epoll_wait batch of the current round may still hold their pointer.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common.h"
#include "event/mevent.h"

struct mevent {
	struct mevent_loop *loop;
	int fd;       /* the fd epoll watches (a timerfd/signalfd for those) */
	int user_fd;  /* what the callback is told: fd, period or signal */
	bool own_fd;  /* fd was made here (timer/signal): close on delete */
	enum mevent_type type;
	mevent_cb_t *cb;
	void *arg;
	atomic_bool dead;
	struct mevent *next_dead;
	struct mevent *prev_live, *next_live; /* the loop's live list */
};

struct mevent_loop {
	int epfd;
	int wakefd;
	atomic_bool stop;
	int code;
	pthread_mutex_t lock; /* protects graveyard, live and code */
	struct mevent *graveyard;
	struct mevent *live; /* added and not deleted: destroy frees them */
};

struct mevent_loop *mevent_loop_create(void)
{
	struct mevent_loop *l = calloc(1, sizeof(*l));
	struct epoll_event ee = { .events = EPOLLIN, .data.ptr = NULL };

	if (l == NULL)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto fail_free;
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wakefd < 0)
		goto fail_ep;
	/* data.ptr NULL marks the wake-up descriptor. */
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ee) < 0)
		goto fail_wake;
	pthread_mutex_init(&l->lock, NULL);
	return l;

fail_wake:
	close(l->wakefd);
fail_ep:
	close(l->epfd);
fail_free:
	free(l);
	return NULL;
}

static void reap(struct mevent_loop *l)
{
	struct mevent *ev;

	pthread_mutex_lock(&l->lock);
	ev = l->graveyard;
	l->graveyard = NULL;
	pthread_mutex_unlock(&l->lock);
	while (ev != NULL) {
		struct mevent *next = ev->next_dead;

		free(ev);
		ev = next;
	}
}

static int del(struct mevent *ev, bool close_fd);

void mevent_loop_destroy(struct mevent_loop *l)
{
	if (l == NULL)
		return;
	/* Events nobody deleted (the signal handlers, the VM's exit fd and
	 * timers live as long as the loop) go with it. */
	while (l->live != NULL)
		del(l->live, false);
	reap(l);
	close(l->wakefd);
	close(l->epfd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static uint32_t ev_mask(enum mevent_type t)
{
	return t == EVF_WRITE ? EPOLLOUT : EPOLLIN;
}

/* Start a timer event's period from now, or stop it (and forget any
 * expiration not yet read). */
static int timer_arm(struct mevent *ev, bool on)
{
	struct itimerspec its = { 0 };

	if (on) {
		its.it_interval.tv_sec = ev->user_fd / 1000;
		its.it_interval.tv_nsec = (long)(ev->user_fd % 1000) * 1000000L;
		its.it_value = its.it_interval;
	}
	return timerfd_settime(ev->fd, 0, &its, NULL);
}

static struct mevent *add(struct mevent_loop *l, int fd, enum mevent_type type,
    mevent_cb_t *cb, void *arg, bool enabled)
{
	struct mevent *ev = calloc(1, sizeof(*ev));
	struct epoll_event ee;

	if (ev == NULL)
		return NULL;
	ev->loop = l;
	ev->type = type;
	ev->cb = cb;
	ev->arg = arg;
	ev->user_fd = fd;
	ev->fd = fd;
	if (type == EVF_TIMER) {
		if (fd <= 0) {
			errno = EINVAL;
			goto fail;
		}
		ev->fd = timerfd_create(CLOCK_MONOTONIC,
		    TFD_CLOEXEC | TFD_NONBLOCK);
		if (ev->fd < 0)
			goto fail;
		ev->own_fd = true;
		/* A disabled timer is disarmed too: a timerfd that ran all
		 * along would be readable the moment it is enabled. */
		if (enabled && timer_arm(ev, true) < 0)
			goto fail_fd;
	} else if (type == EVF_SIGNAL) {
		sigset_t set;

		sigemptyset(&set);
		if (sigaddset(&set, fd) < 0)
			goto fail;
		/* Blocked so the signal is only seen through the signalfd. */
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		ev->fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
		if (ev->fd < 0)
			goto fail;
		ev->own_fd = true;
	}
	memset(&ee, 0, sizeof(ee));
	ee.events = enabled ? ev_mask(type) : 0;
	ee.data.ptr = ev;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, ev->fd, &ee) < 0)
		goto fail_fd;
	pthread_mutex_lock(&l->lock);
	ev->next_live = l->live;
	if (l->live != NULL)
		l->live->prev_live = ev;
	l->live = ev;
	pthread_mutex_unlock(&l->lock);
	return ev;

fail_fd:
	if (ev->own_fd) {
		int e = errno;

		close(ev->fd);
		errno = e;
	}
fail:
	free(ev);
	return NULL;
}

struct mevent *mevent_add(struct mevent_loop *l, int fd, enum mevent_type type,
    mevent_cb_t *cb, void *arg)
{
	return add(l, fd, type, cb, arg, true);
}

struct mevent *mevent_add_disabled(struct mevent_loop *l, int fd,
    enum mevent_type type, mevent_cb_t *cb, void *arg)
{
	return add(l, fd, type, cb, arg, false);
}

static int set_mask(struct mevent *ev, uint32_t mask)
{
	struct epoll_event ee = { .events = mask, .data.ptr = ev };

	if (atomic_load(&ev->dead))
		return -ENOENT;
	return epoll_ctl(ev->loop->epfd, EPOLL_CTL_MOD, ev->fd, &ee) < 0 ?
	    -errno : 0;
}

int mevent_enable(struct mevent *ev)
{
	if (ev->type == EVF_TIMER && !atomic_load(&ev->dead) &&
	    timer_arm(ev, true) < 0)
		return -errno;
	return set_mask(ev, ev_mask(ev->type));
}

int mevent_disable(struct mevent *ev)
{
	int rc = set_mask(ev, 0);

	if (rc == 0 && ev->type == EVF_TIMER && timer_arm(ev, false) < 0)
		return -errno;
	return rc;
}

static int del(struct mevent *ev, bool close_fd)
{
	struct mevent_loop *l = ev->loop;

	if (atomic_exchange(&ev->dead, true))
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, ev->fd, NULL);
	if (ev->own_fd || close_fd)
		close(ev->fd);
	pthread_mutex_lock(&l->lock);
	if (ev->prev_live != NULL)
		ev->prev_live->next_live = ev->next_live;
	else
		l->live = ev->next_live;
	if (ev->next_live != NULL)
		ev->next_live->prev_live = ev->prev_live;
	ev->next_dead = l->graveyard;
	l->graveyard = ev;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int mevent_delete(struct mevent *ev)
{
	return del(ev, false);
}

int mevent_delete_close(struct mevent *ev)
{
	return del(ev, true);
}

static void drain(struct mevent *ev)
{
	uint8_t buf[sizeof(struct signalfd_siginfo)];

	/* A timerfd/signalfd stays readable until read; the callback only
	 * needs to know that it fired. */
	if (ev->own_fd)
		while (read(ev->fd, buf, sizeof(buf)) > 0)
			;
}

int mevent_dispatch(struct mevent_loop *l)
{
	struct epoll_event evs[32];

	while (!atomic_load(&l->stop)) {
		int n = epoll_wait(l->epfd, evs, ARRAY_SIZE(evs), -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			khyve_warn("epoll_wait");
			return -errno;
		}
		for (int i = 0; i < n && !atomic_load(&l->stop); i++) {
			struct mevent *ev = evs[i].data.ptr;

			if (ev == NULL) {
				uint64_t v;

				if (read(l->wakefd, &v, sizeof(v)) < 0) {
					/* Nothing to do: the fd is a counter. */
				}
				continue;
			}
			if (atomic_load(&ev->dead))
				continue;
			drain(ev);
			ev->cb(ev->user_fd, ev->type, ev->arg);
		}
		reap(l);
	}
	return l->code;
}

void mevent_loop_stop(struct mevent_loop *l, int code)
{
	uint64_t one = 1;

	/* The first stop wins; code is published before the flag. */
	pthread_mutex_lock(&l->lock);
	if (atomic_load(&l->stop)) {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	l->code = code;
	atomic_store(&l->stop, true);
	pthread_mutex_unlock(&l->lock);
	if (write(l->wakefd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow with one write; ignore. */
	}
}
