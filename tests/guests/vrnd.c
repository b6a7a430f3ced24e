/*
 * vrnd.elf - read entropy from virtio-rnd (virtio 1.2, 5.4: one request
 * queue of device-writable buffers).
 *
 * Options: "transport=legacy|modern|auto" (auto: modern when offered),
 * "irq=msix|msi|none" (default msix when offered), "n=N" reads (default
 * 2, 64 bytes each; read i must differ from read i-1), "nth=K" the K-th
 * virtio-rnd function.  Prints the bytes in hex; the buffer must not be
 * all one value (all zero included).  Ends "vrnd ok" / "vrnd FAIL".
 */
#include "virtio.h"

static struct pci_dev devs[PCI_MAX_DEVS];
static struct vdev vd;

void guest_main(void)
{
	int n = pci_scan(devs, PCI_MAX_DEVS), reads = (int)cmd_num("n", 2);
	struct pci_dev *d = vio_find(devs, n, VIRTIO_ID_RNG,
	    (int)cmd_num("nth", 0));
	uint8_t *buf = palloc(64, 64), prev[64];

	if (d == NULL) {
		printf("vrnd FAIL: no virtio-rnd function\n");
		finish(GX_FAIL);
	}
	if (vio_init(&vd, d, vio_mode_arg("transport"),
		vio_irq_arg("irq", d), 0x40) != 0 ||
	    vio_negotiate(&vd, 0) != 0 || vio_setup_vq(&vd, 0, 64) != 0)
		goto out;
	vio_driver_ok(&vd);
	vio_print(&vd, "vrnd");
	for (int r = 0; r < reads; r++) {
		struct vbuf b = { buf, 64, true };
		int64_t len;
		bool same = true;

		memset(buf, 0, 64);
		len = vio_request(&vd, 0, &b, 1, 10000);
		if (len < 0)
			break;
		printf("vrnd: read %d: %lld bytes:", r, (long long)len);
		for (int i = 0; i < len && i < 64; i++)
			printf("%s%02x", i % 16 ? "" : " ", buf[i]);
		printf("\n");
		if (len < 8 || len > 64)
			vio_fail("read %d returned %lld bytes (asked 64, want "
			    ">= 8)", r, (long long)len);
		for (int i = 1; i < len && i < 64; i++)
			if (buf[i] != buf[0])
				same = false;
		if (same)
			vio_fail("read %d: every byte is 0x%02x", r, buf[0]);
		if (r > 0 && memcmp(prev, buf, 64) == 0)
			vio_fail("read %d repeats read %d", r, r - 1);
		memcpy(prev, buf, 64);
	}
	printf("vrnd: interrupts queue %u config %u status 0x%x\n",
	    vio_irqs(&vd, 0), vio_config_irqs(&vd), vio_status(&vd));
out:
	if (vio_errors || pci_errors) {
		printf("vrnd FAIL\n");
		finish(GX_FAIL);
	}
	printf("vrnd ok\n");
	finish(GX_OK);
}
