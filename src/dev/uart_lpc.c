/*
 * uart_lpc.c - COM1..COM4: the 16550 model (uart_16550.c) on the legacy
 * ports, wired to a chardev and to the interrupt controller.
 *
 * Like bhyve's pci_lpc.c all four ports always exist; `-l comN,BACKEND`
 * (configuration key lpc.comN.path) only connects one to the host.
 * Without a back end the port accepts and drops output.
 *
 * Threads: guest register accesses arrive on vCPU threads, host input on
 * the event-loop thread (uart_rx); sc->lock serialises both.
 *
 * Interrupts are level: a line is asserted while a port on it wants
 * attention.  COM1/COM3 share IRQ 4 and COM2/COM4 IRQ 3, so the two ports
 * of a pair share one `struct uart_irq` whose level is the OR of theirs;
 * otherwise an idle port lowering the line would hide its partner's
 * interrupt.  vm_irq_line() is called with the line's lock held so that
 * levels are never delivered out of order.  Lock order: sc->lock, then
 * line->lock (never the other way, never two ports' locks).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/chardev.h"
#include "config.h"
#include "dev/platform.h"
#include "dev/uart_16550.h"
#include "vmm/vm.h"

struct com_desc {
	const char *name; /* "com1" */
	uint16_t base;
	unsigned irq;
	unsigned idx;         /* 0..3, bit in uart_irq.wants */
	uint16_t partner;     /* base of the port sharing the IRQ */
};

/* One ISA interrupt line shared by a pair of ports. */
struct uart_irq {
	pthread_mutex_t lock;
	unsigned gsi;
	unsigned wants; /* bit per port that wants the line high */
	int level;      /* level last given to vm_irq_line() */
	int refs;       /* ports using this line (changed at init/fini) */
};

static const char uart_magic[] = "uart_lpc";

struct uart_lpc {
	const char *magic; /* uart_magic: identifies a partner found by port */
	pthread_mutex_t lock;
	struct uart16550 u;
	struct vm *vm;
	const struct com_desc *desc;
	struct uart_irq *line;
	struct chardev *cd; /* NULL: no back end */
	bool rx_paused;
};

static void line_set(struct uart_lpc *sc, bool want)
{
	struct uart_irq *l = sc->line;
	unsigned bit = 1u << sc->desc->idx;
	int level;

	pthread_mutex_lock(&l->lock);
	l->wants = want ? (l->wants | bit) : (l->wants & ~bit);
	level = l->wants != 0;
	if (level != l->level && vm_irq_line(sc->vm, l->gsi, level) == 0)
		l->level = level;
	pthread_mutex_unlock(&l->lock);
}

/* Bring the interrupt line and the back end's input in line with the
 * model.  Called with sc->lock held after every change. */
static void uart_sync(struct uart_lpc *sc)
{
	bool want_pause;

	line_set(sc, uart16550_intr(&sc->u));
	want_pause = uart16550_rx_room(&sc->u) == 0;
	if (sc->cd != NULL && want_pause != sc->rx_paused) {
		chardev_rx_pause(sc->cd, want_pause);
		sc->rx_paused = want_pause;
	}
}

/* Event-loop thread: host bytes are waiting. */
static void uart_rx(void *arg)
{
	struct uart_lpc *sc = arg;
	uint8_t buf[UART16550_FIFOSZ];

	pthread_mutex_lock(&sc->lock);
	for (;;) {
		size_t room = MIN(uart16550_rx_room(&sc->u), sizeof(buf));
		size_t n;

		if (room == 0)
			break; /* uart_sync() pauses the back end */
		n = chardev_read(sc->cd, buf, room);
		if (n == 0)
			break;
		uart16550_rx_from_host(&sc->u, buf, n);
	}
	uart_sync(sc);
	pthread_mutex_unlock(&sc->lock);
}

static int uart_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct uart_lpc *sc = opaque;
	uint64_t out = 0;

	(void)vcpu;
	pthread_mutex_lock(&sc->lock);
	/* A wider access touches consecutive registers, low byte first
	 * (bhyve handles 2-byte accesses this way). */
	for (int i = 0; i < size; i++) {
		unsigned reg = (unsigned)offset + (unsigned)i;
		uint8_t tx;

		if (write) {
			if (uart16550_write(&sc->u, reg,
				(uint8_t)(*val >> (8 * i)), &tx) &&
			    sc->cd != NULL)
				chardev_write(sc->cd, &tx, 1);
		} else {
			out |= (uint64_t)uart16550_read(&sc->u, reg) << (8 * i);
		}
	}
	uart_sync(sc);
	pthread_mutex_unlock(&sc->lock);
	if (!write)
		*val = out;
	return 0;
}

static int uart_parse(const struct platform_dev *dev, const char *opts)
{
	char key[32];

	if (opts == NULL || *opts == '\0') {
		khyve_warnx("-l %s: missing back end (stdio, tcp=ADDR:PORT or "
		    "a tty path)", dev->name);
		return -EINVAL;
	}
	snprintf(key, sizeof(key), "lpc.%s.path", dev->name);
	if (config_set(NULL, key, opts) != 0) {
		khyve_warnx("-l %s,%s: cannot set %s", dev->name, opts, key);
		return -EINVAL;
	}
	return 0;
}

/* Share the partner's line if it already exists, else make one. */
static int line_get(struct uart_lpc *sc)
{
	struct uart_lpc *p = iobus_opaque(&sc->vm->pio, sc->desc->partner);

	if (p != NULL && p->magic == uart_magic) {
		sc->line = p->line;
		sc->line->refs++;
		return 0;
	}
	sc->line = calloc(1, sizeof(*sc->line));
	if (sc->line == NULL)
		return -ENOMEM;
	pthread_mutex_init(&sc->line->lock, NULL);
	sc->line->gsi = sc->desc->irq;
	sc->line->refs = 1; /* the line starts low */
	return 0;
}

static void line_put(struct uart_lpc *sc)
{
	if (--sc->line->refs > 0)
		return;
	pthread_mutex_destroy(&sc->line->lock);
	free(sc->line);
}

static int uart_init(const struct platform_dev *dev, struct vm *vm)
{
	const struct com_desc *desc = dev->data;
	struct uart_lpc *sc;
	const char *backend;
	char key[32];
	int rc;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	sc->magic = uart_magic;
	pthread_mutex_init(&sc->lock, NULL);
	uart16550_init(&sc->u);
	sc->vm = vm;
	sc->desc = desc;
	if ((rc = line_get(sc)) != 0)
		goto fail;

	snprintf(key, sizeof(key), "lpc.%s.path", desc->name);
	backend = config_get(NULL, key);
	if (backend != NULL) {
		rc = chardev_open(&sc->cd, backend, vm->ev, uart_rx, sc);
		if (rc != 0) {
			khyve_warnx("%s: cannot use back end '%s'", desc->name,
			    backend);
			goto fail_line;
		}
	}
	rc = iobus_register(&vm->pio, desc->base, UART16550_NREGS, uart_io,
	    sc, desc->name);
	if (rc != 0)
		goto fail_cd;
	return 0;

fail_cd:
	chardev_close(sc->cd);
fail_line:
	line_put(sc);
fail:
	pthread_mutex_destroy(&sc->lock);
	free(sc);
	return rc;
}

static void uart_fini(const struct platform_dev *dev, struct vm *vm)
{
	const struct com_desc *desc = dev->data;
	struct uart_lpc *sc = iobus_opaque(&vm->pio, desc->base);

	if (sc == NULL)
		return;
	iobus_unregister(&vm->pio, desc->base);
	chardev_close(sc->cd);
	line_put(sc);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

#define COM_DEV(n, port, line, other)                                         \
	static const struct com_desc com##n##_desc = {                        \
		.name = "com" #n, .base = (port), .irq = (line),             \
		.idx = (n) - 1, .partner = (other) };                         \
	static const struct platform_dev com##n##_dev = {                     \
		.name = "com" #n,                                             \
		.help = "16550 UART at " #port ", IRQ " #line ": -l com" #n    \
		    ",stdio|tcp=ADDR:PORT|PATH",                               \
		.parse = uart_parse,                                          \
		.init = uart_init,                                            \
		.fini = uart_fini,                                            \
		.data = &com##n##_desc,                                       \
	};                                                                    \
	PLATFORM_DEV_SET(com##n##_dev)

COM_DEV(1, 0x3f8, 4, 0x3e8);
COM_DEV(2, 0x2f8, 3, 0x2e8);
COM_DEV(3, 0x3e8, 4, 0x3f8);
COM_DEV(4, 0x2e8, 3, 0x2f8);
