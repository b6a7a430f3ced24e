/*
 * vblk.elf - drive virtio-blk (virtio 1.2, 5.2) through either transport.
 *
 * The test's disk image holds in each of its first 8 sectors k the line
 * "khyve sect %04u\n" (k) 32 times.  The program:
 *  - reads the configuration (capacity, blk_size, seg_max) and prints it;
 *    "capacity=N" makes a mismatch an error;
 *  - reads sector 0 and checks the pattern; reads sectors 0..7 in one
 *    request split over two data descriptors and checks all eight;
 *  - without "ro": writes "khyve wrot %04u\n" x 32 to sector "sector=N"
 *    (default 9), flushes (when VIRTIO_BLK_F_FLUSH is offered), reads it
 *    back; the test then checks the host file;
 *  - with "ro": VIRTIO_BLK_F_RO must be offered and the write must fail
 *    with VIRTIO_BLK_S_IOERR (and leave the sector as it was);
 *  - GET_ID (printed; "id=STRING" must match when given);
 *  - an unknown request type must come back VIRTIO_BLK_S_UNSUPP;
 *  - with MSI-X (default when offered) every request must raise the
 *    queue's interrupt (vio_request checks).
 * Options: "transport=legacy|modern|auto", "irq=msix|msi|none", "nth=K".
 * Ends "vblk ok" (GX_OK) or "vblk FAIL" (GX_FAIL).
 */
#include "virtio.h"

#define BLK_F_SIZE_MAX 1
#define BLK_F_SEG_MAX 2
#define BLK_F_GEOMETRY 4
#define BLK_F_RO 5
#define BLK_F_BLK_SIZE 6
#define BLK_F_FLUSH 9

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8

#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct pci_dev devs[PCI_MAX_DEVS];
static struct vdev vd;
static struct blk_hdr *hdr;
static uint8_t *status, *data;

static void pattern(uint8_t *buf, const char *word, unsigned k)
{
	for (int i = 0; i < 32; i++)
		snprintf((char *)buf + 16 * i, 17, "khyve %s %04u\n", word,
		    k % 10000);
}

/* One request: header, optional data, status.  Returns the status byte
 * (0xff if the device left it unwritten; -1 timeout). */
static int blk_req(uint32_t type, uint64_t sector, void *buf, uint32_t len,
    bool write_to_dev, uint32_t *used)
{
	struct vbuf b[3];
	int n = 0;
	int64_t l;

	hdr->type = type;
	hdr->reserved = 0;
	hdr->sector = sector;
	*status = 0xff;
	b[n++] = (struct vbuf){ hdr, sizeof(*hdr), false };
	if (len)
		b[n++] = (struct vbuf){ buf, len, !write_to_dev };
	b[n++] = (struct vbuf){ status, 1, true };
	l = vio_request(&vd, 0, b, n, 10000);
	if (l < 0)
		return -1;
	if (used)
		*used = (uint32_t)l;
	return *status;
}

static void check_sector(const uint8_t *buf, const char *word, unsigned k,
    const char *what)
{
	uint8_t want[513];

	pattern(want, word, k);
	if (memcmp(buf, want, 512) != 0) {
		vio_fail("%s: sector %u does not hold 'khyve %s %04u'", what,
		    k, word, k);
		printf("vblk: got '");
		print_text(buf, 32);
		printf("'\n");
	}
}

void guest_main(void)
{
	int n = pci_scan(devs, PCI_MAX_DEVS), st;
	struct pci_dev *d = vio_find(devs, n, VIRTIO_ID_BLOCK,
	    (int)cmd_num("nth", 0));
	bool ro = cmd_has("ro");
	unsigned sector = (unsigned)cmd_num("sector", 9);
	uint64_t cap, want_cap = cmd_num("capacity", 0);
	uint32_t used = 0;
	char idbuf[21], want_id[32];
	static uint8_t before[512];

	if (d == NULL) {
		printf("vblk FAIL: no virtio-blk function\n");
		finish(GX_FAIL);
	}
	hdr = palloc(sizeof(*hdr), 16);
	status = palloc(1, 16);
	data = palloc(8 * 512, 4096);
	if (vio_init(&vd, d, vio_mode_arg("transport"), vio_irq_arg("irq", d),
		0x40) != 0 ||
	    vio_negotiate(&vd, 1u << BLK_F_SIZE_MAX | 1u << BLK_F_SEG_MAX |
		1u << BLK_F_GEOMETRY | 1u << BLK_F_RO | 1u << BLK_F_BLK_SIZE |
		1u << BLK_F_FLUSH) != 0 ||
	    vio_setup_vq(&vd, 0, 128) != 0)
		goto out;
	vio_driver_ok(&vd);
	vio_print(&vd, "vblk");
	cap = vio_cfg_read(&vd, 0, 8);
	printf("vblk: capacity %llu seg_max %u blk_size %u ro %d flush %d\n",
	    (unsigned long long)cap,
	    (vd.features >> BLK_F_SEG_MAX & 1) ?
		(unsigned)vio_cfg_read(&vd, 12, 4) : 0,
	    (vd.features >> BLK_F_BLK_SIZE & 1) ?
		(unsigned)vio_cfg_read(&vd, 20, 4) : 0,
	    (int)(vd.dev_features >> BLK_F_RO & 1),
	    (int)(vd.dev_features >> BLK_F_FLUSH & 1));
	if (want_cap && cap != want_cap)
		vio_fail("capacity %llu, expected %llu",
		    (unsigned long long)cap, (unsigned long long)want_cap);

	/* Sector 0. */
	memset(data, 0, 512);
	st = blk_req(BLK_T_IN, 0, data, 512, false, &used);
	printf("vblk: read sector 0: status %d used %u '", st, used);
	print_text(data, 15);
	printf("'\n");
	if (st != BLK_S_OK)
		vio_fail("read sector 0: status %d", st);
	else
		check_sector(data, "sect", 0, "read");

	/* Sectors 0..7, the data split over two descriptors. */
	memset(data, 0, 8 * 512);
	{
		struct vbuf b[4] = {
			{ hdr, sizeof(*hdr), false },
			{ data, 1024 + 16, true },
			{ data + 1024 + 16, 3 * 1024 - 16, true },
			{ status, 1, true },
		};
		int64_t l;

		hdr->type = BLK_T_IN;
		hdr->sector = 0;
		*status = 0xff;
		l = vio_request(&vd, 0, b, 4, 10000);
		printf("vblk: read sectors 0-7: status %d used %lld\n", *status,
		    (long long)l);
		if (*status != BLK_S_OK)
			vio_fail("read sectors 0-7: status %d", *status);
		else
			for (unsigned k = 0; k < 8; k++)
				check_sector(data + 512 * k, "sect", k,
				    "multi-descriptor read");
	}

	/* Write sector N (or fail to, read-only: keep what it held). */
	memset(before, 0, sizeof(before));
	if (ro && blk_req(BLK_T_IN, sector, data, 512, false, NULL) == 0)
		memcpy(before, data, 512);
	pattern(data, "wrot", sector);
	st = blk_req(BLK_T_OUT, sector, data, 512, true, &used);
	printf("vblk: write sector %u: status %d\n", sector, st);
	if (ro) {
		if (!(vd.dev_features >> BLK_F_RO & 1))
			vio_fail("read-only disk without VIRTIO_BLK_F_RO");
		if (st != BLK_S_IOERR)
			vio_fail("write to a read-only disk: status %d, "
			    "expected IOERR (1)", st);
	} else {
		if (vd.dev_features >> BLK_F_RO & 1)
			vio_fail("writable disk offers VIRTIO_BLK_F_RO");
		if (st != BLK_S_OK)
			vio_fail("write sector %u: status %d", sector, st);
		if (vd.features >> BLK_F_FLUSH & 1) {
			st = blk_req(BLK_T_FLUSH, 0, NULL, 0, false, NULL);
			printf("vblk: flush: status %d\n", st);
			if (st != BLK_S_OK)
				vio_fail("flush: status %d", st);
		}
	}
	memset(data, 0, 512);
	st = blk_req(BLK_T_IN, sector, data, 512, false, NULL);
	if (st != BLK_S_OK)
		vio_fail("read back sector %u: status %d", sector, st);
	else if (!ro)
		check_sector(data, "wrot", sector, "read back");
	else if (memcmp(data, before, 512) != 0)
		vio_fail("read-only disk: sector %u changed", sector);

	/* GET_ID: up to 20 bytes, NUL-padded. */
	memset(idbuf, 0, sizeof(idbuf));
	st = blk_req(BLK_T_GET_ID, 0, idbuf, 20, false, NULL);
	printf("vblk: get_id: status %d id '%s'\n", st, idbuf);
	if (st != BLK_S_OK)
		vio_fail("GET_ID: status %d", st);
	if (cmd_get("id", want_id, sizeof(want_id)) &&
	    strcmp(want_id, idbuf) != 0)
		vio_fail("GET_ID '%s', expected '%s'", idbuf, want_id);

	/* An unknown type. */
	st = blk_req(0x7f, 0, NULL, 0, false, NULL);
	printf("vblk: request type 0x7f: status %d\n", st);
	if (st != BLK_S_UNSUPP)
		vio_fail("unknown request type: status %d, expected UNSUPP "
		    "(2)", st);

	printf("vblk: interrupts queue %u config %u status 0x%x\n",
	    vio_irqs(&vd, 0), vio_config_irqs(&vd), vio_status(&vd));
	if (vd.irq != VIO_IRQ_NONE && vio_irqs(&vd, 0) == 0)
		vio_fail("no queue interrupt at all");
	if (vio_status(&vd) & VIRTIO_S_NEEDS_RESET)
		vio_fail("device needs reset");
out:
	if (vio_errors || pci_errors) {
		printf("vblk FAIL\n");
		finish(GX_FAIL);
	}
	printf("vblk ok\n");
	finish(GX_OK);
}
