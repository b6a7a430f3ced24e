/*
 * bvmcons.c - bhyve's bvm console (consport.c): a trivial console port at
 * 0x220 for guests built with the bvm console driver.  Enabled by bhyve's
 * -b, configuration key "bvmconsole"=true; it uses stdio.
 *
 * The protocol (bvm_port.h) with the signature 'b' << 8 | 'v' (0x6276);
 * the claim covers 0x220-0x223 as bhyve's does.
 * Unlike bhyve, which opens the terminal on the first access, stdio is
 * taken at start-up, so a conflict with -l comN,stdio is reported then.
 */
#include <string.h>

#include "config.h"
#include "dev/bvm_port.h"
#include "dev/platform.h"
#include "vmm/vm.h"

#define BVM_CONSOLE_PORT 0x220
#define BVM_CONS_SIG ('b' << 8 | 'v')

static int bvmcons_init(const struct platform_dev *dev, struct vm *vm)
{
	int rc;

	(void)dev;
	if (!config_bool(NULL, "bvmconsole", false))
		return 0;
	rc = bvm_port_attach(vm, BVM_CONSOLE_PORT, BVM_CONS_SIG, "stdio",
	    "bvmcons");
	if (rc != 0)
		khyve_warnx("bvm console: cannot use stdio: %s", strerror(-rc));
	return rc;
}

static void bvmcons_fini(const struct platform_dev *dev, struct vm *vm)
{
	(void)dev;
	bvm_port_detach(vm, BVM_CONSOLE_PORT);
}

static const struct platform_dev bvmcons_dev = {
	.name = "bvmcons",
	.init = bvmcons_init,
	.fini = bvmcons_fini,
};
PLATFORM_DEV_SET(bvmcons_dev);
