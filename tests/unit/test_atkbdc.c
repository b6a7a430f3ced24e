/* test_atkbdc.c - the i8042 controller model (dev/atkbdc.c). */
#include "dev/atkbdc.h"
#include "test.h"

/* Read one byte the way a driver does: only when OBF says one waits. */
static int rd(struct atkbdc *k)
{
	if (!(atkbdc_read_status(k) & ATKBDC_STS_OBF))
		return -1;
	return atkbdc_read_data(k);
}

/* Controller command with an optional data byte. */
static enum atkbdc_action cmd(struct atkbdc *k, uint8_t c, int data)
{
	enum atkbdc_action a = atkbdc_write_cmd(k, c);

	if (a == ATKBDC_NONE && data >= 0)
		a = atkbdc_write_data(k, (uint8_t)data);
	return a;
}

TEST(atkbdc_self_test_and_interface_tests)
{
	struct atkbdc k;

	atkbdc_init(&k);
	CHECK_EQ(atkbdc_read_status(&k) & ATKBDC_STS_OBF, 0);
	CHECK_EQ(rd(&k), -1);
	CHECK_EQ(cmd(&k, 0xaa, -1), ATKBDC_NONE);
	CHECK(atkbdc_read_status(&k) & ATKBDC_STS_CMD);
	CHECK(atkbdc_read_status(&k) & ATKBDC_STS_SYS);
	CHECK_EQ(rd(&k), 0x55);
	CHECK_EQ(rd(&k), -1);
	cmd(&k, 0xab, -1);
	CHECK_EQ(rd(&k), 0x00);
	cmd(&k, 0xa9, -1);
	CHECK_EQ(rd(&k), 0x00);
	/* An empty buffer reads the last byte again. */
	CHECK_EQ(atkbdc_read_data(&k), 0x00);
}

TEST(atkbdc_command_byte)
{
	struct atkbdc k;

	atkbdc_init(&k);
	cmd(&k, 0x60, 0x47);
	CHECK(!(atkbdc_read_status(&k) & ATKBDC_STS_CMD));
	cmd(&k, 0x20, -1);
	CHECK_EQ(rd(&k), 0x47);
	CHECK(atkbdc_read_status(&k) & ATKBDC_STS_SYS);
	cmd(&k, 0x60, 0x00);
	CHECK(!(atkbdc_read_status(&k) & ATKBDC_STS_SYS));
	/* Port enable/disable commands edit the command byte. */
	cmd(&k, 0xa7, -1);
	cmd(&k, 0xad, -1);
	cmd(&k, 0x20, -1);
	CHECK_EQ(rd(&k), ATKBDC_CB_AUXDIS | ATKBDC_CB_KBDDIS);
	cmd(&k, 0xa8, -1);
	cmd(&k, 0x20, -1);
	CHECK_EQ(rd(&k), ATKBDC_CB_KBDDIS);
	cmd(&k, 0xae, -1);
	cmd(&k, 0x20, -1);
	CHECK_EQ(rd(&k), 0);
	/* Other RAM bytes: 0x61-0x7f write, 0x21-0x3f read. */
	cmd(&k, 0x7f, 0x99);
	cmd(&k, 0x3f, -1);
	CHECK_EQ(rd(&k), 0x99);
}

TEST(atkbdc_reset_requests)
{
	struct atkbdc k;

	atkbdc_init(&k);
	CHECK_EQ(cmd(&k, 0xfe, -1), ATKBDC_RESET);
	CHECK_EQ(cmd(&k, 0xf0, -1), ATKBDC_RESET); /* any pulse of bit 0 */
	CHECK_EQ(cmd(&k, 0xff, -1), ATKBDC_NONE);  /* pulses nothing */
	CHECK_EQ(cmd(&k, 0xfd, -1), ATKBDC_NONE);
	/* Output port: A20 on, reset line high is harmless... */
	CHECK_EQ(cmd(&k, 0xd1, 0xdf), ATKBDC_NONE);
	cmd(&k, 0xd0, -1);
	CHECK_EQ(rd(&k) & 0x03, 0x03);
	/* ...a read-modify-write from power-on state is too... */
	atkbdc_init(&k);
	cmd(&k, 0xd0, -1);
	CHECK_EQ(cmd(&k, 0xd1, rd(&k) | ATKBDC_OUT_A20), ATKBDC_NONE);
	/* ...but bit 0 clear holds the CPU in reset. */
	CHECK_EQ(cmd(&k, 0xd1, 0x02), ATKBDC_RESET);
	/* Plain data bytes never reset. */
	for (int v = 0; v < 256; v++)
		CHECK_EQ(atkbdc_write_data(&k, (uint8_t)v), ATKBDC_NONE);
}

TEST(atkbdc_keyboard_probe)
{
	struct atkbdc k;

	atkbdc_init(&k);
	atkbdc_write_data(&k, 0xff); /* reset */
	CHECK_EQ(rd(&k), 0xfa);
	CHECK_EQ(rd(&k), 0xaa);
	CHECK_EQ(rd(&k), -1);
	atkbdc_write_data(&k, 0xf2); /* identify, untranslated */
	CHECK_EQ(rd(&k), 0xfa);
	CHECK_EQ(rd(&k), 0xab);
	CHECK_EQ(rd(&k), 0x83);
	cmd(&k, 0x60, ATKBDC_CB_XLATE);
	atkbdc_write_data(&k, 0xf2); /* translated */
	rd(&k);
	CHECK_EQ(rd(&k), 0xab);
	CHECK_EQ(rd(&k), 0x41);
	atkbdc_write_data(&k, 0xed); /* LEDs + argument */
	atkbdc_write_data(&k, 0x07);
	CHECK_EQ(rd(&k), 0xfa);
	CHECK_EQ(rd(&k), 0xfa);
	atkbdc_write_data(&k, 0xf0); /* get scan code set */
	atkbdc_write_data(&k, 0x00);
	CHECK_EQ(rd(&k), 0xfa);
	CHECK_EQ(rd(&k), 0xfa);
	CHECK_EQ(rd(&k), 0x02);
	atkbdc_write_data(&k, 0xee);
	CHECK_EQ(rd(&k), 0xee);
	atkbdc_write_data(&k, 0x12); /* not a command */
	CHECK_EQ(rd(&k), 0xfe);
	CHECK(!(atkbdc_read_status(&k) & ATKBDC_STS_AUXOBF));
}

TEST(atkbdc_mouse_probe)
{
	struct atkbdc k;

	atkbdc_init(&k);
	/* Linux's AUX loopback test: the byte comes back flagged AUX. */
	cmd(&k, 0xd3, 0x5a);
	CHECK(atkbdc_read_status(&k) & ATKBDC_STS_AUXOBF);
	CHECK_EQ(rd(&k), 0x5a);
	cmd(&k, 0xd4, 0xff); /* reset */
	CHECK(atkbdc_read_status(&k) & ATKBDC_STS_AUXOBF);
	CHECK_EQ(rd(&k), 0xfa);
	CHECK_EQ(rd(&k), 0xaa);
	CHECK_EQ(rd(&k), 0x00);
	cmd(&k, 0xd4, 0xf3); /* sample rate 200 */
	cmd(&k, 0xd4, 200);
	CHECK_EQ(rd(&k), 0xfa);
	CHECK_EQ(rd(&k), 0xfa);
	cmd(&k, 0xd4, 0xf2); /* ID */
	CHECK_EQ(rd(&k), 0xfa);
	CHECK_EQ(rd(&k), 0x00);
	cmd(&k, 0xd4, 0xe9); /* status */
	CHECK_EQ(rd(&k), 0xfa);
	CHECK_EQ(rd(&k), 0x00);
	CHECK_EQ(rd(&k), 2);
	CHECK_EQ(rd(&k), 200);
	/* A disabled mouse interface holds its bytes back. */
	cmd(&k, 0xd4, 0xf4);
	cmd(&k, 0xa7, -1);
	CHECK_EQ(rd(&k), -1);
	cmd(&k, 0xa8, -1);
	CHECK_EQ(rd(&k), 0xfa);
}

TEST(atkbdc_interrupts)
{
	struct atkbdc k;

	atkbdc_init(&k);
	/* Interrupts off: data waits, no line. */
	atkbdc_write_data(&k, 0xee);
	CHECK(!atkbdc_irq_kbd(&k));
	cmd(&k, 0x60, ATKBDC_CB_KBDINT | ATKBDC_CB_AUXINT);
	CHECK(atkbdc_irq_kbd(&k));
	CHECK(!atkbdc_irq_aux(&k));
	rd(&k);
	CHECK(!atkbdc_irq_kbd(&k));
	/* The AUX IRQ test Linux runs: loop a byte, expect IRQ 12. */
	cmd(&k, 0xd3, 0xa5);
	CHECK(atkbdc_irq_aux(&k));
	CHECK(!atkbdc_irq_kbd(&k));
	CHECK_EQ(rd(&k), 0xa5);
	CHECK(!atkbdc_irq_aux(&k));
	/* A disabled keyboard interface raises nothing. */
	cmd(&k, 0xad, -1);
	atkbdc_write_data(&k, 0xee);
	CHECK(!atkbdc_irq_kbd(&k));
	cmd(&k, 0xae, -1);
	CHECK(atkbdc_irq_kbd(&k));
}

TEST(atkbdc_hostile_input_bounded)
{
	struct atkbdc k;
	int n = 0;

	atkbdc_init(&k);
	/* A guest that never reads cannot grow the queues. */
	for (int i = 0; i < 1000; i++)
		atkbdc_write_data(&k, 0xee); /* echo: one byte each */
	CHECK(k.kbdq.n <= ATKBDC_QSZ);
	while (rd(&k) >= 0 && n < 100)
		n++;
	CHECK_EQ(n, ATKBDC_QSZ);
	/* Every command, every data byte after it. */
	for (int c = 0; c < 256; c++) {
		for (int v = 0; v < 256; v += 51) {
			atkbdc_write_cmd(&k, (uint8_t)c);
			atkbdc_write_data(&k, (uint8_t)v);
			(void)atkbdc_read_data(&k);
		}
	}
	CHECK(k.kbdq.n <= ATKBDC_QSZ && k.auxq.n <= ATKBDC_QSZ);
	CHECK(k.kbdq.r < ATKBDC_QSZ && k.auxq.r < ATKBDC_QSZ);
}
