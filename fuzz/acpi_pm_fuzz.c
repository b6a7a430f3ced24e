/*
 * acpi_pm_fuzz.c - the ACPI PM1a event/control block, PM timer and SMI
 * command port (src/dev/acpi_pm.c), driven through the port bus by the
 * guest accesses of isa.h (any size at any offset, including the S5
 * power-off request).
 */
#include "isa.h"

static const struct isa_window win[] = {
	{ false, 0x400, 8 },  /* PM1a STS, EN, CNT */
	{ false, 0x408, 4 },  /* PM timer */
	{ false, 0xb2, 1 },   /* SMI_CMD */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	isa_fuzz_run("acpi-pm", NULL, win, ARRAY_SIZE(win), data, size);
	return 0;
}
