/*
 * apic.c - the local APIC, xAPIC (MMIO, base from MSR 0x1B, normally
 * 0xFEE00000) or x2APIC (MSRs 0x800+).  x2APIC is used when the VMM
 * already enabled it (APIC base MSR bit 10) or, if asked, when CPUID.1:ECX
 * bit 21 offers it (khyve: only with -x).
 */
#include "guest.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EXTD (1u << 10)
#define APIC_BASE_EN (1u << 11)
#define X2APIC_ID 0x802
#define X2APIC_ICR 0x830
#define X2APIC_SVR 0x80f
#define XAPIC_ID 0x20
#define XAPIC_SVR 0xf0
#define SVR_ENABLE 0x100
#define SPURIOUS_VEC 0xff
#define XAPIC_ICR_LO 0x300
#define XAPIC_ICR_HI 0x310
#define ICR_BUSY (1u << 12)

bool apic_x2;
uintptr_t apic_mmio = 0xfee00000;

static bool cpu_has_x2apic(void)
{
	uint32_t a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	return (c >> 21) & 1;
}

void apic_init_bsp(bool want_x2)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	apic_mmio = (uintptr_t)(base & 0xfffff000u);
	if (base & APIC_BASE_EXTD) {
		apic_x2 = true;
	} else if (want_x2 && cpu_has_x2apic()) {
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
		apic_x2 = true;
	}
	/* Software-enable the APIC, as an OS does before starting APs
	 * (interrupts stay off: the spurious vector is never taken). */
	if (apic_x2)
		wrmsr(X2APIC_SVR, SVR_ENABLE | SPURIOUS_VEC);
	else
		mmio_write32(apic_mmio + XAPIC_SVR, SVR_ENABLE | SPURIOUS_VEC);
}

void apic_init_ap(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (apic_x2 && !(base & APIC_BASE_EXTD))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
}

uint32_t apic_read_id(void)
{
	if (rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD)
		return (uint32_t)rdmsr(X2APIC_ID);
	return mmio_read32(apic_mmio + XAPIC_ID) >> 24;
}

void apic_send_ipi(uint32_t dest, uint32_t low)
{
	if (apic_x2) {
		wrmsr(X2APIC_ICR, ((uint64_t)dest << 32) | low);
		return;
	}
	mmio_write32(apic_mmio + XAPIC_ICR_HI, dest << 24);
	mmio_write32(apic_mmio + XAPIC_ICR_LO, low);
	for (int i = 0; i < 100000; i++)
		if (!(mmio_read32(apic_mmio + XAPIC_ICR_LO) & ICR_BUSY))
			break;
}

/* Register `reg` is the xAPIC MMIO offset; x2APIC MSR 0x800 + reg / 16. */
uint32_t apic_read(uint32_t reg)
{
	if (apic_x2)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return mmio_read32(apic_mmio + reg);
}

void apic_write(uint32_t reg, uint32_t v)
{
	if (apic_x2)
		wrmsr(0x800 + (reg >> 4), v);
	else
		mmio_write32(apic_mmio + reg, v);
}

void apic_eoi(void)
{
	apic_write(0xb0, 0);
}
