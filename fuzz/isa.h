/*
 * isa.h - a fuzz driver for one platform (ISA/LPC) device: a fake VM
 * without KVM (real port and MMIO buses, vm->fd = -1, as the unit tests'
 * pci_fake_vm), the device's init from the platform_dev linker set, then
 * guest port and MMIO accesses from the input, then fini.  Accesses go
 * through iobus_access(), so the bus's bounds and the device handlers'
 * own checks are both exercised.
 *
 * Input: a stream of accesses; each is one byte choosing the window (the
 * last choice is a raw 16-bit port anywhere), an offset byte (which may
 * run past the window), a size (1, 2, 4, rarely 8 or 3), a direction and
 * a 32-bit value.
 */
#ifndef KHYVE_FUZZ_ISA_H
#define KHYVE_FUZZ_ISA_H

#include <stdlib.h>
#include <string.h>

#include "bus/iobus.h"
#include "config.h"
#include "dev/platform.h"
#include "event/mevent.h"
#include "fuzz.h"
#include "vmm/vm.h"

struct isa_window {
	bool mmio;
	uint64_t base, len;
};

static const struct platform_dev *isa_find(const char *name)
{
	const struct platform_dev *d;

	LINKER_SET_FOREACH(platform_dev_set, d) {
		if (strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

/* `cfgkey` (may be NULL) is set to true first: the device's enable key. */
static inline void isa_fuzz_run(const char *name, const char *cfgkey,
    const struct isa_window *w, unsigned nw, const uint8_t *data,
    size_t size)
{
	const struct platform_dev *d = isa_find(name);
	struct mevent_loop *loop;
	struct vm vm;
	struct fz f;

	if (d == NULL)
		abort();
	loop = mevent_loop_create();
	if (loop == NULL)
		abort();
	config_init();
	if (cfgkey != NULL)
		config_set(NULL, cfgkey, "true");
	memset(&vm, 0, sizeof(vm));
	vm.fd = vm.kvm_fd = vm.exit_fd = -1;
	vm.mem.lowmem = 64ULL << 20;
	vm.ev = loop;
	iobus_init(&vm.pio, "port");
	iobus_init(&vm.mmio, "mmio");
	if (d->init(d, &vm) != 0)
		abort();
	fz_init(&f, data, size);
	while (fz_more(&f)) {
		uint8_t c = fz_u8(&f);
		unsigned wi = c % (nw + 1);
		bool write = (c & 0x80) != 0;
		uint64_t addr, v;
		struct iobus *bus = &vm.pio;
		int sz;

		if (wi == nw) {
			addr = fz_u16(&f);
		} else {
			addr = w[wi].base + fz_u8(&f) % (w[wi].len + 2);
			if (w[wi].mmio)
				bus = &vm.mmio;
		}
		sz = fz_size(&f);
		v = fz_u32(&f);
		(void)iobus_access(bus, NULL, addr, sz, write, &v);
	}
	if (d->fini != NULL)
		d->fini(d, &vm);
	if (vm.pio.n != 0 || vm.mmio.n != 0)
		abort(); /* fini left a claim behind */
	iobus_fini(&vm.pio);
	iobus_fini(&vm.mmio);
	config_fini();
	mevent_loop_destroy(loop);
}

#endif
