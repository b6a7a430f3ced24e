/*
 * platform.c - the registry of non-PCI devices (see platform.h).
 *
 * The devices live in the linker set platform_dev_set; this file only
 * walks it: -l parsing, -l help, and init/fini in link order.  -l names
 * compare case-insensitively, as bhyve's lpc_device_parse() does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dev/platform.h"

LINKER_SET_DECLARE(platform_dev_set);

static size_t ndevs(void)
{
	return (size_t)(__stop_set_platform_dev_set -
	    __start_set_platform_dev_set);
}

static const struct platform_dev *dev_at(size_t i)
{
	return __start_set_platform_dev_set[i];
}

const struct platform_dev *platform_dev_find(const char *name)
{
	const struct platform_dev *d;

	if (name == NULL)
		return NULL;
	LINKER_SET_FOREACH(platform_dev_set, d) {
		if (d->help != NULL && strcasecmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

int platform_dev_parse_lpc(const char *arg)
{
	const struct platform_dev *d;
	const char *comma, *opts = NULL;
	char *name, key[64];
	int rc;

	if (arg == NULL || *arg == '\0') {
		khyve_warnx("-l: missing device name (try -l help)");
		return -EINVAL;
	}
	comma = strchr(arg, ',');
	if (comma != NULL) {
		name = strndup(arg, (size_t)(comma - arg));
		opts = comma + 1;
	} else {
		name = strdup(arg);
	}
	if (name == NULL)
		return -ENOMEM;
	d = platform_dev_find(name);
	if (d == NULL) {
		khyve_warnx("-l %s: unknown LPC device '%s' (try -l help)",
		    arg, name);
		rc = -EINVAL;
		goto out;
	}
	if (d->parse != NULL) {
		rc = d->parse(d, opts);
		goto out;
	}
	if (opts != NULL) {
		khyve_warnx("-l %s: device %s takes no options", arg, d->name);
		rc = -EINVAL;
		goto out;
	}
	/* Canonical spelling in the key, whatever case the user typed. */
	if ((size_t)snprintf(key, sizeof(key), "lpc.%s", d->name) >=
	    sizeof(key)) {
		rc = -EINVAL;
		goto out;
	}
	rc = config_set(NULL, key, "true");
	if (rc != 0)
		khyve_warnx("-l %s: cannot set %s", arg, key);
out:
	free(name);
	return rc;
}

void platform_dev_print_help(void)
{
	const struct platform_dev *d;

	LINKER_SET_FOREACH(platform_dev_set, d) {
		if (d->help != NULL)
			printf("%-12s %s\n", d->name, d->help);
	}
}

/* fini devices [0, n) in reverse order. */
static void fini_first(struct vm *vm, size_t n)
{
	while (n-- > 0) {
		const struct platform_dev *d = dev_at(n);

		if (d->fini != NULL)
			d->fini(d, vm);
	}
}

int platform_devs_init(struct vm *vm)
{
	size_t n = ndevs();

	for (size_t i = 0; i < n; i++) {
		const struct platform_dev *d = dev_at(i);
		int rc;

		if (d->init == NULL)
			continue;
		rc = d->init(d, vm);
		if (rc != 0) {
			khyve_dbg("platform device %s failed: %d", d->name,
			    rc);
			/* d made nothing that needs undoing (contract). */
			fini_first(vm, i);
			return rc;
		}
	}
	return 0;
}

void platform_devs_fini(struct vm *vm)
{
	fini_first(vm, ndevs());
}
