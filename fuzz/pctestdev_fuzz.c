/*
 * pctestdev_fuzz.c - pc-testdev (src/dev/pctestdev.c): isa-debug-exit,
 * the data port, the IRQ line ports and the 64 KiB memory window, driven
 * through the buses by the guest accesses of isa.h.
 */
#include "isa.h"

static const struct isa_window win[] = {
	{ false, 0xf4, 4 },             /* isa-debug-exit */
	{ false, 0xe0, 4 },             /* data port */
	{ false, 0x2000, 24 },          /* IRQ lines */
	{ true, 0xff000000ULL, 256 },   /* memory window, start */
	{ true, 0xff00ff00ULL, 256 },   /* memory window, end */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	isa_fuzz_run("pc-testdev", "lpc.pc-testdev", win, ARRAY_SIZE(win),
	    data, size);
	return 0;
}
