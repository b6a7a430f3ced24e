/*
 * gdb_regs.c - register layouts, wire encoding and target description
 * (see gdb_regs.h).  The x86 register and flag names are the
 * architecture's (Intel SDM vol. 3); the feature name is the one gdb's
 * i386/amd64 support looks for.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "gdb/gdb_regs.h"

struct reg_desc {
	const char *name;
	unsigned bits;     /* 32, 64 or 80 on the wire */
	const char *type;  /* tdesc type */
	const char *group; /* tdesc group or NULL */
	size_t off;        /* offset in struct gdb_regs */
};

#define R(n, b, t, f) { n, b, t, NULL, offsetof(struct gdb_regs, f) }
#define RG(n, b, t, g, f) { n, b, t, g, offsetof(struct gdb_regs, f) }

#define X87_REGS                                                              \
	R("st0", 80, "i387_ext", st[0]), R("st1", 80, "i387_ext", st[1]),     \
	R("st2", 80, "i387_ext", st[2]), R("st3", 80, "i387_ext", st[3]),     \
	R("st4", 80, "i387_ext", st[4]), R("st5", 80, "i387_ext", st[5]),     \
	R("st6", 80, "i387_ext", st[6]), R("st7", 80, "i387_ext", st[7]),     \
	RG("fctrl", 32, "int", "float", fctrl),                               \
	RG("fstat", 32, "int", "float", fstat),                               \
	RG("ftag", 32, "int", "float", ftag),                                 \
	RG("fiseg", 32, "int", "float", fiseg),                               \
	RG("fioff", 32, "int", "float", fioff),                               \
	RG("foseg", 32, "int", "float", foseg),                               \
	RG("fooff", 32, "int", "float", fooff),                               \
	RG("fop", 32, "int", "float", fop)

static const struct reg_desc amd64_regs[] = {
	R("rax", 64, "int64", gpr[GDB_RAX]),
	R("rbx", 64, "int64", gpr[GDB_RBX]),
	R("rcx", 64, "int64", gpr[GDB_RCX]),
	R("rdx", 64, "int64", gpr[GDB_RDX]),
	R("rsi", 64, "int64", gpr[GDB_RSI]),
	R("rdi", 64, "int64", gpr[GDB_RDI]),
	R("rbp", 64, "data_ptr", gpr[GDB_RBP]),
	R("rsp", 64, "data_ptr", gpr[GDB_RSP]),
	R("r8", 64, "int64", gpr[8]),
	R("r9", 64, "int64", gpr[9]),
	R("r10", 64, "int64", gpr[10]),
	R("r11", 64, "int64", gpr[11]),
	R("r12", 64, "int64", gpr[12]),
	R("r13", 64, "int64", gpr[13]),
	R("r14", 64, "int64", gpr[14]),
	R("r15", 64, "int64", gpr[15]),
	R("rip", 64, "code_ptr", rip),
	R("eflags", 32, "x86_eflags", rflags),
	R("cs", 32, "int32", seg[0]),
	R("ss", 32, "int32", seg[1]),
	R("ds", 32, "int32", seg[2]),
	R("es", 32, "int32", seg[3]),
	R("fs", 32, "int32", seg[4]),
	R("gs", 32, "int32", seg[5]),
	R("fs_base", 64, "int64", fs_base),
	R("gs_base", 64, "int64", gs_base),
	R("k_gs_base", 64, "int64", k_gs_base),
	R("cr0", 64, "x86_cr0", cr0),
	R("cr2", 64, "int64", cr2),
	R("cr3", 64, "x86_cr3", cr3),
	R("cr4", 64, "x86_cr4", cr4),
	R("cr8", 64, "int64", cr8),
	R("efer", 64, "x86_efer", efer),
	X87_REGS,
};

/* gdb's i386 numbering: eax ecx edx ebx esp ebp esi edi. */
static const struct reg_desc i386_regs[] = {
	R("eax", 32, "int32", gpr[GDB_RAX]),
	R("ecx", 32, "int32", gpr[GDB_RCX]),
	R("edx", 32, "int32", gpr[GDB_RDX]),
	R("ebx", 32, "int32", gpr[GDB_RBX]),
	R("esp", 32, "data_ptr", gpr[GDB_RSP]),
	R("ebp", 32, "data_ptr", gpr[GDB_RBP]),
	R("esi", 32, "int32", gpr[GDB_RSI]),
	R("edi", 32, "int32", gpr[GDB_RDI]),
	R("eip", 32, "code_ptr", rip),
	R("eflags", 32, "x86_eflags", rflags),
	R("cs", 32, "int32", seg[0]),
	R("ss", 32, "int32", seg[1]),
	R("ds", 32, "int32", seg[2]),
	R("es", 32, "int32", seg[3]),
	R("fs", 32, "int32", seg[4]),
	R("gs", 32, "int32", seg[5]),
	X87_REGS,
	R("cr0", 32, "x86_cr0", cr0),
	R("cr2", 32, "int32", cr2),
	R("cr3", 32, "x86_cr3", cr3),
	R("cr4", 32, "x86_cr4", cr4),
	R("efer", 64, "x86_efer", efer),
};

struct layout {
	const struct reg_desc *r;
	int n;
	int pc;
	const char *arch; /* BFD architecture name gdb matches */
};

static const struct layout layouts[] = {
	[GDB_ARCH_AMD64] = { amd64_regs, (int)ARRAY_SIZE(amd64_regs), 16,
	    "i386:x86-64" },
	[GDB_ARCH_I386] = { i386_regs, (int)ARRAY_SIZE(i386_regs), 8,
	    "i386" },
};

static const struct layout *layout(enum gdb_arch a)
{
	return &layouts[a == GDB_ARCH_I386 ? GDB_ARCH_I386 : GDB_ARCH_AMD64];
}

int gdb_regs_count(enum gdb_arch a)
{
	return layout(a)->n;
}

int gdb_regs_pc(enum gdb_arch a)
{
	return layout(a)->pc;
}

size_t gdb_regs_size(enum gdb_arch a)
{
	const struct layout *l = layout(a);
	size_t n = 0;

	for (int i = 0; i < l->n; i++)
		n += l->r[i].bits / 8;
	return n;
}

static void get_one(const struct reg_desc *d, const struct gdb_regs *r,
    uint8_t *out)
{
	const uint8_t *f = (const uint8_t *)r + d->off;

	/* Scalars are uint64_t fields; x86 hosts are little-endian, so the
	 * low 4 bytes are the 32-bit value. */
	memcpy(out, f, d->bits / 8);
}

static void set_one(const struct reg_desc *d, struct gdb_regs *r,
    const uint8_t *in)
{
	uint8_t *f = (uint8_t *)r + d->off;
	uint64_t v = 0;

	if (d->bits == 80) {
		memcpy(f, in, 10);
		return;
	}
	memcpy(&v, in, d->bits / 8); /* zero-extends a 32-bit value */
	memcpy(f, &v, sizeof(v));
}

void gdb_regs_encode(enum gdb_arch a, const struct gdb_regs *r, uint8_t *out)
{
	const struct layout *l = layout(a);

	for (int i = 0; i < l->n; i++) {
		get_one(&l->r[i], r, out);
		out += l->r[i].bits / 8;
	}
}

int gdb_regs_decode(enum gdb_arch a, struct gdb_regs *r, const uint8_t *in,
    size_t len)
{
	const struct layout *l = layout(a);

	if (len != gdb_regs_size(a))
		return -EINVAL;
	for (int i = 0; i < l->n; i++) {
		set_one(&l->r[i], r, in);
		in += l->r[i].bits / 8;
	}
	return 0;
}

int gdb_reg_get(enum gdb_arch a, const struct gdb_regs *r, int n,
    uint8_t *out)
{
	const struct layout *l = layout(a);

	if (n < 0 || n >= l->n)
		return -EINVAL;
	get_one(&l->r[n], r, out);
	return (int)(l->r[n].bits / 8);
}

int gdb_reg_set(enum gdb_arch a, struct gdb_regs *r, int n, const uint8_t *in,
    size_t len)
{
	const struct layout *l = layout(a);

	if (n < 0 || n >= l->n || len != l->r[n].bits / 8)
		return -EINVAL;
	set_one(&l->r[n], r, in);
	return 0;
}

#define DIFF(f) (memcmp(&a->f, &b->f, sizeof(a->f)) != 0)

unsigned gdb_regs_changed(const struct gdb_regs *a, const struct gdb_regs *b)
{
	unsigned m = 0;

	if (DIFF(gpr) || DIFF(rip) || DIFF(rflags))
		m |= GDB_GRP_REGS;
	if (DIFF(seg) || DIFF(fs_base) || DIFF(gs_base) || DIFF(cr0) ||
	    DIFF(cr2) || DIFF(cr3) || DIFF(cr4) || DIFF(cr8) || DIFF(efer))
		m |= GDB_GRP_SREGS;
	if (DIFF(st) || DIFF(fctrl) || DIFF(fstat) || DIFF(ftag) ||
	    DIFF(fiseg) || DIFF(fioff) || DIFF(foseg) || DIFF(fooff) ||
	    DIFF(fop))
		m |= GDB_GRP_FPU;
	if (DIFF(k_gs_base))
		m |= GDB_GRP_MSRS;
	return m;
}

/* ---- target description ---- */

struct flag_bit {
	const char *name;
	unsigned start, end;
};

static const struct flag_bit eflags_bits[] = {
	{ "CF", 0, 0 }, { "", 1, 1 }, { "PF", 2, 2 }, { "AF", 4, 4 },
	{ "ZF", 6, 6 }, { "SF", 7, 7 }, { "TF", 8, 8 }, { "IF", 9, 9 },
	{ "DF", 10, 10 }, { "OF", 11, 11 }, { "IOPL", 12, 13 },
	{ "NT", 14, 14 }, { "RF", 16, 16 }, { "VM", 17, 17 },
	{ "AC", 18, 18 }, { "VIF", 19, 19 }, { "VIP", 20, 20 },
	{ "ID", 21, 21 },
};
static const struct flag_bit cr0_bits[] = {
	{ "PE", 0, 0 }, { "MP", 1, 1 }, { "EM", 2, 2 }, { "TS", 3, 3 },
	{ "ET", 4, 4 }, { "NE", 5, 5 }, { "WP", 16, 16 }, { "AM", 18, 18 },
	{ "NW", 29, 29 }, { "CD", 30, 30 }, { "PG", 31, 31 },
};
static const struct flag_bit cr3_bits[] = {
	{ "PWT", 3, 3 }, { "PCD", 4, 4 }, { "PDBR", 12, 31 },
};
static const struct flag_bit cr3_bits64[] = {
	{ "PCID", 0, 11 }, { "PDBR", 12, 63 },
};
static const struct flag_bit cr4_bits[] = {
	{ "VME", 0, 0 }, { "PVI", 1, 1 }, { "TSD", 2, 2 }, { "DE", 3, 3 },
	{ "PSE", 4, 4 }, { "PAE", 5, 5 }, { "MCE", 6, 6 }, { "PGE", 7, 7 },
	{ "PCE", 8, 8 }, { "OSFXSR", 9, 9 }, { "OSXMMEXCPT", 10, 10 },
	{ "UMIP", 11, 11 }, { "LA57", 12, 12 }, { "VMXE", 13, 13 },
	{ "SMXE", 14, 14 }, { "FSGSBASE", 16, 16 }, { "PCIDE", 17, 17 },
	{ "OSXSAVE", 18, 18 }, { "SMEP", 20, 20 }, { "SMAP", 21, 21 },
	{ "PKE", 22, 22 },
};
static const struct flag_bit efer_bits[] = {
	{ "SCE", 0, 0 }, { "LME", 8, 8 }, { "LMA", 10, 10 }, { "NXE", 11, 11 },
	{ "SVME", 12, 12 }, { "LMSLE", 13, 13 }, { "FFXSR", 14, 14 },
	{ "TCE", 15, 15 },
};

struct xml_out {
	char *buf;
	size_t cap, len;
};

static void xo(struct xml_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void xo(struct xml_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->cap ? o->buf + o->len : NULL,
	    o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void xo_flags(struct xml_out *o, const char *id, unsigned size,
    const struct flag_bit *b, size_t n)
{
	xo(o, "<flags id=\"%s\" size=\"%u\">\n", id, size);
	for (size_t i = 0; i < n; i++)
		xo(o, " <field name=\"%s\" start=\"%u\" end=\"%u\"/>\n",
		    b[i].name, b[i].start, b[i].end);
	xo(o, "</flags>\n");
}

size_t gdb_regs_xml(enum gdb_arch a, char *buf, size_t cap)
{
	const struct layout *l = layout(a);
	unsigned crsize = a == GDB_ARCH_AMD64 ? 8 : 4;
	struct xml_out o = { buf, cap, 0 };

	if (cap > 0)
		buf[0] = '\0';
	xo(&o, "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	    "<target version=\"1.0\">\n"
	    "<architecture>%s</architecture>\n"
	    "<feature name=\"org.gnu.gdb.i386.core\">\n", l->arch);
	xo_flags(&o, "x86_eflags", 4, eflags_bits, ARRAY_SIZE(eflags_bits));
	xo_flags(&o, "x86_cr0", crsize, cr0_bits, ARRAY_SIZE(cr0_bits));
	if (a == GDB_ARCH_AMD64)
		xo_flags(&o, "x86_cr3", 8, cr3_bits64, ARRAY_SIZE(cr3_bits64));
	else
		xo_flags(&o, "x86_cr3", 4, cr3_bits, ARRAY_SIZE(cr3_bits));
	xo_flags(&o, "x86_cr4", crsize, cr4_bits, ARRAY_SIZE(cr4_bits));
	xo_flags(&o, "x86_efer", 8, efer_bits, ARRAY_SIZE(efer_bits));
	for (int i = 0; i < l->n; i++) {
		xo(&o, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\"",
		    l->r[i].name, l->r[i].bits, l->r[i].type);
		if (i == 0)
			xo(&o, " regnum=\"0\"");
		if (l->r[i].group != NULL)
			xo(&o, " group=\"%s\"", l->r[i].group);
		xo(&o, "/>\n");
	}
	xo(&o, "</feature>\n</target>\n");
	return o.len;
}

/* ---- x87 tag word ---- */

static unsigned tag_of(const uint8_t v[10])
{
	uint64_t mant;
	unsigned exp = (unsigned)(v[8] | (v[9] << 8)) & 0x7fff;

	memcpy(&mant, v, 8);
	if (exp == 0x7fff)
		return 2; /* infinity or NaN */
	if (exp == 0)
		return mant == 0 ? 1 : 2; /* zero, or denormal */
	return (mant >> 63) ? 0 : 2;      /* valid, or unnormal */
}

uint16_t gdb_ftag_full(uint8_t abridged, uint16_t fsw, const uint8_t st[8][10])
{
	unsigned top = (fsw >> 11) & 7;
	uint16_t tag = 0;

	/* Tag bit p describes physical register p, which is ST((p-top)&7). */
	for (unsigned p = 0; p < 8; p++) {
		unsigned t = 3;

		if (abridged & (1u << p))
			t = tag_of(st[(p - top) & 7]);
		tag |= (uint16_t)(t << (2 * p));
	}
	return tag;
}

uint8_t gdb_ftag_abridged(uint16_t full)
{
	uint8_t a = 0;

	for (unsigned p = 0; p < 8; p++)
		if (((full >> (2 * p)) & 3) != 3)
			a |= (uint8_t)(1u << p);
	return a;
}
