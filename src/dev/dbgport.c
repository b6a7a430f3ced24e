/*
 * dbgport.c - bhyve's debug port (dbgport.c): guest port 0x224 relayed to
 * a TCP client, for guests' remote-debugging stubs.  Enabled by bhyve's
 * -g PORT, configuration key "bvmdebug.port" (the key bhyve uses).
 *
 * The protocol (bvm_port.h) with the signature 'B' << 8 | 'V' (0x4256),
 * bytes going to and from the TCP client.
 *
 * Deviations from bhyve, on purpose: the listener is on 127.0.0.1 (bhyve
 * listens on every address), and nothing blocks: bhyve's vCPU waits in
 * accept() for a client, here the chardev accepts on the event loop, a
 * read without client returns -1 and output without client is dropped.
 */
#include <errno.h>
#include <stdio.h>

#include "dev/bvm_port.h"
#include "config.h"
#include "dev/platform.h"
#include "vmm/vm.h"

#define BVM_DBG_PORT 0x224
#define BVM_DBG_SIG ('B' << 8 | 'V')

static int dbgport_init(const struct platform_dev *dev, struct vm *vm)
{
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
	snprintf(spec, sizeof(spec), "tcp=127.0.0.1:%d", port);
	return bvm_port_attach(vm, BVM_DBG_PORT, BVM_DBG_SIG, spec, "bvmdbg");
}

static void dbgport_fini(const struct platform_dev *dev, struct vm *vm)
{
	(void)dev;
	bvm_port_detach(vm, BVM_DBG_PORT);
}

static const struct platform_dev dbgport_dev = {
	.name = "bvmdbg",
	.init = dbgport_init,
	.fini = dbgport_fini,
};
PLATFORM_DEV_SET(dbgport_dev);
