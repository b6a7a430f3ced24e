/*
 * pci_fuzz.c - PCI configuration space and BAR accesses (src/bus/
 * pci_cfg.c, pci_bar.c, pci_emul.c, pci_hostbridge.c, pci_msi.c): any
 * sequence of configuration cycles (mechanism #1 and ECAM, any offset and
 * size, BAR sizing and moves, command register decode bits, capability
 * writes) and accesses to the BARs wherever they are, from pci.h.  After
 * each input every claim must be released with the devices.
 */
#include "pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pcifz_run(data, size, false);
}
