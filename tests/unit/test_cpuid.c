/* test_cpuid.c - APIC ID layout, topology leaves and user masks. */
#include <errno.h>
#include <stdlib.h>
#include <linux/kvm.h>

#include "test.h"
#include "vmm/cpuid.h"
#include "vmm/vm.h"

TEST(cpuid_apic_ids_pow2)
{
	struct vm_topology t = { .cpus = 8, .sockets = 2, .cores = 2, .threads = 2 };

	for (int i = 0; i < 8; i++)
		CHECK_EQ(cpuid_apic_id(&t, i), i);
}

TEST(cpuid_apic_ids_non_pow2)
{
	/* 3 cores need 2 bits: socket 1 starts at APIC ID 4, not 3. */
	struct vm_topology t = { .cpus = 6, .sockets = 2, .cores = 3, .threads = 1 };

	CHECK_EQ(cpuid_apic_id(&t, 2), 2);
	CHECK_EQ(cpuid_apic_id(&t, 3), 4);
	CHECK_EQ(cpuid_apic_id(&t, 5), 6);
}

static struct kvm_cpuid2 *table(unsigned cap)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
	    cap * sizeof(struct kvm_cpuid_entry2));

	c->nent = 4;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 1,
		.ebx = 0x00ff0800, .ecx = (1u << 21) | (1u << 26), .edx = 0 };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ebx = 99 };
	c->entries[3] = (struct kvm_cpuid_entry2){ .function = 0x80000008,
		.ecx = 0xffff };
	return c;
}

static struct kvm_cpuid_entry2 *get(struct kvm_cpuid2 *c, uint32_t fn,
    uint32_t idx)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

TEST(cpuid_topology_leaves)
{
	struct vm_topology t = { .cpus = 8, .sockets = 2, .cores = 2, .threads = 2 };
	struct kvm_cpuid2 *c = table(16);
	struct kvm_cpuid_entry2 *e;

	CHECK_EQ(cpuid_adjust(c, 16, &t, 5, false, NULL), 0);
	e = get(c, 1, 0);
	CHECK_EQ(e->ebx >> 24, 5);              /* initial APIC ID */
	CHECK_EQ((e->ebx >> 16) & 0xff, 4);     /* IDs per package */
	CHECK_EQ(e->ebx & 0xffff, 0x0800);      /* untouched low half */
	CHECK(e->edx & (1u << 28));             /* HTT */
	CHECK(!(e->ecx & (1u << 21)));          /* no x2APIC without -x */
	e = get(c, 0xb, 0);
	CHECK_EQ(e->eax, 1);
	CHECK_EQ(e->ebx, 2);
	CHECK_EQ(e->ecx, 0x100);
	CHECK_EQ(e->edx, 5);
	e = get(c, 0xb, 1);
	CHECK_EQ(e->eax, 2);
	CHECK_EQ(e->ebx, 4);
	CHECK_EQ(e->ecx, 0x201);
	e = get(c, 0x80000008, 0);
	CHECK_EQ(e->ecx & 0xff, 3);
	CHECK_EQ((e->ecx >> 12) & 0xf, 2);
	free(c);
}

TEST(cpuid_single_cpu_and_x2apic)
{
	struct vm_topology t = { .cpus = 1, .sockets = 1, .cores = 1, .threads = 1 };
	struct kvm_cpuid2 *c = table(16);
	struct kvm_cpuid_entry2 *e;

	CHECK_EQ(cpuid_adjust(c, 16, &t, 0, true, NULL), 0);
	e = get(c, 1, 0);
	CHECK(!(e->edx & (1u << 28)));
	CHECK(e->ecx & (1u << 21));
	free(c);
}

TEST(cpuid_masks)
{
	struct vm_topology t = { .cpus = 1, .sockets = 1, .cores = 1, .threads = 1 };
	struct kvm_cpuid2 *c = table(16);
	struct cpuid_masks m = { .n = 0 };

	CHECK_EQ(cpuid_parse_disable("xsave", &m), 0);
	CHECK_EQ(cpuid_parse_clear("0x80000008:ecx:0xf000", &m), 0);
	CHECK_EQ(m.n, 2);
	CHECK_EQ(cpuid_adjust(c, 16, &t, 0, false, &m), 0);
	CHECK(!(get(c, 1, 0)->ecx & (1u << 26)));
	CHECK_EQ(get(c, 0x80000008, 0)->ecx & 0xf000, 0);
	free(c);
}

TEST(cpuid_mask_parse_errors)
{
	struct cpuid_masks m = { .n = 0 };

	CHECK(cpuid_parse_disable("", &m) < 0);
	CHECK(cpuid_parse_disable("xsave,,avx", &m) < 0);
	CHECK(cpuid_parse_disable("nosuchfeature", &m) < 0);
	CHECK(cpuid_parse_disable("avx,", &m) < 0);
	CHECK(cpuid_parse_clear("1:ecx", &m) < 0);
	CHECK(cpuid_parse_clear("1:exx:1", &m) < 0);
	CHECK(cpuid_parse_clear("1:ecx:0x100000000", &m) < 0);
	CHECK(cpuid_parse_clear("1:ecx:-1", &m) < 0);
	CHECK(cpuid_parse_clear("1.x:ecx:1", &m) < 0);
	CHECK_EQ(m.n, 0);
	CHECK_EQ(cpuid_parse_clear("7.0:ebx:0x20,1:edx:1", &m), 0);
	CHECK_EQ(m.n, 2);
	CHECK(!m.m[0].any_subleaf);
	CHECK(m.m[1].any_subleaf);
}

TEST(cpuid_table_full)
{
	struct vm_topology t = { .cpus = 1, .sockets = 1, .cores = 1, .threads = 1 };
	struct kvm_cpuid2 *c = table(4);

	/* No room for the three 0xB entries after dropping the old one. */
	CHECK_EQ(cpuid_adjust(c, 4, &t, 0, false, NULL), -ENOSPC);
	free(c);
}
