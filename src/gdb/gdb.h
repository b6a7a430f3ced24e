/*
 * gdb.h - the gdb stub (-G) as the rest of khyve sees it.
 *
 * main() creates it between building the VM and starting the vCPUs; the
 * vCPU run loop (vmm/vcpu.c) calls the gdb_vcpu_*() hooks, and only when
 * vm->gdb is set.  Threads and locking: docs/architecture.md, "gdb stub".
 */
#ifndef KHYVE_GDB_GDB_H
#define KHYVE_GDB_GDB_H

struct vm;
struct vcpu;
struct config_node;

/*
 * If gdb.port is set: listen on gdb.address (default 127.0.0.1), watch
 * the socket on vm->ev, and with gdb.wait hold every vCPU before its
 * first instruction until a debugger attaches.  gdb.arch=i386 offers the
 * 32-bit register layout (see gdb_regs.h).  Sets vm->gdb.  Returns 0
 * (also when there is no gdb.port), -EINVAL for a bad key, or another
 * negative errno with a message printed.
 */
int gdb_stub_init(struct vm *vm, struct config_node *cfg);
/*
 * After vm_stop(): tell an attached debugger that the VM is gone (a "W"
 * exit packet if it waits for the guest), close the sockets, free.
 */
void gdb_stub_fini(struct vm *vm, int status);

/* ---- hooks for the vCPU threads (vmm/vcpu.c) ---- */

/*
 * v->gdb_stop is set: wait, outside KVM_RUN, until the debugger lets
 * this vCPU run again or the VM is ending.  Before returning, loads the
 * vCPU's debug state (breakpoints, single-step) into KVM.
 */
void gdb_vcpu_park(struct vcpu *v);
/* KVM_EXIT_DEBUG: a breakpoint, watchpoint or single-step trap. */
void gdb_vcpu_debug_exit(struct vcpu *v);
/* The vCPU thread leaves its run loop for good. */
void gdb_vcpu_gone(struct vcpu *v);
/* The VM is ending (vm_request_exit): release every parked vCPU. */
void gdb_vm_exiting(struct vm *vm);

#endif
