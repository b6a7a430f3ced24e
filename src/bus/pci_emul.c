/*
 * pci_emul.c - the PCI core's life cycle: the emulation registry, building
 * every configured function (bhyve's init_pci), the capability list, the
 * address windows, and teardown.  Configuration cycles are in pci_cfg.c,
 * BARs in pci_bar.c, MSI/MSI-X in pci_msi.c, INTx in pci_irq.c.
 *
 * Topology: one root bus, bus 0, with 32 slots of 8 functions.  bhyve
 * also accepts pci.B.*.* for B > 0 as extra root buses described only in
 * ACPI; khyve has no such tables (nor PCI-to-PCI bridges), so a function on
 * another bus is a configuration error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci_priv.h"
#include "config.h"
#include "vmm/vm.h"

/* pc-testdev's IRQ ports (dev/pctestdev.c) sit at the start of bhyve's I/O
 * window; keep BARs off them when that device is configured. */
#define PCTESTDEV_IRQ_END 0x2018

/* ---- the registry ------------------------------------------------------ */

const struct pci_devemu *pci_emul_find(const char *name)
{
	const struct pci_devemu *pe;

	if (name == NULL)
		return NULL;
	LINKER_SET_FOREACH(pci_devemu_set, pe)
		if (pe->pe_emu != NULL && strcmp(pe->pe_emu, name) == 0)
			return pe;
	return NULL;
}

/* The table whose hooks build `pe`'s functions (itself unless an alias). */
static const struct pci_devemu *resolve(const struct pci_devemu *pe)
{
	const struct pci_devemu *t = pe;

	/* One level only: an alias of an alias is a table error. */
	if (pe->pe_alias != NULL) {
		t = pci_emul_find(pe->pe_alias);
		if (t == NULL || t->pe_alias != NULL)
			return NULL;
	}
	return t->pe_init != NULL ? t : NULL;
}

void pci_emul_print_help(void)
{
	const struct pci_devemu *pe;
	int n = 0;

	LINKER_SET_FOREACH(pci_devemu_set, pe) {
		if (pe->pe_emu == NULL)
			continue;
		printf("%-16s %s\n", pe->pe_emu,
		    pe->pe_help ? pe->pe_help : "");
		n++;
	}
	if (n == 0)
		printf("(no PCI emulations are built into khyve)\n");
}

/* ---- configuration data ------------------------------------------------ */

uint32_t pci_cfgdata_get(const struct pci_devinst *pi, int off, int bytes)
{
	if (bytes == 1)
		return pci_get_cfgdata8(pi, off);
	if (bytes == 2)
		return pci_get_cfgdata16(pi, off);
	return pci_get_cfgdata32(pi, off);
}

void pci_cfgdata_set(struct pci_devinst *pi, int off, int bytes, uint32_t v)
{
	if (bytes == 1)
		pci_set_cfgdata8(pi, off, (uint8_t)v);
	else if (bytes == 2)
		pci_set_cfgdata16(pi, off, (uint16_t)v);
	else
		pci_set_cfgdata32(pi, off, v);
}

uint32_t pci_cfg_load(struct pci_devinst *pi, int off, int bytes)
{
	uint32_t v;

	pthread_mutex_lock(&pi->lock);
	v = pci_cfgdata_get(pi, off, bytes);
	pthread_mutex_unlock(&pi->lock);
	return v;
}

void pci_cfg_store(struct pci_devinst *pi, int off, int bytes, uint32_t v)
{
	pthread_mutex_lock(&pi->lock);
	pci_cfgdata_set(pi, off, bytes, v);
	pthread_mutex_unlock(&pi->lock);
}

/* ---- lookups ----------------------------------------------------------- */

struct pci_func *pci_sys_func(struct pci_sys *sys, int bus, int slot,
    int func)
{
	if (sys == NULL || bus != 0 || slot < 0 || slot >= PCI_NSLOTS ||
	    func < 0 || func >= PCI_NFUNCS)
		return NULL;
	return sys->funcs[slot][func];
}

bool pci_slot_is_multifunction(struct pci_sys *sys, int slot)
{
	int n = 0;

	for (int fn = 0; fn < PCI_NFUNCS; fn++)
		if (sys->funcs[slot][fn] != NULL)
			n++;
	return n > 1;
}

/* ---- capabilities ------------------------------------------------------ */

int pci_emul_add_capability(struct pci_devinst *pi, const uint8_t *cap,
    int len)
{
	struct pci_func *f = pci_func_of(pi);
	int off, reallen;

	if (cap == NULL || len < 2 || len > 0x100 - PCI_CAP_START)
		return -EINVAL;
	reallen = ALIGN_UP(len, 4);
	off = f->capend == 0 ? PCI_CAP_START : f->capend + 1;
	/* Capability pointers are 8 bits: the list lives below 0x100. */
	if (off + reallen > 0x100)
		return -ENOSPC;
	for (int i = 0; i < len; i++)
		pci_set_cfgdata8(pi, off + i, cap[i]);
	pci_set_cfgdata8(pi, off + 1, 0); /* end of list */
	if (f->capend == 0) {
		pci_set_cfgdata8(pi, PCIR_CAP_PTR, (uint8_t)off);
		pci_set_cfgdata16(pi, PCIR_STATUS, pci_get_cfgdata16(pi,
		    PCIR_STATUS) | PCIM_STATUS_CAPPRESENT);
	} else {
		pci_set_cfgdata8(pi, f->prevcap + 1, (uint8_t)off);
	}
	f->prevcap = off;
	f->capend = off + reallen - 1;
	return off;
}

/*
 * PCI Express capability (version 2), 60 bytes, as bhyve's
 * pci_emul_add_pciecap(): an endpoint on bus 0 is a root-complex
 * integrated endpoint; a port gets a gen1 x1 link.
 */
int pci_emul_add_pciecap_type(struct pci_devinst *pi, int type)
{
	uint8_t cap[60];

	if (type == PCIEM_TYPE_ENDPOINT && pi->pi_bus == 0)
		type = PCIEM_TYPE_ROOT_INT_EP;
	memset(cap, 0, sizeof(cap));
	cap[0] = PCIY_EXPRESS;
	cap[2] = (uint8_t)(0x2 | (type << 4)); /* version 2, port type */
	if (type != PCIEM_TYPE_ROOT_INT_EP) {
		cap[12] = 0x11; /* link capabilities: 2.5 GT/s, x1 */
		cap[13] = 0x04; /* (0x411: port number 0, ASPM none) */
		cap[18] = 0x11; /* link status: 2.5 GT/s, x1 */
	}
	return pci_emul_add_capability(pi, cap, sizeof(cap));
}

int pci_emul_add_pciecap(struct pci_devinst *pi)
{
	return pci_emul_add_pciecap_type(pi, PCIEM_TYPE_ENDPOINT);
}

/* ---- windows ----------------------------------------------------------- */

static void compute_windows(struct vm *vm, struct pci_windows *w)
{
	uint64_t top = GMEM_HIGHMEM_BASE + vm->mem.highmem;

	memset(w, 0, sizeof(*w));
	w->io_base = PCI_IOBASE;
	w->io_limit = PCI_IOLIMIT;
	w->mem32_base = GMEM_LOWMEM_LIMIT;
	w->mem32_limit = PCI_ECAM_BASE;
	/* bhyve: a 32 GiB window at the first 32 GiB boundary above RAM. */
	w->mem64_base = ALIGN_UP(top, PCI_MEM64_WINDOW);
	w->mem64_limit = w->mem64_base + PCI_MEM64_WINDOW;
	w->ecam_base = PCI_ECAM_BASE;
	w->ecam_size = PCI_ECAM_SIZE;
}

void pci_emul_windows(struct vm *vm, struct pci_windows *w)
{
	if (vm->pci != NULL)
		*w = vm->pci->win;
	else
		compute_windows(vm, w);
}

/* ---- building functions ------------------------------------------------ */

static int parse_num(const char *s, int max)
{
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
		return -1; /* decimal without leading zeroes, as bhyve names */
	v = strtol(s, &end, 10);
	if (*end != '\0' || v > max)
		return -1;
	return (int)v;
}

static void free_func(struct pci_func *f)
{
	struct pci_devinst *pi = &f->pi;

	pci_bar_release_all(f);
	pci_msix_release(f);
	pci_irq_release(f);
	pthread_mutex_destroy(&pi->lock);
	free(f);
}

static int init_func(struct pci_sys *sys, int slot, int fn,
    struct config_node *node)
{
	const struct pci_devemu *pe, *t;
	const char *name = config_get(node, "device");
	struct pci_func *f;
	struct pci_devinst *pi;
	int rc;

	if (name == NULL) {
		khyve_warnx("pci slot 0:%d:%d: missing \"device\" value", slot,
		    fn);
		return -EINVAL;
	}
	pe = pci_emul_find(name);
	if (pe == NULL || (t = resolve(pe)) == NULL) {
		khyve_warnx("pci slot 0:%d:%d: unknown device \"%s\" (try -s "
		    "help)", slot, fn, name);
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->sys = sys;
	f->emu = t;
	pi = &f->pi;
	pi->pi_d = t;
	pi->pi_vm = sys->vm;
	pi->pi_cfg = node;
	pi->pi_bus = 0;
	pi->pi_slot = (uint8_t)slot;
	pi->pi_func = (uint8_t)fn;
	snprintf(pi->pi_name, sizeof(pi->pi_name), "%s@pci.0.%d.%d", name,
	    slot, fn);
	pthread_mutex_init(&pi->lock, NULL);
	pi->pi_msix.table_bar = pi->pi_msix.pba_bar = -1;
	for (int i = 0; i <= PCI_BAR_ROM; i++) {
		f->barh[i].f = f;
		f->barh[i].idx = i;
	}
	/* bhyve: INTx off until requested, bus mastering on (no firmware
	 * runs to enable it before a directly booted kernel). */
	pci_set_cfgdata8(pi, PCIR_INTLINE, 255);
	pci_set_cfgdata8(pi, PCIR_INTPIN, 0);
	pci_set_cfgdata16(pi, PCIR_COMMAND, PCIM_CMD_BUSMASTEREN);
	/* Visible to pci_lintr_request() and pci_lpc during pe_init. */
	sys->funcs[slot][fn] = f;
	rc = t->pe_init(pi, node);
	if (rc != 0) {
		sys->funcs[slot][fn] = NULL;
		if (sys->lpc == f)
			sys->lpc = NULL;
		free_func(f);
		return rc;
	}
	f->inited = true;
	pci_bar_map_all(f);
	return 0;
}

int pci_emul_foreach_config(pci_config_cb cb, void *arg)
{
	struct config_node *pci = config_find(NULL, "pci");
	struct config_node *b, *s, *fn;
	int bus, slot, func, rc;

	if (pci == NULL)
		return 0;
	for (b = config_node_first(pci); b; b = config_node_next(b)) {
		if (config_node_is_leaf(b))
			continue; /* global pci.* settings, e.g. enable_bars */
		bus = parse_num(config_node_name(b), 255);
		if (bus < 0) {
			khyve_warnx("pci.%s: not a bus number",
			    config_node_name(b));
			return -EINVAL;
		}
		for (s = config_node_first(b); s; s = config_node_next(s)) {
			slot = parse_num(config_node_name(s), PCI_NSLOTS - 1);
			if (slot < 0 || config_node_is_leaf(s)) {
				khyve_warnx("pci.%d.%s: not a slot (0..31)",
				    bus, config_node_name(s));
				return -EINVAL;
			}
			for (fn = config_node_first(s); fn;
			     fn = config_node_next(fn)) {
				func = parse_num(config_node_name(fn),
				    PCI_NFUNCS - 1);
				if (func < 0 || config_node_is_leaf(fn)) {
					khyve_warnx("pci.%d.%d.%s: not a "
					    "function (0..7)", bus, slot,
					    config_node_name(fn));
					return -EINVAL;
				}
				if ((rc = cb(bus, slot, func, fn, arg)) != 0)
					return rc;
			}
		}
	}
	return 0;
}

static int only_bus0(int bus, int slot, int func, struct config_node *fn,
    void *arg)
{
	(void)fn;
	(void)arg;
	if (bus == 0)
		return 0;
	khyve_warnx("pci slot %d:%d:%d: only bus 0 is supported (khyve has "
	    "no PCI bridges or extra root buses)", bus, slot, func);
	return -EINVAL;
}

static int walk_config(struct pci_sys *sys)
{
	struct config_node *pci = config_find(NULL, "pci"), *fn;
	int slot, func, rc;

	/*
	 * Reject what cannot be built before building anything, so the
	 * message names the first bad node whatever the order.
	 */
	if ((rc = pci_emul_foreach_config(only_bus0, NULL)) != 0 ||
	    pci == NULL)
		return rc;
	/* Build in slot/function order, whatever order the tree keeps. */
	for (slot = 0; slot < PCI_NSLOTS; slot++) {
		for (func = 0; func < PCI_NFUNCS; func++) {
			char path[sizeof("0.31.7")];

			snprintf(path, sizeof(path), "0.%d.%d", slot, func);
			fn = config_find(pci, path);
			if (fn == NULL)
				continue;
			if ((rc = init_func(sys, slot, func, fn)) != 0)
				return rc;
		}
	}
	return 0;
}

static void free_all(struct pci_sys *sys)
{
	/* Reverse order: the LPC outlives the functions that route INTx. */
	for (int slot = PCI_NSLOTS - 1; slot >= 0; slot--) {
		for (int fn = PCI_NFUNCS - 1; fn >= 0; fn--) {
			struct pci_func *f = sys->funcs[slot][fn];

			if (f == NULL)
				continue;
			if (f->inited && f->emu->pe_fini != NULL)
				f->emu->pe_fini(&f->pi);
			sys->funcs[slot][fn] = NULL;
			free_func(f);
		}
	}
	sys->lpc = NULL;
}

int pci_emul_init(struct vm *vm)
{
	struct pci_sys *sys;
	int rc;

	if (vm->pci != NULL)
		return -EBUSY;
	sys = calloc(1, sizeof(*sys));
	if (sys == NULL)
		return -ENOMEM;
	sys->vm = vm;
	pthread_mutex_init(&sys->cfg_lock, NULL);
	pthread_mutex_init(&sys->irq_lock, NULL);
	atomic_init(&sys->cf8, 0);
	atomic_init(&sys->reset_ctl, 0);
	compute_windows(vm, &sys->win);
	sys->io_next = sys->win.io_base;
	if (config_bool(NULL, "lpc.pc-testdev", false))
		sys->io_next = PCTESTDEV_IRQ_END;
	sys->mem32_next = sys->win.mem32_base;
	sys->mem64_next = sys->win.mem64_base;
	sys->irqfd = config_bool(NULL, "pci.irqfd", true);
	pci_irq_sys_init(sys);
	vm->pci = sys;

	if ((rc = walk_config(sys)) != 0)
		goto fail;
	if ((rc = pci_cfg_install(sys)) != 0)
		goto fail;
	return 0;
fail:
	pci_emul_fini(vm);
	return rc;
}

void pci_emul_fini(struct vm *vm)
{
	struct pci_sys *sys = vm->pci;

	if (sys == NULL)
		return;
	pci_cfg_uninstall(sys);
	free_all(sys);
	pthread_mutex_destroy(&sys->irq_lock);
	pthread_mutex_destroy(&sys->cfg_lock);
	free(sys);
	vm->pci = NULL;
}
