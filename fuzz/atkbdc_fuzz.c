/*
 * atkbdc_fuzz.c - the i8042 keyboard controller model with its keyboard
 * and PS/2 mouse (src/dev/atkbdc.c): any sequence of guest command (0x64)
 * and data (0x60) writes and reads, checking the queue invariants of
 * atkbdc.h after every step.
 *
 * Input: operations; each first byte picks 0 command write, 1 data
 * write, 2 data read, 3 status read, and the value follows.
 */
#include <stdlib.h>

#include "dev/atkbdc.h"
#include "fuzz.h"

static void check_q(const struct atkbdc_queue *q)
{
	if (q->r >= ATKBDC_QSZ || q->n > ATKBDC_QSZ)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct atkbdc k;
	struct fz f;

	fz_init(&f, data, size);
	atkbdc_init(&k);
	while (fz_more(&f)) {
		uint8_t op = fz_u8(&f);
		enum atkbdc_action a = ATKBDC_NONE;

		switch (op & 3) {
		case 0:
			a = atkbdc_write_cmd(&k, fz_u8(&f));
			break;
		case 1:
			a = atkbdc_write_data(&k, fz_u8(&f));
			break;
		case 2:
			(void)atkbdc_read_data(&k);
			break;
		default:
			(void)atkbdc_read_status(&k);
			(void)atkbdc_irq_kbd(&k);
			(void)atkbdc_irq_aux(&k);
			break;
		}
		if (a != ATKBDC_NONE && a != ATKBDC_RESET)
			abort();
		check_q(&k.kbdq);
		check_q(&k.auxq);
	}
	return 0;
}
