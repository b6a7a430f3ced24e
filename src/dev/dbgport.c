/*
 * dbgport.c - bhyve's debug port (dbgport.c): guest port 0x224 relayed to
 * a TCP client, for guests' remote-debugging stubs.  Enabled by bhyve's
 * -g PORT, configuration key "bvmdebug.port" (the key bhyve uses).
 *
 *   2-byte read      the signature 'B' << 8 | 'V' (0x4256);
 *   4-byte read      the next byte from the client, or 0xffffffff (-1)
 *                    when none is waiting;
 *   4-byte write     send the low byte to the client.
 *
 * Deviations from bhyve, on purpose: the listener is on 127.0.0.1 (bhyve
 * listens on every address), and nothing blocks: bhyve's vCPU waits in
 * accept() for a client, here the chardev accepts on the event loop, a
 * read without client returns -1 and output without client is dropped.
 * Other access sizes read as all ones and are otherwise ignored (bhyve
 * fails them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/chardev.h"
#include "config.h"
#include "dev/platform.h"
#include "vmm/vm.h"

#define BVM_DBG_PORT 0x224
#define BVM_DBG_LEN 4
#define BVM_DBG_SIG ('B' << 8 | 'V')

struct dbgport {
	struct chardev *cd;
};

static int dbgport_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct dbgport *sc = opaque;
	uint8_t b;

	(void)vcpu;
	if (offset == 0 && size == 2 && !write) {
		*val = BVM_DBG_SIG;
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

static int dbgport_init(const struct platform_dev *dev, struct vm *vm)
{
	struct dbgport *sc;
	char spec[32];
	int port = 0, rc;

	(void)dev;
	rc = config_get_int(NULL, "bvmdebug.port", &port);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0 || port < 1 || port > 65535) {
		khyve_warnx("bvmdebug.port: expected a TCP port (1-65535)");
		return -EINVAL;
	}
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	snprintf(spec, sizeof(spec), "tcp=127.0.0.1:%d", port);
	/* No rx callback: the guest polls. */
	rc = chardev_open(&sc->cd, spec, vm->ev, NULL, NULL);
	if (rc != 0)
		goto fail;
	rc = iobus_register(&vm->pio, BVM_DBG_PORT, BVM_DBG_LEN, dbgport_io,
	    sc, "bvmdbg");
	if (rc != 0)
		goto fail_cd;
	return 0;

fail_cd:
	chardev_close(sc->cd);
fail:
	free(sc);
	return rc;
}

static void dbgport_fini(const struct platform_dev *dev, struct vm *vm)
{
	struct dbgport *sc = iobus_opaque(&vm->pio, BVM_DBG_PORT);

	(void)dev;
	if (sc == NULL)
		return;
	iobus_unregister(&vm->pio, BVM_DBG_PORT);
	chardev_close(sc->cd);
	free(sc);
}

static const struct platform_dev dbgport_dev = {
	.name = "bvmdbg",
	.init = dbgport_init,
	.fini = dbgport_fini,
};
PLATFORM_DEV_SET(dbgport_dev);
