/*
 * gdb_regs.h - the register set the gdb stub shows, its wire encoding
 * ('g'/'G'/'p'/'P') and its target description (qXfer target.xml).
 *
 * Two layouts, both from one table so the XML and the wire cannot drift:
 *  - amd64 (the default, as bhyve's gdb/amd64.xml): rax..r15, rip,
 *    eflags, cs..gs, fs_base, gs_base, k_gs_base, cr0, cr2, cr3, cr4,
 *    cr8, efer, st0..st7, fctrl..fop.  gdb needs "set architecture
 *    i386:x86-64" before loading a 32-bit ELF with it.
 *  - i386 (gdb.arch=i386): gdb's i386 core order eax, ecx, edx, ebx,
 *    esp, ebp, esi, edi, eip, eflags, cs..gs, st0..st7, fctrl..fop, then
 *    cr0, cr2, cr3, cr4 and efer.  For guests that stay in 32-bit mode:
 *    gdb then unwinds, steps by line and disassembles 32-bit code
 *    natively.  The upper halves of the 64-bit registers are not shown.
 * Registers are little-endian on the wire, x87 registers 10 bytes.
 */
#ifndef KHYVE_GDB_REGS_H
#define KHYVE_GDB_REGS_H

#include <stddef.h>
#include <stdint.h>

enum gdb_arch { GDB_ARCH_AMD64, GDB_ARCH_I386 };

/* Where a register lives in KVM (which ioctl reads and writes it). */
enum gdb_reg_group {
	GDB_GRP_REGS = 1 << 0,  /* KVM_GET/SET_REGS */
	GDB_GRP_SREGS = 1 << 1, /* KVM_GET/SET_SREGS */
	GDB_GRP_FPU = 1 << 2,   /* KVM_GET/SET_FPU */
	GDB_GRP_MSRS = 1 << 3,  /* KVM_GET/SET_MSRS */
};

/* The register state of one vCPU, independent of the layout. */
struct gdb_regs {
	uint64_t gpr[16]; /* rax rbx rcx rdx rsi rdi rbp rsp r8..r15 */
	uint64_t rip, rflags;
	uint64_t seg[6]; /* selectors: cs ss ds es fs gs */
	uint64_t fs_base, gs_base, k_gs_base;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	uint8_t st[8][10]; /* st0..st7 (stack order), 80-bit */
	uint64_t fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop;
};

enum { GDB_RAX, GDB_RBX, GDB_RCX, GDB_RDX, GDB_RSI, GDB_RDI, GDB_RBP,
	GDB_RSP };

/* Number of registers in the layout ('p'/'P' take 0..n-1). */
int gdb_regs_count(enum gdb_arch a);
/* Bytes of a 'g' reply (before hex encoding). */
size_t gdb_regs_size(enum gdb_arch a);
/* Index of the program counter in the layout. */
int gdb_regs_pc(enum gdb_arch a);

/* 'g': all registers into out (gdb_regs_size() bytes). */
void gdb_regs_encode(enum gdb_arch a, const struct gdb_regs *r, uint8_t *out);
/* 'G': all registers from exactly gdb_regs_size() bytes; 0 or -EINVAL. */
int gdb_regs_decode(enum gdb_arch a, struct gdb_regs *r, const uint8_t *in,
    size_t len);
/* 'p': register n into out (up to 10 bytes); its size, or -EINVAL. */
int gdb_reg_get(enum gdb_arch a, const struct gdb_regs *r, int n,
    uint8_t *out);
/* 'P': register n from exactly its size in bytes; 0 or -EINVAL. */
int gdb_reg_set(enum gdb_arch a, struct gdb_regs *r, int n, const uint8_t *in,
    size_t len);

/* Groups (enum gdb_reg_group) whose registers differ between a and b. */
unsigned gdb_regs_changed(const struct gdb_regs *a, const struct gdb_regs *b);

/*
 * The target description XML for the layout, written into buf (always
 * NUL-terminated when cap > 0).  Returns its full length, like snprintf.
 */
size_t gdb_regs_xml(enum gdb_arch a, char *buf, size_t cap);

/*
 * x87 tag word: FXSAVE keeps one "in use" bit per physical register
 * (abridged); gdb shows the full two-bit tags (0 valid, 1 zero,
 * 2 special, 3 empty), which depend on each register's value.
 */
uint16_t gdb_ftag_full(uint8_t abridged, uint16_t fsw, const uint8_t st[8][10]);
uint8_t gdb_ftag_abridged(uint16_t full);

#endif
