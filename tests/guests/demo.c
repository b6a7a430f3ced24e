/*
 * demo.elf - the `make run` guest: a banner, the CPUs (the APs are
 * started and counted), the RAM size from the multiboot memory map and
 * the command line; then an ACPI power-off (khyve status 1).
 * "cpus=N" makes it wait for exactly N CPUs instead of a quiet spell.
 */
#include "guest.h"

void guest_main(void)
{
	uint64_t ram = boot_ram_bytes();
	int ncpu;

	printf("khyve demo guest\n");
	printf("command line: %s\n", cmdline);
	if (ram)
		printf("memory: %u MiB\n", (unsigned)((ram + (1u << 19)) >> 20));
	else if (boot.have_mem)
		printf("memory: %u MiB\n",
		    (unsigned)((boot.mem_upper + 1024u + 512u) >> 10));
	else
		printf("memory: unknown\n");
	ncpu = smp_boot((int)cmd_num("cpus", 0), 10000, 1000);
	printf("cpus: %d\n", ncpu);
	printf("powering off\n");
	finish_poweroff();
}
