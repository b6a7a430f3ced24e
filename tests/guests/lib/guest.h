/*
 * guest.h - the tiny runtime shared by khyve's test guests.
 *
 * Guests are freestanding 32-bit multiboot (or PVH) programs; a few files
 * (printf, string, serial, cmdline, exit, delay) are also built 64-bit for
 * the bzImage test kernel.  No libc, no libgcc: 64-bit division is done
 * with divl by hand, and gcc's implicit memcpy/memset calls land in
 * string.c.
 *
 * Exit values.  pc-testdev (port 0xf4) makes khyve exit with (v << 1) | 1,
 * so a test can tell the guest's verdict apart from the power-off (1),
 * reset (0), halt (2) and triple-fault (3) statuses.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NORETURN __attribute__((noreturn))
#define PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* pc-testdev values (khyve status = (v << 1) | 1). */
#define GX_OK 0x10        /* status 33: the program did what it should */
#define GX_FAIL 0x11      /* status 35: the program found something wrong */
#define GX_EXCEPTION 0x7d /* status 251: unexpected CPU exception */
#define GX_EXITFAIL 0x7e  /* status 253: the requested exit path did not work */

/* ---- port I/O ---- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* ---- CPU helpers ---- */
static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t *a,
    uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid"
	    : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
	    : "a"(leaf), "c"(sub));
}
static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
    uint32_t *d)
{
	cpuid_count(leaf, 0, a, b, c, d);
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
	    : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
	    : "memory");
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}
static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}
static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}
static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

#ifndef __x86_64__
/*
 * Fault-tolerant MSR access (32-bit runtime only).  If the instruction
 * faults, the exception handler finds it in the .extable section, resumes
 * after it and records the vector; these return 0 or the vector number
 * (13 for #GP).
 */
extern volatile int trap_fault_vector;
extern volatile uint32_t trap_fault_error;
static inline int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo, hi;
	trap_fault_vector = -1;
	__asm__ volatile("1: rdmsr\n2:\n"
			 ".pushsection .extable, \"a\"\n"
			 ".long 1b, 2b\n"
			 ".popsection"
	    : "=a"(lo), "=d"(hi)
	    : "c"(msr), "0"(0), "1"(0)
	    : "memory");
	*val = ((uint64_t)hi << 32) | lo;
	return trap_fault_vector < 0 ? 0 : trap_fault_vector;
}
static inline int wrmsr_safe(uint32_t msr, uint64_t v)
{
	trap_fault_vector = -1;
	__asm__ volatile("1: wrmsr\n2:\n"
			 ".pushsection .extable, \"a\"\n"
			 ".long 1b, 2b\n"
			 ".popsection"
	    : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
	    : "memory");
	return trap_fault_vector < 0 ? 0 : trap_fault_vector;
}

/* The frame trap_common (entry.S) builds: pusha, vector, error, iret. */
struct trapframe {
	uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};
/*
 * A test may install a hook for unexpected exceptions: return true to
 * resume (after adjusting tf->eip), false to fall through to the default
 * report-and-exit.
 */
extern bool (*trap_hook)(struct trapframe *tf);
void trap_init(void); /* build the IDT and load it (BSP) */
void idt_load(void);  /* load the already-built IDT (APs) */
#endif

/* ---- string.c ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Copy at most len-1 bytes and terminate; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t len);

/* ---- serial.c: COM1, polled ---- */
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);

/* ---- printf.c ---- */
int printf(const char *fmt, ...) PRINTF(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t len, const char *fmt, ...) PRINTF(3, 4);
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
/* printf() serialises whole calls between CPUs with this lock. */
void console_lock(void);
bool console_trylock(void);
void console_unlock(void);
/* Print `n` bytes of guest memory as text: printable ASCII, others as '.'. */
void print_text(const void *p, size_t n);

/* ---- cmdline.c ---- */
/* The command line the program was booted with (NULL: none). */
extern const char *cmdline;
/* Value of "key=value" in the command line into buf; false if absent. */
bool cmd_get(const char *key, char *buf, size_t len);
/* True if "key" or "key=..." is present. */
bool cmd_has(const char *key);
/* Numeric value (decimal or 0x hex) of key, or dflt. */
uint64_t cmd_num(const char *key, uint64_t dflt);
/* Parse decimal or 0x-hex; *end (if not NULL) points past the digits. */
uint64_t parse_num(const char *s, const char **end);

/* ---- delay.c: PIT channel 2 (falls back to port 0x80 writes) ---- */
void delay_us(uint32_t us);
void delay_ms(uint32_t ms);

/* ---- exit.c ---- */
NORETURN void exit_testdev(uint8_t v);
NORETURN void exit_poweroff(void);
NORETURN void exit_reset(void);
NORETURN void exit_halt(void);
NORETURN void exit_triple(void);
/* "testdev:N", "poweroff", "reset", "halt", "triple". */
NORETURN void exit_spec(const char *spec);
/* Exit as the command line's exit= says, else via pc-testdev `code`. */
NORETURN void finish(uint8_t code);
/* Exit as exit= says, else power off (the demo). */
NORETURN void finish_poweroff(void);

#ifndef __x86_64__
/* ---- boot.c: what the boot loader told us (multiboot v1 or PVH) ---- */
#define MB_MAGIC 0x2BADB002u
#define PVH_MAGIC 0x336ec578u

enum boot_kind { BOOT_UNKNOWN, BOOT_MULTIBOOT, BOOT_PVH };

struct mem_range {
	uint64_t addr, len;
	uint32_t type;
};
struct boot_module {
	uint64_t start, size;
	char cmdline[128];
};
#define BOOT_MAX_MMAP 64
#define BOOT_MAX_MODS 8
struct bootinfo {
	enum boot_kind kind;
	uint32_t magic; /* eax at entry */
	uint32_t info;  /* ebx at entry: multiboot info or hvm_start_info */
	char cmdline[2048];
	bool have_mem; /* multiboot mem_lower/mem_upper valid */
	uint32_t mem_lower, mem_upper;
	int nmmap; /* entries in mmap[] (more may have been dropped) */
	int nmmap_total;
	struct mem_range mmap[BOOT_MAX_MMAP];
	int nmods, nmods_total;
	struct boot_module mods[BOOT_MAX_MODS];
	/* PVH */
	uint32_t pvh_magic, pvh_version, pvh_flags;
	uint64_t pvh_rsdp;
	/* multiboot */
	uint32_t mb_flags;
	char loader_name[64];
};
extern struct bootinfo boot;
/* Total type-1 (RAM) bytes in the memory map (0 if none). */
uint64_t boot_ram_bytes(void);
/* Print the memory map and modules (used by several programs). */
void boot_print(void);

/* ---- apic.c ---- */
extern bool apic_x2;        /* this run uses x2APIC mode */
extern uintptr_t apic_mmio; /* xAPIC MMIO base */
/* Set up the BSP's local APIC: x2APIC if the VMM enabled it or if
 * want_x2 and CPUID offers it. */
void apic_init_bsp(bool want_x2);
/* On an AP: follow the BSP's mode. */
void apic_init_ap(void);
uint32_t apic_read_id(void);
/* Send an IPI: `low` is the ICR low word, `dest` the APIC ID. */
void apic_send_ipi(uint32_t dest, uint32_t low);
/* Register access by xAPIC MMIO offset (x2APIC: MSR 0x800 + reg / 16). */
#define APIC_TPR 0x80
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_MASKED 0x10000u
#define APIC_SPURIOUS_VECTOR 0xff
uint32_t apic_read(uint32_t reg);
void apic_write(uint32_t reg, uint32_t v);
void apic_eoi(void);

/* ---- irq.c: external interrupts (vectors 32..255, see irqstub.S) ---- */
/* Interrupts taken per vector since boot (the handler sent the EOI). */
extern volatile uint32_t irq_count[256];
extern volatile uint32_t irq_total;
/* Mask the 8259s (remapped to 0x20) and the LAPIC timer/LINT0, enable
 * the LAPIC (xAPIC unless the VMM chose x2APIC).  Interrupts stay off. */
void irq_init(void);
void irq_enable(void);  /* sti */
void irq_disable(void); /* cli */
/* Wait until irq_count[vector] >= count; false after timeout_ms. */
bool irq_wait(int vector, uint32_t count, uint32_t timeout_ms);

/* ---- alloc.c ---- */
/* Zeroed memory after the program image (physical = virtual), `align` a
 * power of two; never freed.  Bounded only by RAM: keep requests small. */
void *palloc(size_t size, size_t align);

/* ---- smp.c ---- */
#define MAX_CPUS 256
struct cpu_info {
	bool valid;
	uint32_t index; /* order in which the CPU checked in (0 = BSP) */
	bool x2mode;
	uint32_t apic;  /* from the local APIC (xAPIC ID reg or x2APIC MSR) */
	uint32_t init_apic, lcount, htt;
	bool leafb;
	uint32_t x2id, smt_shift, smt_count, core_shift, core_count;
	bool amd8;
	uint32_t amd_nc, amd_idsize;
	bool amd1e;
	uint32_t ext_apic, core_id, tpc, node;
};
extern struct cpu_info cpu_info[MAX_CPUS];
/*
 * Start the APs (broadcast INIT-SIPI-SIPI) and wait until `expect` CPUs
 * in total have checked in, or timeout_ms passed; with expect 0 wait
 * until no new CPU arrived for quiet_ms.  Returns the number of CPUs
 * (BSP included).
 */
int smp_boot(int expect, uint32_t timeout_ms, uint32_t quiet_ms);
/* One line per CPU, sorted by APIC ID. */
void smp_print(void);
#endif

/* Program entry: the runtime calls guest_main() after setting up the
 * CPU, COM1 and the boot information.  If it returns, finish(GX_OK). */
void guest_main(void);

#endif
