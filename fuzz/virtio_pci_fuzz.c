/*
 * virtio_pci_fuzz.c - the virtio PCI transport (src/virtio/virtio_pci.c,
 * virtio_pci_legacy.c, virtio_pci_modern.c) as the guest driver sees it:
 * a transitional virtio-rnd in slot 3 of the PCI world of pci.h, with 1
 * MiB of fake RAM (guard pages) behind it, and guest accesses from the
 * input to its configuration space (vendor capabilities, the PCI_CFG
 * access window), its legacy I/O BAR, its modern BAR (common config:
 * feature selects, queue select/size/addresses/enable, status, device
 * config, ISR, doorbells) and its MSI-X table.  A seed drives the normal
 * driver sequence; mutations break it anywhere.
 *
 * The device's I/O thread runs as in khyve (kicks arrive as eventfd
 * writes), so a queue the guest enables and kicks is served.  Input: a
 * 16-bit length and that many bytes copied to guest RAM at 0x10000 (where
 * a legacy PFN of 0x10 puts queue 0's descriptor table and avail ring),
 * then the accesses of pci.h.
 */
#include "loader_fixture.h"
#include "pci.h"

#define RING_GPA 0x10000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fx_mem ram;
	struct vm vm;
	struct fz f;

	if (fx_init(&ram, 1 * MiB, 0) != 0)
		abort();
	if (pcifz_setup(&vm, "virtio-rnd", &ram.m) != 0)
		abort();
	fz_init(&f, data, size);
	fz_bytes(&f, ram.m.r[0].host + RING_GPA, fz_u16(&f) % 4096);
	while (fz_more(&f))
		pcifz_op(&vm, &f, false);
	pcifz_teardown(&vm);
	fx_fini(&ram);
	return 0;
}
