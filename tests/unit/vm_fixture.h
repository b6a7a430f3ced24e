/*
 * vm_fixture.h - the VM without KVM that the device unit tests build on:
 * no KVM fds (-1), real port and MMIO buses, 64 MiB of low memory as far
 * as the sizes go (no RAM is mapped: tests that need guest memory put
 * their own in vm->mem), and an optional event loop for devices that
 * arm timers or watch fds.  Used by test_acpi_pm.c, test_platform.c,
 * test_bootrom.c and pci_fixture.c.
 */
#ifndef KHYVE_TEST_VM_FIXTURE_H
#define KHYVE_TEST_VM_FIXTURE_H

#include <string.h>

#include "bus/iobus.h"
#include "event/mevent.h"
#include "vmm/vm.h"

static inline void fake_vm(struct vm *vm, struct mevent_loop *loop)
{
	memset(vm, 0, sizeof(*vm));
	vm->fd = vm->kvm_fd = vm->exit_fd = -1;
	vm->mem.lowmem = 64ULL << 20;
	vm->ev = loop;
	iobus_init(&vm->pio, "port");
	iobus_init(&vm->mmio, "mmio");
}

/* The buses only: the devices on them are the caller's to tear down. */
static inline void fake_vm_fini(struct vm *vm)
{
	iobus_fini(&vm->pio);
	iobus_fini(&vm->mmio);
}

#endif
