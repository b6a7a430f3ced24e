/*
 * irq.c - external interrupts for the PCI/virtio guests: the handler
 * behind irqstub.S counts each vector and sends the local APIC an EOI.
 *
 * irq_init() quietens every other source first: both 8259s are
 * initialised to vectors 0x20..0x2f and fully masked (after a reset
 * without firmware they would deliver the PIT's IRQ 0 at vector 0+), and
 * the LAPIC's timer and LINT0 are masked.  The I/O APIC's inputs are
 * masked at reset.  So with interrupts enabled only what a program
 * configured (MSI/MSI-X) arrives; anything else is still counted, so a
 * stray vector shows up in irq_count[].
 */
#include "guest.h"

volatile uint32_t irq_count[256];
volatile uint32_t irq_total;

void irq_handler(uint32_t vector);
void irq_handler(uint32_t vector)
{
	vector &= 0xff;
	irq_count[vector]++;
	irq_total++;
	if (vector != APIC_SPURIOUS_VECTOR) /* a spurious one takes no EOI */
		apic_eoi();
}

static void pic_mask_all(void)
{
	outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	outb(0xa0, 0x11);
	outb(0x21, 0x20); /* ICW2: vector base */
	outb(0xa1, 0x28);
	outb(0x21, 0x04); /* ICW3: slave on IRQ 2 */
	outb(0xa1, 0x02);
	outb(0x21, 0x01); /* ICW4: 8086 mode */
	outb(0xa1, 0x01);
	outb(0x21, 0xff); /* OCW1: mask everything */
	outb(0xa1, 0xff);
}

void irq_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	pic_mask_all();
	apic_init_bsp(false);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	apic_write(APIC_TPR, 0);
}

void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

bool irq_wait(int vector, uint32_t count, uint32_t timeout_ms)
{
	for (uint32_t t = 0; irq_count[vector & 0xff] < count; t++) {
		if (t >= timeout_ms * 10)
			return false;
		delay_us(100);
	}
	return true;
}
