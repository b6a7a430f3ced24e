/*
 * atkbdc_isa.c - the i8042 model (atkbdc.c) at ports 0x60 (data) and 0x64
 * (status/command), interrupts 1 (keyboard) and 12 (mouse).  Every PC has
 * one, so it has no -l name and is always present.
 *
 * A reset pulse from the guest ends the VM with status 0 (reset), as
 * bhyve's vm_suspend(VM_SUSPEND_RESET).  Accesses come from vCPU threads;
 * sc->lock serialises them and keeps interrupt levels in order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "dev/atkbdc.h"
#include "dev/platform.h"
#include "vmm/vm.h"

#define KBD_DATA_PORT 0x60
#define KBD_STS_CTL_PORT 0x64
#define KBD_IRQ 1
#define AUX_IRQ 12

struct atkbdc_isa {
	pthread_mutex_t lock;
	struct atkbdc k;
	struct vm *vm;
	int kbd_level, aux_level;
};

static void set_line(struct atkbdc_isa *sc, unsigned irq, int *cur, bool want)
{
	int level = want ? 1 : 0;

	if (level != *cur && vm_irq_line(sc->vm, irq, level) == 0)
		*cur = level;
}

static int kbd_io(struct atkbdc_isa *sc, bool ctl, bool write, int size,
    uint64_t *val)
{
	enum atkbdc_action act = ATKBDC_NONE;

	/* Both ports are 1 byte wide; the bus refuses wider accesses. */
	(void)size;
	pthread_mutex_lock(&sc->lock);
	if (write && ctl)
		act = atkbdc_write_cmd(&sc->k, (uint8_t)*val);
	else if (write)
		act = atkbdc_write_data(&sc->k, (uint8_t)*val);
	else if (ctl)
		*val = atkbdc_read_status(&sc->k);
	else
		*val = atkbdc_read_data(&sc->k);
	set_line(sc, KBD_IRQ, &sc->kbd_level, atkbdc_irq_kbd(&sc->k));
	set_line(sc, AUX_IRQ, &sc->aux_level, atkbdc_irq_aux(&sc->k));
	pthread_mutex_unlock(&sc->lock);
	if (act == ATKBDC_RESET) {
		khyve_dbg("i8042: reset pulse");
		vm_request_exit(sc->vm, KHYVE_EXIT_RESET);
	}
	return 0;
}

static int kbd_data_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	(void)vcpu;
	(void)offset;
	return kbd_io(opaque, false, write, size, val);
}

static int kbd_ctl_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	(void)vcpu;
	(void)offset;
	return kbd_io(opaque, true, write, size, val);
}

static int atkbdc_isa_init(const struct platform_dev *dev, struct vm *vm)
{
	struct atkbdc_isa *sc;
	int rc;

	(void)dev;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	pthread_mutex_init(&sc->lock, NULL);
	atkbdc_init(&sc->k);
	sc->vm = vm;
	rc = iobus_register(&vm->pio, KBD_DATA_PORT, 1, kbd_data_io, sc,
	    "atkbdc");
	if (rc != 0)
		goto fail;
	rc = iobus_register(&vm->pio, KBD_STS_CTL_PORT, 1, kbd_ctl_io, sc,
	    "atkbdc");
	if (rc != 0)
		goto fail_data;
	return 0;

fail_data:
	iobus_unregister(&vm->pio, KBD_DATA_PORT);
fail:
	pthread_mutex_destroy(&sc->lock);
	free(sc);
	return rc;
}

static void atkbdc_isa_fini(const struct platform_dev *dev, struct vm *vm)
{
	struct atkbdc_isa *sc = iobus_opaque(&vm->pio, KBD_DATA_PORT);

	(void)dev;
	if (sc == NULL)
		return;
	iobus_unregister(&vm->pio, KBD_STS_CTL_PORT);
	iobus_unregister(&vm->pio, KBD_DATA_PORT);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

static const struct platform_dev atkbdc_dev = {
	.name = "atkbdc",
	.init = atkbdc_isa_init,
	.fini = atkbdc_isa_fini,
};
PLATFORM_DEV_SET(atkbdc_dev);
