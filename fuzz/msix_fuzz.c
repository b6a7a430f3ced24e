/*
 * msix_fuzz.c - MSI and MSI-X (src/bus/pci_msi.c): the same guest as
 * pci_fuzz.c but with BAR accesses aimed at the MSI-X table and PBA (any
 * offset, size and value: entries half written, masked and unmasked,
 * vector control junk), the capabilities' control words, and messages
 * raised by the device for any vector number while the guest changes
 * them.
 */
#include "pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pcifz_run(data, size, true);
}
