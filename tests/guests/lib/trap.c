/*
 * trap.c - the IDT and the exception handler.
 *
 * An exception at an instruction listed in .extable (rdmsr_safe() and
 * wrmsr_safe()) resumes after it with the vector recorded.  Otherwise a
 * test's trap_hook may claim it; otherwise the handler prints the vector,
 * error code and EIP on COM1 and exits via pc-testdev with GX_EXCEPTION
 * (khyve status 251).
 */
#include "guest.h"

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

struct extable_entry {
	uint32_t insn, fixup;
};

extern const uint32_t trap_vectors[32];
extern const char irq_stubs[]; /* irqstub.S: 16 bytes per vector from 32 */
extern const struct extable_entry __extable_start[], __extable_end[];

static struct idt_gate idt[256];
volatile int trap_fault_vector = -1;
volatile uint32_t trap_fault_error;
bool (*trap_hook)(struct trapframe *tf);

static const char *const names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",
	"#TS", "#NP", "#SS", "#GP", "#PF", "?15", "#MF", "#AC", "#MC", "#XM",
	"#VE", "#CP", "?22", "?23", "?24", "?25", "?26", "?27", "#HV", "#VC",
	"#SX", "?31",
};

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void trap_init(void)
{
	/* 0..31: exceptions (entry.S); 32..255: external interrupts (irqstub.S,
	 * counted by irq.c; nothing arrives until a program calls sti). */
	for (int i = 0; i < 256; i++) {
		uint32_t off = i < 32 ? trap_vectors[i] :
		    (uint32_t)irq_stubs + 16u * (uint32_t)(i - 32);

		idt[i].off_lo = (uint16_t)off;
		idt[i].off_hi = (uint16_t)(off >> 16);
		idt[i].sel = 0x08;
		idt[i].zero = 0;
		idt[i].type = 0x8e; /* present, DPL 0, 32-bit interrupt gate */
	}
	idt_load();
}

void trap_handler(struct trapframe *tf);
void trap_handler(struct trapframe *tf)
{
	uint32_t cr2 = 0;

	for (const struct extable_entry *e = __extable_start;
	     e < __extable_end; e++) {
		if (e->insn == tf->eip) {
			trap_fault_vector = (int)tf->vector;
			trap_fault_error = tf->error;
			tf->eip = e->fixup;
			return;
		}
	}
	if (trap_hook != NULL && trap_hook(tf))
		return;
	if (tf->vector == 14)
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	/* Take the console lock, or steal it if another CPU holds it. */
	console_trylock();
	serial_puts("\nEXCEPTION ");
	console_unlock();
	printf("%s vector=%u err=0x%x eip=0x%08x cs=0x%x eflags=0x%x "
	       "cr2=0x%x eax=0x%x ebx=0x%x ecx=0x%x edx=0x%x esi=0x%x "
	       "edi=0x%x\n",
	    names[tf->vector & 31], tf->vector, tf->error, tf->eip, tf->cs,
	    tf->eflags, cr2, tf->eax, tf->ebx, tf->ecx, tf->edx, tf->esi,
	    tf->edi);
	exit_testdev(GX_EXCEPTION);
}
