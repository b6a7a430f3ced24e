/*
 * vcpu.h - vCPU creation, the run loop and the exit dispatch table.
 */
#ifndef KHYVE_VMM_VCPU_H
#define KHYVE_VMM_VCPU_H

#include "vmm/vm.h"

struct cpuid_masks;
struct config_node;
struct boot_state;

/* Create every vCPU (KVM id = APIC ID), set CPUID, pinning, APIC mode. */
int vcpu_create_all(struct vm *vm, struct config_node *cfg,
    const struct cpuid_masks *masks);
void vcpu_destroy_all(struct vm *vm);

/* Put the BSP in the state a kernel loader asked for. */
int vcpu_set_boot_state(struct vcpu *vcpu, const struct boot_state *bs);

/* Make every vCPU leave KVM_RUN soon (after vm_request_exit); vCPUs
 * parked by the gdb stub are released too. */
void vcpu_kick_all(struct vm *vm);
/* Make one vCPU leave KVM_RUN soon (immediate_exit + SIG_KICK).  Only
 * sends a signal, so it is safe with any lock held. */
void vcpu_kick(struct vcpu *vcpu);

/*
 * Ask every vCPU to check whether it is halted with interrupts disabled;
 * when all started vCPUs are, the VM ends with status 2 (bhyve's
 * VM_SUSPEND_HALT).  Called periodically from the event loop, because
 * with the in-kernel local APIC a HLT never exits to user space.
 */
void vcpu_poll_halt(struct vm *vm);

/* Print a register dump of `vcpu` to stderr (for fatal exits). */
void vcpu_dump(struct vcpu *vcpu);

#endif
