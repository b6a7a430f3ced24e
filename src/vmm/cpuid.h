/*
 * cpuid.h - what a vCPU sees from CPUID.
 *
 * The base is KVM_GET_SUPPORTED_CPUID (what this host and KVM can offer).
 * On top: the topology leaves (1, 4, 0xB, 0x80000008, 0x8000001E) are
 * rebuilt from -c for each vCPU, x2APIC is advertised only with -x (as
 * bhyve), and the user's masks (x86.cpuid.disable, x86.cpuid.clear) are
 * applied last so a user can always hide a feature.
 */
#ifndef KHYVE_VMM_CPUID_H
#define KHYVE_VMM_CPUID_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_cpuid2;
struct vm_topology;
struct config_node;

/* APIC ID layout derived from the topology (power-of-two fields). */
struct cpu_topo_ids {
	unsigned thread_bits, core_bits;
};
void cpuid_topo_ids(const struct vm_topology *t, struct cpu_topo_ids *ids);
/* The APIC ID of vCPU index `i` (0 = BSP). */
uint32_t cpuid_apic_id(const struct vm_topology *t, int i);

/*
 * A parsed set of bits to clear: from feature names ("xsave,avx2") and raw
 * entries "LEAF[.SUB]:REG:MASK" separated by ',' (hex or decimal).
 */
struct cpuid_mask {
	uint32_t leaf, subleaf;
	bool any_subleaf;
	int reg; /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	uint32_t bits;
};
#define CPUID_MAX_MASKS 64
struct cpuid_masks {
	struct cpuid_mask m[CPUID_MAX_MASKS];
	int n;
};
/* Parse x86.cpuid.disable / x86.cpuid.clear values; -EINVAL with a message. */
int cpuid_parse_disable(const char *names, struct cpuid_masks *out);
int cpuid_parse_clear(const char *spec, struct cpuid_masks *out);
/* Print the feature names cpuid_parse_disable() knows. */
void cpuid_print_features(void);

/*
 * Rewrite `c` (a copy of the supported table with room for `cap` entries)
 * for vCPU index `i`.  Returns 0 or -ENOSPC.
 */
int cpuid_adjust(struct kvm_cpuid2 *c, unsigned cap, const struct vm_topology *t,
    int i, bool x2apic, const struct cpuid_masks *masks);

#endif
