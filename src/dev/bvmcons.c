/*
 * bvmcons.c - bhyve's bvm console (consport.c): a trivial console port at
 * 0x220 for guests built with the bvm console driver.  Enabled by bhyve's
 * -b, configuration key "bvmconsole"=true; it uses stdio.
 *
 *   2-byte read      the signature 'b' << 8 | 'v' (0x6276) so the guest
 *                    can detect the port;
 *   1-byte read      0xff (guests probing for old ISA devices);
 *   4-byte read      the next input byte, or 0xffffffff (-1) if none;
 *   4-byte write     output the low byte.
 *
 * The claim covers 0x220-0x223 so that the 4-byte accesses at 0x220 are
 * the console's (bhyve reserves the same 4 ports); offsets 1-3 read 0xff.
 * Input is polled on the guest's read (as bhyve does), not pushed.
 * Unlike bhyve, which opens the terminal on the first access, stdio is
 * taken at start-up, so a conflict with -l comN,stdio is reported then.
 */
#include <errno.h>
#include <stdlib.h>

#include "backend/chardev.h"
#include "config.h"
#include "dev/platform.h"
#include "vmm/vm.h"

#define BVM_CONSOLE_PORT 0x220
#define BVM_CONSOLE_LEN 4
#define BVM_CONS_SIG ('b' << 8 | 'v')

struct bvmcons {
	struct chardev *cd;
};

static int bvmcons_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct bvmcons *sc = opaque;
	uint8_t b;

	(void)vcpu;
	if (offset != 0) {
		if (!write)
			*val = ~0ULL;
		return 0;
	}
	if (size == 2 && !write) {
		*val = BVM_CONS_SIG;
	} else if (size == 4 && !write) {
		*val = chardev_read(sc->cd, &b, 1) == 1 ? b : 0xffffffffULL;
	} else if (size == 4) {
		b = (uint8_t)*val;
		chardev_write(sc->cd, &b, 1);
	} else if (!write) {
		*val = ~0ULL; /* bhyve: 1-byte probes read 0xff */
	}
	/* Other writes: bhyve fails them; dropping is kinder. */
	return 0;
}

static int bvmcons_init(const struct platform_dev *dev, struct vm *vm)
{
	struct bvmcons *sc;
	int rc;

	(void)dev;
	if (!config_bool(NULL, "bvmconsole", false))
		return 0;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	/* No rx callback: the guest polls. */
	rc = chardev_open(&sc->cd, "stdio", vm->ev, NULL, NULL);
	if (rc != 0) {
		khyve_warnx("bvm console: cannot use stdio");
		goto fail;
	}
	rc = iobus_register(&vm->pio, BVM_CONSOLE_PORT, BVM_CONSOLE_LEN,
	    bvmcons_io, sc, "bvmcons");
	if (rc != 0)
		goto fail_cd;
	return 0;

fail_cd:
	chardev_close(sc->cd);
fail:
	free(sc);
	return rc;
}

static void bvmcons_fini(const struct platform_dev *dev, struct vm *vm)
{
	struct bvmcons *sc = iobus_opaque(&vm->pio, BVM_CONSOLE_PORT);

	(void)dev;
	if (sc == NULL)
		return;
	iobus_unregister(&vm->pio, BVM_CONSOLE_PORT);
	chardev_close(sc->cd);
	free(sc);
}

static const struct platform_dev bvmcons_dev = {
	.name = "bvmcons",
	.init = bvmcons_init,
	.fini = bvmcons_fini,
};
PLATFORM_DEV_SET(bvmcons_dev);
