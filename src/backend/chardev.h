/*
 * chardev.h - byte-stream back ends for serial-style devices.
 *
 * A chardev connects a device (a UART, the bvm console, the debug port)
 * to the host: "stdio" (the terminal, put in raw mode and restored on any
 * exit), a path (a tty such as /dev/pts/N or /dev/nmdm*-like device, or
 * any file that can be opened read-write), or "tcp=ADDR:PORT" (listen,
 * accept one client at a time; bhyve's uart_backend tcp).
 *
 * Threading: input arrives on the event loop thread, which calls the
 * device's rx callback; the device buffers it.  chardev_write() is called
 * from vCPU threads and never blocks: when the host side is slow or absent
 * output is dropped (a guest must not be able to stall its vCPU, or make
 * khyve buffer without bound, by writing faster than the host reads).
 */
#ifndef KHYVE_BACKEND_CHARDEV_H
#define KHYVE_BACKEND_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

struct mevent_loop;
struct chardev;

/* Called on the event loop thread when bytes can be read: the device
 * should call chardev_read() until it returns 0 or it has no room. */
typedef void chardev_rx_cb_t(void *arg);

/*
 * Open the back end named by `spec` ("stdio", "tcp=127.0.0.1:PORT", or a
 * path).  Returns 0 and *out, or a negative errno after printing one line
 * naming `spec`.  At most one chardev may use stdio.
 * `cb` may run as soon as *out is stored.  With `cb` NULL the device polls:
 * no rx callbacks, chardev_read() from any thread (`loop` may then be NULL
 * unless spec is tcp=, which accepts clients on the loop).
 */
int chardev_open(struct chardev **out, const char *spec,
    struct mevent_loop *loop, chardev_rx_cb_t *cb, void *arg);
void chardev_close(struct chardev *cd);

/* Stop/resume rx callbacks (a device whose receive buffer is full). */
void chardev_rx_pause(struct chardev *cd, int paused);

/* Non-blocking read; returns bytes read (0 if none available). */
size_t chardev_read(struct chardev *cd, uint8_t *buf, size_t len);
/* Non-blocking write of all or nothing-beyond-what-fits; returns bytes taken. */
size_t chardev_write(struct chardev *cd, const uint8_t *buf, size_t len);

/* Restore the terminal if stdio was put in raw mode; async-signal-safe. */
void chardev_restore_tty(void);

#endif
