/*
 * vall.elf - all four virtio devices on one bus at once: finds
 * virtio-blk, virtio-net, virtio-rnd and virtio-console, gives each its
 * own MSI-X vectors (disjoint IDT ranges), and makes every device
 * complete one request on one of its queues, which vio_request() only
 * accepts once that queue's MSI-X vector fired:
 *   blk      read sector 0 (status OK, the first bytes printed);
 *   net      transmit one broadcast ARP request on the TX queue;
 *   rnd      read 64 bytes;
 *   console  write a line on port 0's transmitq (no multiport).
 * Prints "vall: TYPE BB:DD.F msix vectors V..W irqs N" per device, then
 * "vall ok" (GX_OK) or "vall FAIL" (GX_FAIL).  "transport=" as the other
 * virtio guests.
 */
#include "virtio.h"

struct dev_case {
	const char *name;
	int type, qi, nq, vbase;
};

static const struct dev_case cases[] = {
	{ "blk", VIRTIO_ID_BLOCK, 0, 1, 0x40 },
	{ "net", VIRTIO_ID_NET, 1, 2, 0x50 },
	{ "rnd", VIRTIO_ID_RNG, 0, 1, 0x60 },
	{ "console", VIRTIO_ID_CONSOLE, 1, 2, 0x70 },
};

static struct pci_dev devs[PCI_MAX_DEVS];
static struct vdev vds[4];

/* One request on the case's queue; the used length, or -1. */
static int64_t exercise(const struct dev_case *c, struct vdev *vd)
{
	uint8_t *buf = palloc(4096, 4096);
	struct vbuf b[3];
	int64_t len;

	switch (c->type) {
	case VIRTIO_ID_BLOCK: {
		uint32_t *h = (uint32_t *)buf; /* type, reserved, sector */

		memset(buf, 0, 16);
		h[0] = 0; /* IN */
		buf[1024] = 0xff;
		b[0] = (struct vbuf){ buf, 16, false };
		b[1] = (struct vbuf){ buf + 512, 512, true };
		b[2] = (struct vbuf){ buf + 1024, 1, true };
		len = vio_request(vd, c->qi, b, 3, 10000);
		if (len >= 0 && buf[1024] != 0)
			vio_fail("blk: read status %u", buf[1024]);
		if (len >= 0) {
			char first[17];

			memcpy(first, buf + 512, 16);
			first[16] = '\0';
			printf("vall: blk sector 0: %s\n", first);
		}
		return len;
	}
	case VIRTIO_ID_NET: {
		/* virtio_net_hdr (10 bytes legacy, 12 with VERSION_1), zero. */
		uint32_t hl = vd->modern ? 12 : 10;
		static const uint8_t arp[42] = {
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0x12,
			0x34, 0x56, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1,
			0x52, 0x54, 0, 0x12, 0x34, 0x56, 10, 0, 2, 15,
			0, 0, 0, 0, 0, 0, 10, 0, 2, 2 };

		memset(buf, 0, hl);
		memcpy(buf + 64, arp, sizeof(arp));
		b[0] = (struct vbuf){ buf, hl, false };
		b[1] = (struct vbuf){ buf + 64, sizeof(arp), false };
		return vio_request(vd, c->qi, b, 2, 10000);
	}
	case VIRTIO_ID_RNG:
		b[0] = (struct vbuf){ buf, 64, true };
		return vio_request(vd, c->qi, b, 1, 10000);
	default: {
		static const char msg[] = "hello from vall\n";

		memcpy(buf, msg, sizeof(msg) - 1);
		b[0] = (struct vbuf){ buf, sizeof(msg) - 1, false };
		return vio_request(vd, c->qi, b, 1, 10000);
	}
	}
}

void guest_main(void)
{
	int n = pci_scan(devs, PCI_MAX_DEVS);

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct dev_case *c = &cases[i];
		struct vdev *vd = &vds[i];
		struct pci_dev *d = vio_find(devs, n, c->type, 0);

		if (d == NULL) {
			vio_fail("no virtio-%s function", c->name);
			continue;
		}
		if (vio_init(vd, d, vio_mode_arg("transport"), VIO_IRQ_MSIX,
			c->vbase) != 0 || vd->irq != VIO_IRQ_MSIX) {
			vio_fail("%s: no MSI-X", c->name);
			continue;
		}
		if (vio_negotiate(vd, 0) != 0)
			continue;
		for (int q = 0; q < c->nq; q++)
			if (vio_setup_vq(vd, q, 64) != 0)
				goto next;
		vio_driver_ok(vd);
		if (exercise(c, vd) < 0)
			vio_fail("%s: request not completed", c->name);
		printf("vall: %s %02x:%02x.%x %s msix vectors 0x%x..0x%x irqs %u\n",
		    c->name, d->bus, d->dev, d->fn, vd->modern ? "modern" : "legacy",
		    c->vbase, c->vbase + c->nq, vio_irqs(vd, c->qi));
		if (vio_irqs(vd, c->qi) == 0)
			vio_fail("%s: queue %d's MSI-X vector never fired",
			    c->name, c->qi);
next:;
	}
	if (vio_errors || pci_errors) {
		printf("vall FAIL\n");
		finish(GX_FAIL);
	}
	printf("vall ok\n");
	finish(GX_OK);
}
