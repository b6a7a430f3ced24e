/*
 * smp.c - bring up the application processors and collect, on each CPU,
 * its APIC ID and CPUID topology.
 *
 * The BSP copies the real-mode trampoline (entry.S) to TRAMP_ADDR and
 * broadcasts INIT, SIPI, SIPI to all but itself.  Each AP enters 32-bit
 * mode, takes an index and a stack (ap_entry32), loads the IDT, records
 * itself in cpu_info[] under a lock and halts.
 */
#include "guest.h"

#define TRAMP_ADDR 0x8000u /* SIPI vector 0x08 */
#define ICR_INIT 0x00000500u
#define ICR_SIPI 0x00000600u
#define ICR_ASSERT 0x00004000u
#define ICR_ALL_BUT_SELF 0x000c0000u

extern char tramp_start[], tramp_end[];

struct cpu_info cpu_info[MAX_CPUS];
static volatile uint32_t table_lock;
static volatile uint32_t checked_in; /* APs recorded so far */

static void lock(void)
{
	while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

static void unlock(void)
{
	__atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE);
}

static void collect(struct cpu_info *ci)
{
	uint32_t a, b, c, d, max, maxext;

	cpuid(0, &max, &b, &c, &d);
	cpuid(0x80000000, &maxext, &b, &c, &d);
	cpuid(1, &a, &b, &c, &d);
	ci->init_apic = b >> 24;
	ci->lcount = (b >> 16) & 0xff;
	ci->htt = (d >> 28) & 1;
	if (max >= 0xb) {
		cpuid_count(0xb, 0, &a, &b, &c, &d);
		if (b & 0xffff) {
			ci->leafb = true;
			ci->x2id = d;
			ci->smt_shift = a & 0x1f;
			ci->smt_count = b & 0xffff;
			cpuid_count(0xb, 1, &a, &b, &c, &d);
			ci->core_shift = a & 0x1f;
			ci->core_count = b & 0xffff;
		}
	}
	if (maxext >= 0x80000008 && maxext < 0x8fffffff) {
		cpuid(0x80000008, &a, &b, &c, &d);
		ci->amd8 = true;
		ci->amd_nc = c & 0xff;
		ci->amd_idsize = (c >> 12) & 0xf;
	}
	if (maxext >= 0x8000001e && maxext < 0x8fffffff) {
		cpuid(0x8000001e, &a, &b, &c, &d);
		ci->amd1e = true;
		ci->ext_apic = a;
		ci->core_id = b & 0xff;
		ci->tpc = ((b >> 8) & 0xff) + 1;
		ci->node = c & 0xff;
	}
	ci->x2mode = apic_x2;
	ci->apic = apic_read_id();
}

void ap_main(uint32_t index);
void ap_main(uint32_t index)
{
	struct cpu_info ci = { 0 };

	idt_load();
	apic_init_ap();
	collect(&ci);
	ci.index = index;
	ci.valid = true;
	lock();
	cpu_info[index] = ci;
	checked_in++;
	unlock();
	/* entry.S halts the AP (cli; hlt) when this returns */
}

static uint32_t arrived(void)
{
	uint32_t n;

	lock();
	n = checked_in;
	unlock();
	return n;
}

int smp_boot(int expect, uint32_t timeout_ms, uint32_t quiet_ms)
{
	uint32_t n, last = 0, quiet = 0;

	apic_init_bsp(cmd_num("x2apic", 1) != 0);
	cpu_info[0].index = 0;
	collect(&cpu_info[0]);
	cpu_info[0].valid = true;
	if (expect == 1)
		return 1;

	memcpy((void *)TRAMP_ADDR, tramp_start, (size_t)(tramp_end - tramp_start));
	apic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT);
	delay_ms(10);
	for (int i = 0; i < 2; i++) {
		apic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_SIPI |
		    (TRAMP_ADDR >> 12));
		delay_us(300);
	}

	/* Wait in 5 ms steps: for `expect` CPUs, or for a quiet spell. */
	for (uint32_t t = 0; t < timeout_ms; t += 5) {
		n = arrived();
		if (expect > 0 && (int)n + 1 >= expect)
			break;
		if (n != last) {
			last = n;
			quiet = 0;
		} else if (expect <= 0 && (quiet += 5) >= quiet_ms) {
			break;
		}
		delay_ms(5);
	}
	return (int)arrived() + 1;
}

void smp_print(void)
{
	int order[MAX_CPUS], n = 0;

	for (int i = 0; i < MAX_CPUS; i++)
		if (cpu_info[i].valid)
			order[n++] = i;
	/* insertion sort by APIC ID */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 &&
		     cpu_info[order[j]].apic < cpu_info[order[j - 1]].apic; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		const struct cpu_info *ci = &cpu_info[order[i]];
		char buf[256];
		int len;

		len = snprintf(buf, sizeof(buf),
		    "cpu %d apic %u init=%u lcount=%u htt=%u %s", i, ci->apic,
		    ci->init_apic, ci->lcount, ci->htt,
		    ci->x2mode ? "x2apic" : "xapic");
		if (ci->leafb)
			len += snprintf(buf + len, sizeof(buf) - (size_t)len,
			    " x2id=%u smt_shift=%u smt_count=%u "
			    "core_shift=%u core_count=%u",
			    ci->x2id, ci->smt_shift, ci->smt_count,
			    ci->core_shift, ci->core_count);
		if (ci->amd8)
			len += snprintf(buf + len, sizeof(buf) - (size_t)len,
			    " amd_nc=%u amd_idsize=%u", ci->amd_nc,
			    ci->amd_idsize);
		if (ci->amd1e)
			snprintf(buf + len, sizeof(buf) - (size_t)len,
			    " ext_apic=%u core_id=%u tpc=%u node=%u",
			    ci->ext_apic, ci->core_id, ci->tpc, ci->node);
		printf("%s%s\n", buf, ci->index == 0 ? " bsp" : "");
	}
}
