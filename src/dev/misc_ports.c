/*
 * misc_ports.c - the small fixed ports of a PC chipset:
 *
 *   0x80   POST code: remembers the last value (reads return it), logged
 *          with -o debug=1;
 *   0x92   system control port A: bit 1 (fast A20) is kept, a write with
 *          bit 0 set resets the machine.
 *
 * Resets end the VM with status 0 (bhyve's VM_SUSPEND_RESET).  The
 * registers are single bytes updated atomically, so no lock is needed.
 *
 * The reset control register at 0xcf9 lives in the PCI core
 * (bus/pci_cfg.c): it shares the dword at 0xcf8 (CONFIG_ADDRESS), and a
 * bus claim cannot be split.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "dev/platform.h"
#include "vmm/vm.h"

#define POST_PORT 0x80
#define PORT92 0x92

#define PORT92_RESET 0x01

struct misc_ports {
	struct vm *vm;
	atomic_uchar post;
	atomic_uchar port92;
};

static int post_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct misc_ports *sc = opaque;

	(void)vcpu;
	(void)offset;
	(void)size;
	if (write) {
		atomic_store(&sc->post, (uint8_t)*val);
		khyve_dbg("POST code 0x%02x", (unsigned)(uint8_t)*val);
	} else {
		*val = atomic_load(&sc->post);
	}
	return 0;
}

static int port92_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct misc_ports *sc = opaque;
	uint8_t v = (uint8_t)*val;

	(void)vcpu;
	(void)offset;
	(void)size;
	if (!write) {
		*val = atomic_load(&sc->port92);
		return 0;
	}
	/* The reset bit is a pulse: it never reads back as set. */
	atomic_store(&sc->port92, (uint8_t)(v & ~PORT92_RESET));
	if (v & PORT92_RESET) {
		khyve_dbg("port 0x92: fast reset");
		vm_request_exit(sc->vm, KHYVE_EXIT_RESET);
	}
	return 0;
}

static int misc_init(const struct platform_dev *dev, struct vm *vm)
{
	struct misc_ports *sc;
	int rc;

	(void)dev;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	sc->vm = vm;
	atomic_init(&sc->post, 0);
	atomic_init(&sc->port92, 0x02); /* A20 enabled, as after firmware */
	if ((rc = iobus_register(&vm->pio, POST_PORT, 1, post_io, sc,
		 "post")) != 0)
		goto fail;
	if ((rc = iobus_register(&vm->pio, PORT92, 1, port92_io, sc,
		 "port92")) != 0)
		goto fail_post;
	return 0;

fail_post:
	iobus_unregister(&vm->pio, POST_PORT);
fail:
	free(sc);
	return rc;
}

static void misc_fini(const struct platform_dev *dev, struct vm *vm)
{
	struct misc_ports *sc = iobus_opaque(&vm->pio, POST_PORT);

	(void)dev;
	if (sc == NULL)
		return;
	iobus_unregister(&vm->pio, PORT92);
	iobus_unregister(&vm->pio, POST_PORT);
	free(sc);
}

static const struct platform_dev misc_ports_dev = {
	.name = "misc-ports",
	.init = misc_init,
	.fini = misc_fini,
};
PLATFORM_DEV_SET(misc_ports_dev);
