/*
 * platform.h - registration of the non-PCI devices (the ISA/LPC world).
 *
 * Each device file defines a `const struct platform_dev` with designated
 * initializers and adds it to the set with PLATFORM_DEV_SET(); the core
 * walks the set, so adding a device never touches a list elsewhere.
 *
 * Devices a user selects with `-l NAME[,OPTS]` (bhyve's LPC devices:
 * com1..com4, pc-testdev, and later bootrom, fwcfg) have a `help` line and
 * usually a `parse` hook that turns OPTS into configuration keys under
 * lpc.NAME (bhyve_config(5) spelling).  Devices that every PC has (RTC,
 * i8042, POST port, port 0x92) or that other options enable (-b, -g) have
 * no help line and decide in `init` from the configuration whether they
 * exist.
 */
#ifndef KHYVE_DEV_PLATFORM_H
#define KHYVE_DEV_PLATFORM_H

#include "common.h"

struct vm;

struct platform_dev {
	const char *name; /* -l name, or an internal name */
	const char *help; /* one line for -l help; NULL if not an -l device */
	/*
	 * -l NAME,OPTS: store OPTS in the configuration (OPTS may be NULL
	 * when only NAME was given).  Return 0 or -EINVAL after printing
	 * one line naming the option and value.  NULL: the parser stores
	 * lpc.NAME=true when OPTS is NULL and rejects OPTS otherwise.
	 */
	int (*parse)(const struct platform_dev *dev, const char *opts);
	/*
	 * Called once for every registered device, in link order, after the
	 * VM (memory, irqchip, vCPUs) exists and before any vCPU runs.
	 * Reads the device's own configuration keys; returns 0 (also when
	 * the configuration does not ask for the device) or a negative errno
	 * after printing why and undoing its own work (fini is not called
	 * for a device whose init failed).  -EINVAL means a configuration
	 * error (main exits with the usage status).
	 */
	int (*init)(const struct platform_dev *dev, struct vm *vm);
	/* Release what init made (on VM teardown); may be NULL. */
	void (*fini)(const struct platform_dev *dev, struct vm *vm);
	const void *data; /* per-entry constant, e.g. the COM port number */
};

LINKER_SET_DECLARE(platform_dev_set);
#define PLATFORM_DEV_SET(d) LINKER_SET_ADD(platform_dev_set, d)

/* Find a device by -l name (only those with a help line).  NULL if none. */
const struct platform_dev *platform_dev_find(const char *name);
/* Handle one -l argument ("NAME[,OPTS]"); 0 or -EINVAL with a message. */
int platform_dev_parse_lpc(const char *arg);
/* Print the -l devices, one per line (for "-l help"). */
void platform_dev_print_help(void);
/* Init every device; on failure fini the ones already initialised. */
int platform_devs_init(struct vm *vm);
void platform_devs_fini(struct vm *vm);

#endif
