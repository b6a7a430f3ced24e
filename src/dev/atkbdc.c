/*
 * atkbdc.c - the i8042 controller model (see atkbdc.h).
 *
 * Output: the guest sees one byte at a time at port 0x60.  A controller
 * response (or a byte the guest asked the controller to fake with 0xD2
 * or 0xD3) comes first, as bhyve's ctrlbyte does; then keyboard bytes if
 * the keyboard interface is enabled, then mouse bytes if the mouse
 * interface is; a disabled interface holds its device's bytes back (as
 * QEMU's i8042 does).  When nothing waits, port 0x60 reads the last byte
 * again, as the hardware's output buffer would.
 *
 * Device answers follow bhyve's ps2kbd.c/ps2mouse.c; commands bhyve does
 * not know get 0xFE (resend) instead of silence so that guests do not
 * wait for a time-out.
 */
#include <string.h>

#include "dev/atkbdc.h"

#define PS2_ACK 0xfa
#define PS2_RESEND 0xfe
#define PS2_BAT_OK 0xaa

static void q_clear(struct atkbdc_queue *q)
{
	q->r = q->n = 0;
}

/* A full queue drops the byte: a guest not reading can't grow it. */
static void q_put(struct atkbdc_queue *q, uint8_t v)
{
	if (q->n >= ATKBDC_QSZ)
		return;
	q->b[(q->r + q->n) % ATKBDC_QSZ] = v;
	q->n++;
}

static uint8_t q_get(struct atkbdc_queue *q)
{
	uint8_t v = q->b[q->r];

	q->r = (q->r + 1) % ATKBDC_QSZ;
	q->n--;
	return v;
}

static void aux_defaults(struct atkbdc *k)
{
	k->aux_stream_on = false;
	k->aux_remote = false;
	k->aux_wrap = false;
	k->aux_scale21 = false;
	k->aux_rate = 100;
	k->aux_res = 2;
}

void atkbdc_init(struct atkbdc *k)
{
	memset(k, 0, sizeof(*k));
	/* Bit 0 high: the CPU is not held in reset; bit 1: A20 enabled.
	 * (bhyve starts at 0, which would make a read-modify-write of the
	 * output port reset the machine.) */
	k->outport = ATKBDC_OUT_RESET | ATKBDC_OUT_A20;
	k->kbd_scan = true;
	k->kbd_set = 2;
	aux_defaults(k);
}

/* Which source the next port 0x60 read comes from. */
enum src { SRC_NONE, SRC_CTL, SRC_KBD, SRC_AUX };

static enum src head(const struct atkbdc *k)
{
	if (k->ctl_valid)
		return SRC_CTL;
	if (k->kbdq.n > 0 && !(k->ram[0] & ATKBDC_CB_KBDDIS))
		return SRC_KBD;
	if (k->auxq.n > 0 && !(k->ram[0] & ATKBDC_CB_AUXDIS))
		return SRC_AUX;
	return SRC_NONE;
}

static bool head_is_aux(const struct atkbdc *k)
{
	enum src s = head(k);

	return s == SRC_AUX || (s == SRC_CTL && k->ctl_aux);
}

uint8_t atkbdc_read_status(const struct atkbdc *k)
{
	uint8_t s = (k->status & (ATKBDC_STS_SYS | ATKBDC_STS_CMD)) |
	    ATKBDC_STS_UNLOCK;

	if (head(k) != SRC_NONE)
		s |= ATKBDC_STS_OBF;
	if (head_is_aux(k))
		s |= ATKBDC_STS_AUXOBF;
	return s;
}

uint8_t atkbdc_read_data(struct atkbdc *k)
{
	switch (head(k)) {
	case SRC_CTL:
		k->ctl_valid = false;
		k->last = k->ctl;
		break;
	case SRC_KBD:
		k->last = q_get(&k->kbdq);
		break;
	case SRC_AUX:
		k->last = q_get(&k->auxq);
		break;
	case SRC_NONE:
		break;
	}
	return k->last;
}

bool atkbdc_irq_kbd(const struct atkbdc *k)
{
	return head(k) != SRC_NONE && !head_is_aux(k) &&
	    (k->ram[0] & ATKBDC_CB_KBDINT);
}

bool atkbdc_irq_aux(const struct atkbdc *k)
{
	return head_is_aux(k) && (k->ram[0] & ATKBDC_CB_AUXINT);
}

static void ctl_reply(struct atkbdc *k, uint8_t v, bool aux)
{
	k->ctl = v;
	k->ctl_aux = aux;
	k->ctl_valid = true;
}

/* ---- the keyboard ------------------------------------------------------ */

static void kbd_write(struct atkbdc *k, uint8_t v)
{
	struct atkbdc_queue *q = &k->kbdq;
	uint8_t cmd = k->kbd_cmd;

	if (cmd != 0) {
		/* The argument of 0xED (LEDs), 0xF3 (typematic), 0xF0. */
		k->kbd_cmd = 0;
		q_put(q, PS2_ACK);
		if (cmd == 0xf0 && v == 0)
			q_put(q, k->kbd_set);
		else if (cmd == 0xf0 && v <= 3)
			k->kbd_set = v;
		return;
	}
	switch (v) {
	case 0xff: /* reset and self-test */
		q_clear(q);
		k->kbd_scan = true;
		k->kbd_set = 2;
		q_put(q, PS2_ACK);
		q_put(q, PS2_BAT_OK);
		break;
	case 0xf6: /* set defaults */
		q_clear(q);
		k->kbd_scan = true;
		q_put(q, PS2_ACK);
		break;
	case 0xf5:
		k->kbd_scan = false;
		q_put(q, PS2_ACK);
		break;
	case 0xf4:
		k->kbd_scan = true;
		q_clear(q);
		q_put(q, PS2_ACK);
		break;
	case 0xf3:
	case 0xf0:
	case 0xed:
		k->kbd_cmd = v;
		q_put(q, PS2_ACK);
		break;
	case 0xf2: /* identify: MF2 keyboard, translated ID with XLATE */
		q_put(q, PS2_ACK);
		q_put(q, 0xab);
		q_put(q, (k->ram[0] & ATKBDC_CB_XLATE) ? 0x41 : 0x83);
		break;
	case 0xee: /* echo */
		q_put(q, 0xee);
		break;
	case 0x00:
	case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc:
	case 0xfd: case 0xfe:
		q_put(q, PS2_ACK);
		break;
	default:
		q_put(q, PS2_RESEND);
		break;
	}
}

/* ---- the mouse --------------------------------------------------------- */

static void aux_write(struct atkbdc *k, uint8_t v)
{
	struct atkbdc_queue *q = &k->auxq;
	uint8_t cmd = k->aux_cmd;

	if (cmd != 0) {
		/* The argument of 0xF3 (sample rate) or 0xE8 (resolution). */
		k->aux_cmd = 0;
		if (cmd == 0xf3)
			k->aux_rate = v;
		else
			k->aux_res = v & 3;
		q_put(q, PS2_ACK);
		return;
	}
	/* Wrap mode echoes everything but "reset" and "leave wrap". */
	if (k->aux_wrap && v != 0xff && v != 0xec) {
		q_put(q, v);
		return;
	}
	switch (v) {
	case 0xff: /* reset: ACK, self-test passed, device ID 0 */
		q_clear(q);
		aux_defaults(k);
		q_put(q, PS2_ACK);
		q_put(q, PS2_BAT_OK);
		q_put(q, 0x00);
		break;
	case 0xf6:
		aux_defaults(k);
		q_put(q, PS2_ACK);
		break;
	case 0xf5:
		k->aux_stream_on = false;
		q_put(q, PS2_ACK);
		break;
	case 0xf4:
		k->aux_stream_on = true;
		q_put(q, PS2_ACK);
		break;
	case 0xf3:
	case 0xe8:
		k->aux_cmd = v;
		q_put(q, PS2_ACK);
		break;
	case 0xf2: /* get device ID: a plain PS/2 mouse */
		q_put(q, PS2_ACK);
		q_put(q, 0x00);
		break;
	case 0xf0:
		k->aux_remote = true;
		q_put(q, PS2_ACK);
		break;
	case 0xea:
		k->aux_remote = false;
		q_put(q, PS2_ACK);
		break;
	case 0xee:
		k->aux_wrap = true;
		q_put(q, PS2_ACK);
		break;
	case 0xec:
		k->aux_wrap = false;
		q_put(q, PS2_ACK);
		break;
	case 0xeb: /* read data: no movement, no buttons */
		q_put(q, PS2_ACK);
		q_put(q, 0x08);
		q_put(q, 0x00);
		q_put(q, 0x00);
		break;
	case 0xe9: /* status request */
		q_put(q, PS2_ACK);
		q_put(q, (uint8_t)((k->aux_remote ? 0x40 : 0) |
		    (k->aux_stream_on ? 0x20 : 0) |
		    (k->aux_scale21 ? 0x10 : 0)));
		q_put(q, k->aux_res);
		q_put(q, k->aux_rate);
		break;
	case 0xe7:
		k->aux_scale21 = true;
		q_put(q, PS2_ACK);
		break;
	case 0xe6:
		k->aux_scale21 = false;
		q_put(q, PS2_ACK);
		break;
	case 0xfe: /* resend */
		q_put(q, PS2_ACK);
		break;
	default:
		q_put(q, PS2_RESEND);
		break;
	}
}

/* ---- the controller ---------------------------------------------------- */

static uint8_t outport_now(const struct atkbdc *k)
{
	uint8_t v = k->outport & (uint8_t)~0x30;

	/* Bits 4/5 mirror the output-buffer-full lines. */
	if (head(k) != SRC_NONE)
		v |= head_is_aux(k) ? 0x20 : 0x10;
	return v;
}

enum atkbdc_action atkbdc_write_cmd(struct atkbdc *k, uint8_t v)
{
	k->status |= ATKBDC_STS_CMD;
	k->pending = 0;

	if (v >= 0x20 && v <= 0x3f) {
		ctl_reply(k, k->ram[v & 0x1f], false); /* read RAM byte */
		return ATKBDC_NONE;
	}
	if (v >= 0x60 && v <= 0x7f) {
		k->pending = v; /* write RAM byte: data follows */
		return ATKBDC_NONE;
	}
	if (v >= 0xf0) {
		/* Pulse output lines: a 0 in bit 0 pulses CPU reset. */
		return (v & 1) ? ATKBDC_NONE : ATKBDC_RESET;
	}
	switch (v) {
	case 0xa7:
		k->ram[0] |= ATKBDC_CB_AUXDIS;
		break;
	case 0xa8:
		k->ram[0] &= (uint8_t)~ATKBDC_CB_AUXDIS;
		break;
	case 0xa9: /* test mouse interface: no error */
	case 0xab: /* test keyboard interface: no error */
		ctl_reply(k, 0x00, false);
		break;
	case 0xaa: /* self-test: passed */
		k->status |= ATKBDC_STS_SYS;
		ctl_reply(k, 0x55, false);
		break;
	case 0xad:
		k->ram[0] |= ATKBDC_CB_KBDDIS;
		break;
	case 0xae:
		k->ram[0] &= (uint8_t)~ATKBDC_CB_KBDDIS;
		break;
	case 0xc0: /* read input port (bhyve: 0) */
		ctl_reply(k, 0x00, false);
		break;
	case 0xd0:
		ctl_reply(k, outport_now(k), false);
		break;
	case 0xd1: /* write output port */
	case 0xd2: /* write keyboard output buffer */
	case 0xd3: /* write mouse output buffer */
	case 0xd4: /* write to mouse */
		k->pending = v;
		break;
	default:
		break; /* unknown commands are ignored */
	}
	return ATKBDC_NONE;
}

enum atkbdc_action atkbdc_write_data(struct atkbdc *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->status &= (uint8_t)~ATKBDC_STS_CMD;
	k->pending = 0;
	if (cmd == 0) {
		kbd_write(k, v);
		return ATKBDC_NONE;
	}
	if (cmd >= 0x60 && cmd <= 0x7f) {
		k->ram[cmd & 0x1f] = v;
		if (cmd == 0x60) {
			k->status &= (uint8_t)~ATKBDC_STS_SYS;
			k->status |= v & ATKBDC_CB_SYS; /* same bit */
		}
		return ATKBDC_NONE;
	}
	switch (cmd) {
	case 0xd1:
		k->outport = v;
		return (v & ATKBDC_OUT_RESET) ? ATKBDC_NONE : ATKBDC_RESET;
	case 0xd2:
		ctl_reply(k, v, false);
		break;
	case 0xd3:
		ctl_reply(k, v, true);
		break;
	case 0xd4:
		aux_write(k, v);
		break;
	default:
		break;
	}
	return ATKBDC_NONE;
}
