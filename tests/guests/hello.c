/*
 * hello.elf - the smallest test: print a greeting on COM1 and leave the
 * way the command line says (exit=testdev:N|poweroff|reset|halt|triple;
 * default pc-testdev 0x10, khyve status 33).  "info" also prints the
 * memory map and modules.  "fault=ud|gp|de" raises an exception first,
 * to exercise the runtime's handler (report, then status 251).  "idle"
 * prints "idle" and sleeps forever with interrupts on (for tests that
 * signal or inspect a running khyve).
 */
#include "guest.h"

static void fault(const char *how)
{
	printf("raising %s\n", how);
	if (strcmp(how, "ud") == 0)
		__asm__ volatile("ud2");
	else if (strcmp(how, "gp") == 0)
		(void)rdmsr(0xdeadbeef); /* no such MSR: #GP */
	else if (strcmp(how, "de") == 0)
		__asm__ volatile("xorl %%ecx, %%ecx; divl %%ecx"
				 : : "a"(1), "d"(0) : "ecx");
	printf("fault=%s did not fault\n", how);
}

void guest_main(void)
{
	char how[8];

	printf("hello from khyve\n");
	printf("boot: %s\n", boot.kind == BOOT_MULTIBOOT ? "multiboot" :
	    boot.kind == BOOT_PVH ? "pvh" : "unknown");
	printf("cmdline: %s\n", cmdline);
	if (cmd_has("info"))
		boot_print();
	if (cmd_get("fault", how, sizeof(how)))
		fault(how);
	if (cmd_has("idle")) {
		printf("idle\n");
		for (;;)
			__asm__ volatile("sti; hlt" ::: "memory");
	}
	finish(GX_OK);
}
