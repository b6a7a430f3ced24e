/*
 * pci_emul.h - PCI device emulations (bhyve's struct pci_devemu).
 *
 * MINIMAL, TO BE EXTENDED by the PCI work: today it only carries what the
 * option parser needs for "-s slot,emulation[,conf]" and "-s help".  Each
 * emulation defines a const struct pci_devemu with designated initializers
 * and adds it with PCI_EMUL_SET(); nothing keeps a list by hand.  New
 * members (init, config-space and BAR handlers, ...) go at the end.
 */
#ifndef KHYVE_BUS_PCI_EMUL_H
#define KHYVE_BUS_PCI_EMUL_H

#include "common.h"

struct config_node;

struct pci_devemu {
	const char *pe_emu;  /* -s emulation name, e.g. "virtio-blk" */
	const char *pe_help; /* one line for -s help; may be NULL */
	/*
	 * Turn the -s "conf" string (never NULL when called) into keys below
	 * the device's node pci.B.S.F (e.g. a bare path -> "path=...").
	 * Returns 0, or -EINVAL after printing one line naming the value.
	 * NULL: the generic parser stores "key=value" items as given and a
	 * bare "name" item as name=true (bhyve's pci_parse_legacy_config()).
	 */
	int (*pe_legacy_config)(struct config_node *dev, const char *conf);
};

LINKER_SET_DECLARE(pci_devemu_set);
#define PCI_EMUL_SET(d) LINKER_SET_ADD(pci_devemu_set, d)

#endif
