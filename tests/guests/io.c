/*
 * io.elf - access an I/O port nothing emulates ("port=0x5555" by
 * default): byte, word and dword reads (printed; a PC returns all ones),
 * then writes.  With khyve -e the first access ends the VM (status 4).
 * "hold=MS" waits first (a test's client connects meanwhile); "val=N"
 * is what the writes write (default 0x5a5a5a5a, truncated per size).
 */
#include "guest.h"

void guest_main(void)
{
	uint16_t port = (uint16_t)cmd_num("port", 0x5555);
	uint8_t b;
	uint16_t w;
	uint32_t l, val = (uint32_t)cmd_num("val", 0x5a5a5a5a);

	if (cmd_num("hold", 0))
		delay_ms((uint32_t)cmd_num("hold", 0));
	printf("io: reading port 0x%x\n", port);
	b = inb(port);
	printf("io: inb 0x%x = 0x%02x\n", port, b);
	w = inw(port);
	printf("io: inw 0x%x = 0x%04x\n", port, w);
	l = inl(port);
	printf("io: inl 0x%x = 0x%08x\n", port, l);
	outb(port, (uint8_t)val);
	outw(port, (uint16_t)val);
	outl(port, val);
	printf("io: writes to 0x%x done\n", port);
	printf("io done\n");
	finish(GX_OK);
}
