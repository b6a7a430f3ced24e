/*
 * exit.c - every way a guest can end a khyve run:
 *   pc-testdev   outb(0xf4, v)           -> status (v << 1) | 1
 *   power-off    ACPI PM1a_CNT at 0x404  -> status 1
 *   reset        i8042 command 0xfe      -> status 0
 *   halt         cli; hlt                -> status 2
 *   triple fault empty IDT + ud2         -> status 3
 * A VMM may let the vCPU run on for a moment after the write that ends
 * the VM, so each path waits briefly before reporting that it failed.
 */
#include "guest.h"

#define PM1A_CNT 0x404
#define SLP_TYP5 (5u << 10)
#define SLP_EN (1u << 13)

static NORETURN void hang(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

static void settle(void)
{
	delay_ms(200);
}

void exit_testdev(uint8_t v)
{
	outb(0xf4, v);
	settle();
	printf("exit: pc-testdev write 0x%x did not stop the VM\n", v);
	hang();
}

void exit_poweroff(void)
{
	outw(PM1A_CNT, (uint16_t)(SLP_TYP5 | SLP_EN));
	settle();
	printf("exit: ACPI power-off (port 0x404) did not stop the VM\n");
	exit_testdev(GX_EXITFAIL);
}

void exit_reset(void)
{
	outb(0x64, 0xfe);
	settle();
	printf("exit: i8042 reset did not stop the VM\n");
	exit_testdev(GX_EXITFAIL);
}

void exit_halt(void)
{
	hang();
}

void exit_triple(void)
{
	struct {
		uint16_t limit;
		uintptr_t base;
	} __attribute__((packed)) idtr = { 0, 0 };

	__asm__ volatile("cli; lidt %0; ud2" : : "m"(idtr) : "memory");
	hang();
}

void exit_spec(const char *spec)
{
	if (strncmp(spec, "testdev", 7) == 0) {
		uint8_t v = GX_OK;

		if (spec[7] == ':')
			v = (uint8_t)parse_num(spec + 8, NULL);
		exit_testdev(v);
	}
	if (strcmp(spec, "poweroff") == 0)
		exit_poweroff();
	if (strcmp(spec, "reset") == 0)
		exit_reset();
	if (strcmp(spec, "halt") == 0)
		exit_halt();
	if (strcmp(spec, "triple") == 0)
		exit_triple();
	printf("exit: unknown exit=%s (testdev:N|poweroff|reset|halt|triple)\n",
	    spec);
	exit_testdev(GX_FAIL);
}

void finish(uint8_t code)
{
	char spec[32];

	if (cmd_get("exit", spec, sizeof(spec)))
		exit_spec(spec);
	exit_testdev(code);
}

void finish_poweroff(void)
{
	char spec[32];

	if (cmd_get("exit", spec, sizeof(spec)))
		exit_spec(spec);
	exit_poweroff();
}
