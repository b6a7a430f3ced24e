/*
 * vm.h - one KVM virtual machine: its memory, vCPUs and buses.
 *
 * Threads (see docs/architecture.md):
 *  - main thread: builds the VM, runs the event loop (event/mevent.h),
 *    and is the only thread that tears the VM down and exits;
 *  - one thread per vCPU: KVM_RUN and the exit handlers (vmm/vcpu.c);
 *  - the event loop thread is the main thread; device I/O threads come
 *    with the PCI/virtio work.
 * A vCPU that sees the guest reset, power off, halt or fault calls
 * vm_request_exit(); the first request wins, every vCPU is kicked out of
 * KVM_RUN, and the main thread's event loop returns with the status.
 */
#ifndef KHYVE_VMM_VM_H
#define KHYVE_VMM_VM_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/iobus.h"
#include "vmm/mem.h"

struct kvm_run;
struct mevent_loop;
struct config_node;
struct vm_irq;
struct pci_sys;
struct gdb_stub;

#define VM_MAX_VCPUS 256 /* bhyve's VM_MAXCPU on FreeBSD 14 is 16..; KVM allows more */

struct vm_topology {
	int cpus, sockets, cores, threads;
};

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool thread_started;
	bool pinned; /* -p given: run only on the host CPUs in cpuset */
	cpu_set_t cpuset;
	/* Halt detection (vcpu_poll_halt): set by the event loop, read and
	 * answered by the vCPU's own thread. */
	atomic_bool halt_check;
	atomic_bool halted; /* halted with IF=0, or waiting for INIT/SIPI */
	/* The gdb stub wants this vCPU parked outside KVM_RUN (gdb/gdb.h):
	 * set by the stub, read by the vCPU's run loop. */
	atomic_bool gdb_stop;
};

struct vm {
	const char *name;
	int kvm_fd;
	int fd;
	struct guest_mem mem;
	struct vm_topology topo;
	struct vcpu *vcpus;
	int ncpus;
	struct iobus pio;
	struct iobus mmio;
	struct mevent_loop *ev;
	struct vm_irq *irq;   /* GSI routing copy (vmm/irq.c) */
	struct pci_sys *pci;  /* the PCI world (bus/pci_emul.c) */

	/* Behaviour switches read from the configuration at vm_create(). */
	bool strict_io;  /* -e: unclaimed port access is fatal */
	bool strict_msr; /* not -w: unknown MSR access raises #GP */
	bool x2apic;     /* -x */

	/* Set once by the first vm_request_exit(). */
	atomic_int exit_requested;
	int exit_status;
	int exit_fd; /* eventfd the main loop watches */

	struct gdb_stub *gdb; /* -G: the debug server (gdb/gdb.h), or NULL */
};

/*
 * Create the VM from the configuration: open /dev/kvm, check the API,
 * create the irqchip and PIT, allocate and register guest memory, create
 * the vCPUs and their CPUID.  Returns 0 or a negative errno with a message
 * printed; on failure everything is undone.
 */
int vm_create(struct vm *vm, struct config_node *cfg);
void vm_destroy(struct vm *vm);

/* Start one thread per vCPU (the BSP runs, APs wait for INIT/SIPI). */
int vm_start(struct vm *vm);
/* Stop and join the vCPU threads (idempotent). */
void vm_stop(struct vm *vm);

/*
 * Ask for the VM to end with `status` (enum khyve_exit).  Safe from any
 * thread, including signal-free contexts; the first call wins.
 */
void vm_request_exit(struct vm *vm, int status);

/* Assert (level 1) or deassert an ISA/GSI interrupt line (KVM_IRQ_LINE). */
int vm_irq_line(struct vm *vm, unsigned gsi, int level);
/* Pulse an edge-triggered line: assert then deassert. */
int vm_irq_pulse(struct vm *vm, unsigned gsi);

#endif
