/*
 * cpuid.c - build each vCPU's CPUID table (see cpuid.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/kvm.h>

#include "common.h"
#include "vmm/cpuid.h"
#include "vmm/vm.h"

enum { EAX, EBX, ECX, EDX };

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

void cpuid_topo_ids(const struct vm_topology *t, struct cpu_topo_ids *ids)
{
	ids->thread_bits = bits_for((unsigned)t->threads);
	ids->core_bits = bits_for((unsigned)t->cores);
}

uint32_t cpuid_apic_id(const struct vm_topology *t, int i)
{
	struct cpu_topo_ids ids;
	uint32_t thread = (uint32_t)(i % t->threads);
	uint32_t core = (uint32_t)((i / t->threads) % t->cores);
	uint32_t socket = (uint32_t)(i / (t->threads * t->cores));

	cpuid_topo_ids(t, &ids);
	return (socket << (ids.core_bits + ids.thread_bits)) |
	    (core << ids.thread_bits) | thread;
}

/* Feature names a user can hide; the common ones people mask to migrate
 * or to work around a host. */
static const struct {
	const char *name;
	uint32_t leaf, subleaf;
	int reg;
	uint32_t bit;
} features[] = {
	{ "sse3", 1, 0, ECX, 0 }, { "pclmulqdq", 1, 0, ECX, 1 },
	{ "monitor", 1, 0, ECX, 3 }, { "vmx", 1, 0, ECX, 5 },
	{ "ssse3", 1, 0, ECX, 9 }, { "fma", 1, 0, ECX, 12 },
	{ "cx16", 1, 0, ECX, 13 }, { "pcid", 1, 0, ECX, 17 },
	{ "sse4.1", 1, 0, ECX, 19 }, { "sse4.2", 1, 0, ECX, 20 },
	{ "x2apic", 1, 0, ECX, 21 }, { "movbe", 1, 0, ECX, 22 },
	{ "popcnt", 1, 0, ECX, 23 }, { "tsc-deadline", 1, 0, ECX, 24 },
	{ "aes", 1, 0, ECX, 25 }, { "xsave", 1, 0, ECX, 26 },
	{ "avx", 1, 0, ECX, 28 }, { "f16c", 1, 0, ECX, 29 },
	{ "rdrand", 1, 0, ECX, 30 }, { "hypervisor", 1, 0, ECX, 31 },
	{ "mtrr", 1, 0, EDX, 12 }, { "pge", 1, 0, EDX, 13 },
	{ "mca", 1, 0, EDX, 14 }, { "pat", 1, 0, EDX, 16 },
	{ "sse", 1, 0, EDX, 25 }, { "sse2", 1, 0, EDX, 26 },
	{ "fsgsbase", 7, 0, EBX, 0 }, { "bmi1", 7, 0, EBX, 3 },
	{ "hle", 7, 0, EBX, 4 }, { "avx2", 7, 0, EBX, 5 },
	{ "smep", 7, 0, EBX, 7 }, { "bmi2", 7, 0, EBX, 8 },
	{ "erms", 7, 0, EBX, 9 }, { "invpcid", 7, 0, EBX, 10 },
	{ "rtm", 7, 0, EBX, 11 }, { "avx512f", 7, 0, EBX, 16 },
	{ "rdseed", 7, 0, EBX, 18 }, { "adx", 7, 0, EBX, 19 },
	{ "smap", 7, 0, EBX, 20 }, { "sha", 7, 0, EBX, 29 },
	{ "umip", 7, 0, ECX, 2 }, { "pku", 7, 0, ECX, 3 },
	{ "la57", 7, 0, ECX, 16 }, { "rdpid", 7, 0, ECX, 22 },
	{ "arch-capabilities", 7, 0, EDX, 29 },
	{ "xsaveopt", 0xd, 1, EAX, 0 }, { "xsavec", 0xd, 1, EAX, 1 },
	{ "xsaves", 0xd, 1, EAX, 3 },
	{ "lahf-lm", 0x80000001, 0, ECX, 0 }, { "svm", 0x80000001, 0, ECX, 2 },
	{ "abm", 0x80000001, 0, ECX, 5 }, { "sse4a", 0x80000001, 0, ECX, 6 },
	{ "topoext", 0x80000001, 0, ECX, 22 },
	{ "nx", 0x80000001, 0, EDX, 20 }, { "pdpe1gb", 0x80000001, 0, EDX, 26 },
	{ "rdtscp", 0x80000001, 0, EDX, 27 }, { "lm", 0x80000001, 0, EDX, 29 },
	{ "invtsc", 0x80000007, 0, EDX, 8 },
};

void cpuid_print_features(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		printf("%s%s", i ? " " : "", features[i].name);
	printf("\n");
}

static int add_mask(struct cpuid_masks *out, uint32_t leaf, uint32_t sub,
    bool any, int reg, uint32_t bits)
{
	if (out->n >= CPUID_MAX_MASKS)
		return -ENOSPC;
	out->m[out->n++] = (struct cpuid_mask){ .leaf = leaf, .subleaf = sub,
		.any_subleaf = any, .reg = reg, .bits = bits };
	return 0;
}

/* Split a comma list into tokens; empty tokens are an error. */
#define FOREACH_TOKEN(list, tok, save)                                        \
	for (char *tok = strtok_r((list), ",", &(save)); tok != NULL;         \
	     tok = strtok_r(NULL, ",", &(save)))

int cpuid_parse_disable(const char *names, struct cpuid_masks *out)
{
	char *copy = strdup(names), *save = NULL;
	int rc = 0;

	if (copy == NULL)
		return -ENOMEM;
	if (names[0] == '\0' || strstr(names, ",,") || names[0] == ',' ||
	    names[strlen(names) - 1] == ',') {
		khyve_warnx("x86.cpuid.disable=%s: empty feature name", names);
		rc = -EINVAL;
		goto out;
	}
	FOREACH_TOKEN(copy, tok, save) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(features); i++)
			if (strcasecmp(tok, features[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(features)) {
			khyve_warnx("x86.cpuid.disable: unknown feature '%s' "
			    "(known: -o x86.cpuid.disable=help)", tok);
			rc = -EINVAL;
			goto out;
		}
		rc = add_mask(out, features[i].leaf, features[i].subleaf,
		    false, features[i].reg, 1u << features[i].bit);
		if (rc)
			goto out;
	}
out:
	free(copy);
	return rc;
}

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long long x;

	if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end != '\0' || x > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

int cpuid_parse_clear(const char *spec, struct cpuid_masks *out)
{
	static const char *const regs[] = { "eax", "ebx", "ecx", "edx" };
	char *copy = strdup(spec), *save = NULL;
	int rc = 0;

	if (copy == NULL)
		return -ENOMEM;
	if (spec[0] == '\0' || strstr(spec, ",,") || spec[0] == ',' ||
	    spec[strlen(spec) - 1] == ',')
		goto bad;
	FOREACH_TOKEN(copy, tok, save) {
		char *c1 = strchr(tok, ':'), *c2, *dot;
		uint32_t leaf, sub = 0, bits;
		int reg = -1;

		if (c1 == NULL || (c2 = strchr(c1 + 1, ':')) == NULL)
			goto bad;
		*c1 = *c2 = '\0';
		dot = strchr(tok, '.');
		if (dot != NULL) {
			*dot = '\0';
			if (parse_u32(dot + 1, &sub))
				goto bad;
		}
		if (parse_u32(tok, &leaf) || parse_u32(c2 + 1, &bits))
			goto bad;
		for (int r = 0; r < 4; r++)
			if (strcasecmp(c1 + 1, regs[r]) == 0)
				reg = r;
		if (reg < 0)
			goto bad;
		rc = add_mask(out, leaf, sub, dot == NULL, reg, bits);
		if (rc)
			goto out;
	}
	goto out;
bad:
	khyve_warnx("x86.cpuid.clear=%s: expected LEAF[.SUBLEAF]:REG:MASK[,...]",
	    spec);
	rc = -EINVAL;
out:
	free(copy);
	return rc;
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn,
    uint32_t idx)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == fn &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
			e->index == idx))
			return e;
	}
	return NULL;
}

static void drop(struct kvm_cpuid2 *c, uint32_t fn)
{
	unsigned j = 0;

	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function != fn)
			c->entries[j++] = c->entries[i];
	c->nent = j;
}

static struct kvm_cpuid_entry2 *add(struct kvm_cpuid2 *c, unsigned cap,
    uint32_t fn, uint32_t idx)
{
	struct kvm_cpuid_entry2 *e;

	if (c->nent >= cap)
		return NULL;
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return e;
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, int reg)
{
	switch (reg) {
	case EAX: return &e->eax;
	case EBX: return &e->ebx;
	case ECX: return &e->ecx;
	default: return &e->edx;
	}
}

int cpuid_adjust(struct kvm_cpuid2 *c, unsigned cap, const struct vm_topology *t,
    int i, bool x2apic, const struct cpuid_masks *masks)
{
	struct cpu_topo_ids ids;
	struct kvm_cpuid_entry2 *e;
	uint32_t apic = cpuid_apic_id(t, i);
	uint32_t per_pkg = (uint32_t)(t->cores * t->threads);
	unsigned pkg_bits;

	cpuid_topo_ids(t, &ids);
	pkg_bits = ids.core_bits + ids.thread_bits;

	e = find(c, 0, 0);
	if (e != NULL && e->eax < 0xb)
		e->eax = 0xb; /* expose the topology leaf */

	e = find(c, 1, 0);
	if (e != NULL) {
		e->ebx = (e->ebx & 0x0000ffff) | (apic << 24) |
		    ((1u << pkg_bits) & 0xff) << 16;
		if (per_pkg > 1)
			e->edx |= 1u << 28; /* HTT: the count field is valid */
		else
			e->edx &= ~(1u << 28);
		if (!x2apic)
			e->ecx &= ~(1u << 21);
		else
			e->ecx |= 1u << 21;
	}

	/* Deterministic cache parameters (Intel): cores per package and the
	 * threads sharing each cache level. */
	for (uint32_t sub = 0; sub < 8; sub++) {
		uint32_t level, share;

		e = find(c, 4, sub);
		if (e == NULL || (e->eax & 0x1f) == 0)
			break;
		level = (e->eax >> 5) & 7;
		share = level >= 3 ? (1u << pkg_bits) - 1 :
		    (1u << ids.thread_bits) - 1;
		e->eax = (e->eax & 0x3fff) | ((share & 0xfff) << 14) |
		    ((((1u << ids.core_bits) - 1) & 0x3f) << 26);
	}

	/* Extended topology: thread level, core level, then the end. */
	drop(c, 0xb);
	drop(c, 0x1f);
	if ((e = add(c, cap, 0xb, 0)) == NULL)
		return -ENOSPC;
	*e = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		.eax = ids.thread_bits, .ebx = (uint32_t)t->threads,
		.ecx = 0 | (1u << 8), .edx = apic };
	if ((e = add(c, cap, 0xb, 1)) == NULL)
		return -ENOSPC;
	*e = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		.eax = pkg_bits, .ebx = per_pkg, .ecx = 1 | (2u << 8),
		.edx = apic };
	if ((e = add(c, cap, 0xb, 2)) == NULL)
		return -ENOSPC;
	*e = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 2,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ecx = 2,
		.edx = apic };

	/* AMD: cores per package and the extended APIC ID layout. */
	e = find(c, 0x80000001, 0);
	if (e != NULL) {
		if (per_pkg > 1)
			e->ecx |= 1u << 1; /* CmpLegacy */
		else
			e->ecx &= ~(1u << 1);
	}
	e = find(c, 0x80000008, 0);
	if (e != NULL)
		e->ecx = (e->ecx & ~0xf0ffu) | ((per_pkg - 1) & 0xff) |
		    ((pkg_bits & 0xf) << 12);
	e = find(c, 0x8000001e, 0);
	if (e != NULL) {
		uint32_t core = (uint32_t)((i / t->threads) % t->cores);
		uint32_t socket = (uint32_t)(i / (t->threads * t->cores));

		e->eax = apic;
		e->ebx = (((uint32_t)t->threads - 1) << 8) | (core & 0xff);
		e->ecx = socket & 0xff;
		e->edx = 0;
	}

	for (int m = 0; masks != NULL && m < masks->n; m++) {
		const struct cpuid_mask *mk = &masks->m[m];

		for (unsigned k = 0; k < c->nent; k++) {
			e = &c->entries[k];
			if (e->function != mk->leaf)
				continue;
			if (!mk->any_subleaf && e->index != mk->subleaf &&
			    (e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX))
				continue;
			*reg_of(e, mk->reg) &= ~mk->bits;
		}
	}
	return 0;
}
