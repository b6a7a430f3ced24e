/*
 * mevent.h - the event loop (bhyve's mevent, on epoll).
 *
 * One loop runs on the main thread and watches every host file descriptor
 * the devices care about (a console's stdin, a listening socket, timers).
 * Callbacks run on the loop thread, one at a time.
 *
 * Any thread may add, enable, disable or delete events: changes are applied
 * immediately through epoll_ctl, which is thread-safe.  Deletion from another
 * thread is deferred: the loop frees the event after the current dispatch
 * round, so a callback never runs on freed memory.  After mevent_delete()
 * returns, the callback will not be called again except possibly once if it
 * is running right now on the loop thread.
 */
#ifndef KHYVE_EVENT_MEVENT_H
#define KHYVE_EVENT_MEVENT_H

#include <stdint.h>

enum mevent_type {
	EVF_READ,
	EVF_WRITE,
	EVF_TIMER, /* `fd` argument is the period in milliseconds */
	EVF_SIGNAL /* `fd` argument is the signal number */
};

struct mevent;
struct mevent_loop;

typedef void mevent_cb_t(int fd, enum mevent_type type, void *arg);

struct mevent_loop *mevent_loop_create(void);
/* Deletes every event still registered (closing the timer and signal fds
 * it made, never a caller's fd), then frees the loop.  No other thread may
 * use the loop or its events any more. */
void mevent_loop_destroy(struct mevent_loop *loop);

/*
 * Watch `fd` (for EVF_READ/EVF_WRITE), or start a periodic timer, or catch
 * a signal (it is blocked in the calling thread's mask; create signal events
 * on the main thread before starting other threads so they inherit it).
 * Returns NULL with errno set on failure.
 */
struct mevent *mevent_add(struct mevent_loop *loop, int fd,
    enum mevent_type type, mevent_cb_t *cb, void *arg);
/*
 * Same, but the event starts disabled.  A timer made this way is created
 * now but does not run: code that may not make descriptors later (the
 * sandboxed main thread has no timerfd_create) sets it up early and
 * enables it when needed.
 */
struct mevent *mevent_add_disabled(struct mevent_loop *loop, int fd,
    enum mevent_type type, mevent_cb_t *cb, void *arg);
/* 0 or negative errno.  For a timer, enabling (re)starts its period from
 * now and disabling stops it. */
int mevent_enable(struct mevent *ev);
int mevent_disable(struct mevent *ev);
int mevent_delete(struct mevent *ev);       /* leaves the fd open */
int mevent_delete_close(struct mevent *ev); /* closes the fd too */

/* Run until mevent_loop_stop(); returns the value passed to it. */
int mevent_dispatch(struct mevent_loop *loop);
/* Make mevent_dispatch() return `code`; safe from any thread. */
void mevent_loop_stop(struct mevent_loop *loop, int code);

#endif
