/*
 * atkbdc.h - the i8042 keyboard controller with a PS/2 keyboard and a
 * PS/2 mouse behind it (bhyve's atkbdc.c, ps2kbd.c, ps2mouse.c), as a
 * pure state machine: no I/O, locking or interrupt delivery of its own.
 *
 * There is no host input yet (no graphical console): the keyboard and
 * mouse only answer commands, which is what guests need to probe them
 * (Linux's i8042 and atkbd/psmouse drivers).
 *
 * The caller serialises calls on one struct, forwards port 0x60/0x64
 * accesses, then asks for the interrupt levels (atkbdc_irq_kbd/aux:
 * high while a byte for that port waits and its interrupt is enabled in
 * the command byte) and acts on ATKBDC_RESET returns (pulse of the CPU
 * reset line: command 0xFE, or an output-port write with bit 0 clear).
 * Every value written is hostile and accepted.
 */
#ifndef KHYVE_DEV_ATKBDC_H
#define KHYVE_DEV_ATKBDC_H

#include <stdbool.h>
#include <stdint.h>

#define ATKBDC_QSZ 16 /* bytes a device can queue for the guest */

/* Status register (port 0x64 read). */
#define ATKBDC_STS_OBF 0x01    /* a byte waits at port 0x60 */
#define ATKBDC_STS_IBF 0x02    /* never: writes are taken at once */
#define ATKBDC_STS_SYS 0x04    /* command byte bit 2 (POST passed) */
#define ATKBDC_STS_CMD 0x08    /* the last write went to port 0x64 */
#define ATKBDC_STS_UNLOCK 0x10 /* keyboard not inhibited by a key lock */
#define ATKBDC_STS_AUXOBF 0x20 /* the waiting byte is from the mouse */

/* Controller command byte (RAM byte 0). */
#define ATKBDC_CB_KBDINT 0x01
#define ATKBDC_CB_AUXINT 0x02
#define ATKBDC_CB_SYS 0x04
#define ATKBDC_CB_KBDDIS 0x10
#define ATKBDC_CB_AUXDIS 0x20
#define ATKBDC_CB_XLATE 0x40

/* Output port (commands 0xD0/0xD1). */
#define ATKBDC_OUT_RESET 0x01 /* 0 = CPU held in reset */
#define ATKBDC_OUT_A20 0x02

enum atkbdc_action {
	ATKBDC_NONE = 0,
	ATKBDC_RESET = 1, /* the guest pulsed the reset line */
};

struct atkbdc_queue {
	uint8_t b[ATKBDC_QSZ];
	unsigned r, n; /* invariant: r < ATKBDC_QSZ, n <= ATKBDC_QSZ */
};

struct atkbdc {
	uint8_t ram[32];   /* ram[0] is the command byte */
	uint8_t status;    /* SYS and CMD; the OBF bits are derived */
	uint8_t outport;
	uint8_t pending;   /* controller command waiting for its data byte */
	uint8_t last;      /* last byte read from port 0x60 */
	/* A controller response (or 0xD2/0xD3 byte) ahead of device data. */
	bool ctl_valid, ctl_aux;
	uint8_t ctl;
	struct atkbdc_queue kbdq, auxq;

	/* Keyboard. */
	uint8_t kbd_cmd; /* command waiting for its argument, 0 if none */
	bool kbd_scan;   /* scanning enabled */
	uint8_t kbd_set; /* scan code set */

	/* Mouse. */
	uint8_t aux_cmd;
	bool aux_stream_on; /* data reporting enabled */
	bool aux_remote, aux_wrap, aux_scale21;
	uint8_t aux_rate, aux_res;
};

void atkbdc_init(struct atkbdc *k);

uint8_t atkbdc_read_status(const struct atkbdc *k);     /* port 0x64 */
uint8_t atkbdc_read_data(struct atkbdc *k);             /* port 0x60 */
enum atkbdc_action atkbdc_write_cmd(struct atkbdc *k, uint8_t v);  /* 0x64 */
enum atkbdc_action atkbdc_write_data(struct atkbdc *k, uint8_t v); /* 0x60 */

bool atkbdc_irq_kbd(const struct atkbdc *k); /* IRQ 1 level */
bool atkbdc_irq_aux(const struct atkbdc *k); /* IRQ 12 level */

#endif
