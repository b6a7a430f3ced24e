/*
 * smp.elf - SMP bring-up report.  "cpus=N": the number of CPUs expected
 * (0: wait for a quiet second); "wait=MS" bounds the wait (default 20 s);
 * "x2apic=0" keeps xAPIC mode even where x2APIC is offered.  Prints one
 * line per CPU (see smp_print()), then "smp ok" and exits with GX_OK, or
 * "smp FAIL: ..." and GX_FAIL.
 */
#include "guest.h"

void guest_main(void)
{
	int expect = (int)cmd_num("cpus", 0);
	uint32_t a, b, c, d, maxext, vendor[4] = { 0 };
	int n, bad = 0;

	cpuid(0, &a, &vendor[0], &vendor[2], &vendor[1]);
	cpuid(0x80000000, &maxext, &b, &c, &d);
	printf("smp: vendor %s max leaf 0x%x max ext leaf 0x%x\n",
	    (char *)vendor, a, maxext);
	printf("smp: expecting %d cpus\n", expect);
	n = smp_boot(expect, (uint32_t)cmd_num("wait", 20000), 1000);
	printf("smp: apic mode %s\n", apic_x2 ? "x2apic" : "xapic");
	smp_print();
	printf("smp: %d cpus up\n", n);
	for (int i = 0; i < MAX_CPUS; i++)
		for (int j = i + 1; j < MAX_CPUS; j++)
			if (cpu_info[i].valid && cpu_info[j].valid &&
			    cpu_info[i].apic == cpu_info[j].apic) {
				printf("smp FAIL: apic id %u twice\n",
				    cpu_info[i].apic);
				bad = 1;
			}
	if (expect > 0 && n != expect) {
		printf("smp FAIL: %d cpus up, expected %d\n", n, expect);
		bad = 1;
	}
	if (bad)
		finish(GX_FAIL);
	printf("smp ok\n");
	finish(GX_OK);
}
