/*
 * pctestdev.c - bhyve's pc-testdev (-l pc-testdev; lpc.pc-testdev=true),
 * the legacy test interfaces kvm-unit-tests expect (QEMU's pc-testdev):
 *
 *   0xe0-0xe3      a 32-bit data port that reads back what was written,
 *                  in any width at any byte offset;
 *   0xf4-0xf7      isa-debug-exit: writing v ends khyve with exit status
 *                  (v << 1) | 1 (only the low 8 bits reach the shell);
 *   0x2000-0x2017  IRQ lines: writing a byte to 0x2000 + n sets (non-zero)
 *                  or clears (zero) GSI n; reads return 0;
 *   0xff000000     a 64 KiB read/write memory window on the MMIO bus
 *                  (bhyve's and QEMU's IOMEM_LEN 0x10000).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dev/platform.h"
#include "vmm/vm.h"

#define DEBUGEXIT_BASE 0xf4
#define DEBUGEXIT_LEN 4
#define IOPORT_BASE 0xe0
#define IOPORT_LEN 4
#define IRQ_BASE 0x2000
#define IRQ_NLINES 24 /* KVM's I/O APIC pins */
#define IOMEM_BASE 0xff000000ULL
#define IOMEM_LEN 0x10000

struct pctestdev {
	pthread_mutex_t lock; /* data port and memory window */
	struct vm *vm;
	uint32_t ioport;
	uint8_t iomem[IOMEM_LEN];
};

static int debugexit_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct pctestdev *sc = opaque;

	(void)vcpu;
	(void)offset;
	(void)size;
	if (!write) {
		*val = 0;
		return 0;
	}
	/* bhyve calls exit((v << 1) | 1); the exit status keeps 8 bits. */
	vm_request_exit(sc->vm, (int)((((uint32_t)*val << 1) | 1) & 0xff));
	return 0;
}

static int ioport_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct pctestdev *sc = opaque;
	/* The bus guarantees offset + size <= IOPORT_LEN. */
	unsigned lsb = (unsigned)offset * 8;
	uint32_t mask = (uint32_t)(((1ULL << (size * 8)) - 1) << lsb);

	(void)vcpu;
	pthread_mutex_lock(&sc->lock);
	if (write)
		sc->ioport = (sc->ioport & ~mask) |
		    ((uint32_t)(*val << lsb) & mask);
	else
		*val = (sc->ioport & mask) >> lsb;
	pthread_mutex_unlock(&sc->lock);
	return 0;
}

static int irq_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct pctestdev *sc = opaque;
	int rc;

	(void)vcpu;
	if (!write) {
		*val = 0;
		return 0;
	}
	if (size != 1) {
		khyve_dbg("pc-testdev: %d-byte write to IRQ port ignored",
		    size);
		return 0;
	}
	/* offset < IRQ_NLINES: the claim is that long. */
	rc = vm_irq_line(sc->vm, (unsigned)offset, (*val & 0xff) != 0);
	if (rc != 0)
		khyve_dbg("pc-testdev: IRQ %u: %d", (unsigned)offset, rc);
	return 0;
}

static int iomem_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct pctestdev *sc = opaque;

	(void)vcpu;
	/* The bus guarantees offset + size <= IOMEM_LEN. */
	pthread_mutex_lock(&sc->lock);
	if (write) {
		memcpy(sc->iomem + offset, val, (size_t)size);
	} else {
		*val = 0;
		memcpy(val, sc->iomem + offset, (size_t)size);
	}
	pthread_mutex_unlock(&sc->lock);
	return 0;
}

static int pctestdev_init(const struct platform_dev *dev, struct vm *vm)
{
	struct pctestdev *sc;
	int rc;

	(void)dev;
	if (!config_bool(NULL, "lpc.pc-testdev", false))
		return 0;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	pthread_mutex_init(&sc->lock, NULL);
	sc->vm = vm;
	if ((rc = iobus_register(&vm->pio, DEBUGEXIT_BASE, DEBUGEXIT_LEN,
		 debugexit_io, sc, "isa-debug-exit")) != 0)
		goto fail;
	if ((rc = iobus_register(&vm->pio, IOPORT_BASE, IOPORT_LEN, ioport_io,
		 sc, "pc-testdev-ioport")) != 0)
		goto fail_exit;
	if ((rc = iobus_register(&vm->pio, IRQ_BASE, IRQ_NLINES, irq_io, sc,
		 "pc-testdev-irq-line")) != 0)
		goto fail_ioport;
	if ((rc = iobus_register(&vm->mmio, IOMEM_BASE, IOMEM_LEN, iomem_io,
		 sc, "pc-testdev-iomem")) != 0)
		goto fail_irq;
	return 0;

fail_irq:
	iobus_unregister(&vm->pio, IRQ_BASE);
fail_ioport:
	iobus_unregister(&vm->pio, IOPORT_BASE);
fail_exit:
	iobus_unregister(&vm->pio, DEBUGEXIT_BASE);
fail:
	pthread_mutex_destroy(&sc->lock);
	free(sc);
	return rc;
}

static void pctestdev_fini(const struct platform_dev *dev, struct vm *vm)
{
	struct pctestdev *sc = iobus_opaque(&vm->pio, DEBUGEXIT_BASE);

	(void)dev;
	if (sc == NULL)
		return;
	iobus_unregister(&vm->mmio, IOMEM_BASE);
	iobus_unregister(&vm->pio, IRQ_BASE);
	iobus_unregister(&vm->pio, IOPORT_BASE);
	iobus_unregister(&vm->pio, DEBUGEXIT_BASE);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

static const struct platform_dev pctestdev_dev = {
	.name = "pc-testdev",
	.help = "kvm-unit-tests devices: isa-debug-exit at 0xf4, IRQ lines "
	    "at 0x2000, memory at 0xff000000",
	.init = pctestdev_init,
	.fini = pctestdev_fini,
};
PLATFORM_DEV_SET(pctestdev_dev);
