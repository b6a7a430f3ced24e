/*
 * irq.h - interrupt plumbing into KVM: the GSI routing table, MSI routes,
 * irqfd and ioeventfd.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so khyve keeps its own
 * copy: the default irqchip routes (GSI 0..15 to the PIC and I/O APIC,
 * 16..23 to the I/O APIC) plus one MSI route per allocated GSI (24 and
 * up), and commits the whole copy on every change.  One mutex protects the
 * copy; callers may be vCPU threads (the guest writing an MSI-X table
 * entry) or I/O threads.
 *
 * irqfd: writing 1 to an eventfd bound to a GSI makes KVM raise it without
 * an exit to user space; ioeventfd: a guest write to a registered port or
 * MMIO address (optionally matching a value) signals an eventfd inside KVM
 * instead of exiting to user space.
 */
#ifndef KHYVE_VMM_IRQ_H
#define KHYVE_VMM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Set up the table with the default routes; called from vm_create(). */
int vm_irq_init(struct vm *vm);
void vm_irq_fini(struct vm *vm);

/*
 * Allocate a GSI for an MSI route (initially addr 0 / data 0, which KVM
 * accepts and the guest never sees because the vector is masked or
 * disabled until it is programmed).  Returns the GSI (>= 24) or a negative
 * errno (-ENOSPC when KVM's limit is reached).
 */
int vm_msi_route_alloc(struct vm *vm);
/* Point an allocated GSI at an MSI address/data pair and commit. */
int vm_msi_route_set(struct vm *vm, int gsi, uint64_t addr, uint32_t data);
void vm_msi_route_free(struct vm *vm, int gsi);

/* Deliver one MSI now (KVM_SIGNAL_MSI).  0 or a negative errno. */
int vm_msi_signal(struct vm *vm, uint64_t addr, uint32_t data);

/* Bind (assign) or unbind an eventfd to a GSI (KVM_IRQFD). */
int vm_irqfd(struct vm *vm, int fd, int gsi, bool assign);

/*
 * Bind or unbind an eventfd to a guest write of `len` bytes (1, 2, 4, 8;
 * 0 = any length, MMIO only) at `addr` in port space (pio) or MMIO space.
 * With `match`, only a write of the value `data` signals (KVM_IOEVENTFD).
 * Unbinding needs the same arguments as binding.
 */
int vm_ioeventfd(struct vm *vm, int fd, bool pio, uint64_t addr, int len,
    bool match, uint64_t data, bool assign);

/*
 * (Extension, for the PCI INTx router.)  Mark ISA IRQ `isa_irq` (0..15)
 * level-triggered in the PIC's ELCR, as bhyve's
 * vm_isa_set_irq_trigger(LEVEL_TRIGGER); the in-kernel PIC serves the ELCR
 * ports 0x4d0/0x4d1 itself.  0, -EINVAL, -ENODEV (no VM) or KVM's error.
 */
int vm_isa_irq_level(struct vm *vm, int isa_irq);

#endif
