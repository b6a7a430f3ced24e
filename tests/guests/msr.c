/*
 * msr.elf - read, write and re-read an MSR that neither KVM nor khyve
 * implements ("msr=0x..." to pick another; default 0x12345678), catching
 * #GP.  Prints "msr read gp" or "msr read ok value=0x...", then
 * "msr write gp|ok" and "msr reread gp|ok value=0x...", then "msr done".
 * khyve injects #GP by default and ignores the access with -w.
 */
#include "guest.h"

static void report(const char *what, uint32_t msr, int vec, uint64_t v,
    bool show)
{
	if (vec == 13)
		printf("msr %s gp (msr 0x%x)\n", what, msr);
	else if (vec)
		printf("msr %s fault vector %d (msr 0x%x)\n", what, vec, msr);
	else if (show)
		printf("msr %s ok value=0x%llx (msr 0x%x)\n", what,
		    (unsigned long long)v, msr);
	else
		printf("msr %s ok (msr 0x%x)\n", what, msr);
}

void guest_main(void)
{
	uint32_t msr = (uint32_t)cmd_num("msr", 0x12345678);
	uint64_t wval = cmd_num("val", 0x1234abcd), v;
	int vec;

	/* A known MSR first: rdmsr itself must work. */
	vec = rdmsr_safe(0x1b, &v);
	report("apicbase", 0x1b, vec, v, true);

	vec = rdmsr_safe(msr, &v);
	report("read", msr, vec, v, true);
	vec = wrmsr_safe(msr, wval);
	report("write", msr, vec, 0, false);
	vec = rdmsr_safe(msr, &v);
	report("reread", msr, vec, v, true);
	printf("msr done\n");
	finish(GX_OK);
}
