/*
 * bvm_port.c - the shared port protocol of bhyve's bvm console and debug
 * port (see bvm_port.h).  The chardev is opened before the claim, and
 * the claim's opaque lives until bvm_port_detach(), which runs after the
 * vCPUs stopped (iobus handlers run without the bus lock).
 */
#include <errno.h>
#include <stdlib.h>

#include "backend/chardev.h"
#include "dev/bvm_port.h"
#include "vmm/vm.h"

#define BVM_PORT_LEN 4

struct bvm_port {
	struct chardev *cd;
	uint16_t sig;
};

static int bvm_port_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct bvm_port *sc = opaque;
	uint8_t b;

	(void)vcpu;
	if (offset == 0 && size == 2 && !write) {
		*val = sc->sig;
	} else if (offset == 0 && size == 4 && !write) {
		*val = chardev_read(sc->cd, &b, 1) == 1 ? b : 0xffffffffULL;
	} else if (offset == 0 && size == 4) {
		b = (uint8_t)*val;
		chardev_write(sc->cd, &b, 1);
	} else if (!write) {
		*val = ~0ULL;
	}
	return 0;
}

int bvm_port_attach(struct vm *vm, uint16_t base, uint16_t sig,
    const char *spec, const char *name)
{
	struct bvm_port *sc;
	int rc;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	sc->sig = sig;
	rc = chardev_open(&sc->cd, spec, vm->ev, NULL, NULL);
	if (rc != 0)
		goto fail;
	rc = iobus_register(&vm->pio, base, BVM_PORT_LEN, bvm_port_io, sc,
	    name);
	if (rc != 0)
		goto fail_cd;
	return 0;

fail_cd:
	chardev_close(sc->cd);
fail:
	free(sc);
	return rc;
}

void bvm_port_detach(struct vm *vm, uint16_t base)
{
	struct bvm_port *sc = iobus_opaque(&vm->pio, base);

	if (sc == NULL)
		return;
	iobus_unregister(&vm->pio, base);
	chardev_close(sc->cd);
	free(sc);
}
