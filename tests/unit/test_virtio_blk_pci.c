/*
 * test_virtio_blk_pci.c - virtio-blk as a guest meets it: built by the real
 * PCI core from the configuration tree (pci_emul_init on a VM without
 * KVM), driven through configuration cycles and the modern transport's
 * registers on the MMIO bus, with the kick running the request on the
 * device's I/O thread and the back end's workers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "test.h"
#include "virtio/virtio.h"
#include "virtio/virtio_blk.h"
#include "vpci_fixture.h"

#define RAM_SIZE (1 * MiB)
#define IMG_SIZE (256 * 1024)

/* Guest-physical layout: rings at 0x10000, buffers from 0x20000. */
#define Q_DESC 0x10000ULL
#define Q_AVAIL 0x11000ULL
#define Q_USED 0x12000ULL
#define BUF 0x20000ULL

struct pfx {
	struct vpci p;
	char path[64];
	uint16_t qsize, avail;
	int rc;
};

static uint8_t ipat(uint64_t off)
{
	return (uint8_t)(off * 5 + (off >> 9) + 1);
}

static uint64_t mr(struct pfx *f, uint64_t off, int size)
{
	return vpci_rd(&f->p, off, size);
}

static void mw(struct pfx *f, uint64_t off, int size, uint64_t v)
{
	vpci_wr(&f->p, off, size, v);
}

static uint8_t *g(struct pfx *f, uint64_t gpa, uint64_t len)
{
	return vpci_host(&f->p, gpa, len);
}

/*
 * A VM without KVM whose slot 4 holds virtio-blk on a fresh image, with
 * `k1=v1` (and k2=v2) set too.  f->rc: pci_emul_init's result.
 */
static struct pfx *pfx_new(const char *k1, const char *v1, const char *k2,
    const char *v2, bool image)
{
	static uint8_t img[IMG_SIZE];
	struct pfx *f = calloc(1, sizeof(*f));
	struct config_node *cfg;
	int fd;

	if (f == NULL || vpci_init(&f->p, RAM_SIZE) != 0)
		abort();
	snprintf(f->path, sizeof(f->path), "/tmp/khyve-vblkpci-XXXXXX");
	fd = mkstemp(f->path);
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = ipat(i);
	if (fd < 0 || pwrite(fd, img, sizeof(img), 0) != (ssize_t)sizeof(img))
		abort();
	close(fd);
	config_set(NULL, "virtio_msix", "false");
	cfg = config_create(NULL, "pci.0.4.0");
	config_set(cfg, "device", "virtio-blk");
	config_set(cfg, "path", image ? f->path : "/nonexistent/khyve.img");
	config_set(cfg, "transport", "modern");
	if (k1 != NULL)
		config_set(cfg, k1, v1);
	if (k2 != NULL)
		config_set(cfg, k2, v2);
	f->rc = vpci_start(&f->p);
	return f;
}

static void pfx_free(struct pfx *f)
{
	vpci_fini(&f->p);
	unlink(f->path);
	free(f);
}

/* Map BAR 4 where the core put it, enable memory decoding. */
static void map_bar4(struct pfx *f)
{
	vpci_map_bar4(&f->p, 0x0006); /* memory space, bus master */
}

/* The driver's side of start-up; returns the status read back. */
static uint8_t bring_up(struct pfx *f, uint64_t want)
{
	(void)vpci_negotiate(&f->p, want);
	f->qsize = vpci_queue(&f->p, 0, 0, Q_DESC, Q_AVAIL, Q_USED);
	return vpci_driver_ok(&f->p);
}

static void desc(struct pfx *f, uint16_t i, uint64_t addr, uint32_t len,
    uint16_t flags, uint16_t next)
{
	uint8_t *p = g(f, Q_DESC + 16ULL * i, 16);

	fx_w64(p, addr);
	fx_w32(p + 8, len);
	fx_w16(p + 12, flags);
	fx_w16(p + 14, next);
}

/* Publish head 0 and ring queue 0's doorbell. */
static void post_and_kick(struct pfx *f)
{
	fx_w16(g(f, Q_AVAIL + 4 + 2ULL * (f->avail % f->qsize), 2), 0);
	f->avail++;
	fx_w16(g(f, Q_AVAIL + 2, 2), f->avail);
	vpci_kick(&f->p, 0);
}

static uint16_t used_idx(struct pfx *f)
{
	return FX_G16(&f->p.ram, Q_USED + 2);
}

static int wait_used(struct pfx *f, uint16_t n)
{
	for (int i = 0; i < 5000 && used_idx(f) != n; i++)
		usleep(1000);
	return used_idx(f) == n;
}

/* header | data | status as descriptors 0, 1, 2. */
static void request(struct pfx *f, uint32_t type, uint64_t sector,
    uint32_t len, bool din)
{
	uint8_t *h = g(f, BUF, 16);

	fx_w32(h, type);
	fx_w32(h + 4, 0);
	fx_w64(h + 8, sector);
	*g(f, BUF + 0x100, 1) = 0xee;
	desc(f, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	desc(f, 1, BUF + 0x1000, len, VRING_DESC_F_NEXT |
	    (din ? VRING_DESC_F_WRITE : 0), 2);
	desc(f, 2, BUF + 0x100, 1, VRING_DESC_F_WRITE, 0);
	post_and_kick(f);
}

TEST(vtblk_pci_guest_view)
{
	struct pfx *f = pfx_new("ser", "PCI-TEST", NULL, NULL, true);
	uint64_t feat, want;
	uint8_t *data;

	CHECK_EQ(f->rc, 0);
	if (f->rc != 0)
		goto out;
	/* Identity: virtio vendor, modern block device, storage class. */
	CHECK_EQ(vpci_cfg_rd(&f->p, 0x00, 2), 0x1af4);
	CHECK_EQ(vpci_cfg_rd(&f->p, 0x02, 2), 0x1040 + VIRTIO_ID_BLOCK);
	CHECK_EQ(vpci_cfg_rd(&f->p, 0x0b, 1), 0x01);
	map_bar4(f);
	feat = vpci_dev_features(&f->p);
	CHECK((feat >> VIRTIO_F_VERSION_1) & 1);
	CHECK((feat >> VIRTIO_BLK_F_FLUSH) & 1);
	CHECK((feat >> VIRTIO_BLK_F_DISCARD) & 1);
	CHECK((feat >> VIRTIO_BLK_F_WRITE_ZEROES) & 1);
	CHECK(!((feat >> VIRTIO_BLK_F_RO) & 1));
	/* Capacity through the device-config window. */
	CHECK_EQ(mr(f, DEVCFG_OFF + VTBLK_CFG_CAPACITY, 4), IMG_SIZE / 512);
	CHECK_EQ(mr(f, DEVCFG_OFF + VTBLK_CFG_CAPACITY + 4, 4), 0);
	CHECK_EQ(mr(f, DEVCFG_OFF + VTBLK_CFG_BLK_SIZE, 4), 512);
	want = feat & (1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BLK_F_FLUSH |
	    1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_RING_F_EVENT_IDX);
	CHECK(bring_up(f, want) & VIRTIO_CONFIG_S_DRIVER_OK);
	CHECK_EQ(f->qsize, 128);

	/* A read of sectors 2-3, done by the I/O thread and the workers. */
	request(f, VIRTIO_BLK_T_IN, 2, 1024, true);
	CHECK(wait_used(f, 1));
	CHECK_EQ(FX_G8(&f->p.ram, BUF + 0x100), VIRTIO_BLK_S_OK);
	CHECK_EQ(FX_G32(&f->p.ram, Q_USED + 8), 1025);
	data = g(f, BUF + 0x1000, 1024);
	CHECK(data[0] == ipat(1024) && data[1023] == ipat(2047));
	/* A write, then read back from the image file itself. */
	memset(data, 0x3c, 512);
	request(f, VIRTIO_BLK_T_OUT, 10, 512, false);
	CHECK(wait_used(f, 2));
	CHECK_EQ(FX_G8(&f->p.ram, BUF + 0x100), VIRTIO_BLK_S_OK);
	{
		uint8_t b[512];
		int fd = open(f->path, O_RDONLY);

		CHECK(fd >= 0 && pread(fd, b, 512, 5120) == 512);
		CHECK(b[0] == 0x3c && b[511] == 0x3c);
		if (fd >= 0)
			close(fd);
	}
	/* GET_ID with the configured serial. */
	request(f, VIRTIO_BLK_T_GET_ID, 0, 20, true);
	CHECK(wait_used(f, 3));
	CHECK(memcmp(g(f, BUF + 0x1000, 9), "PCI-TEST\0", 9) == 0);
	/* Reset by the driver: the status reads 0 again. */
	mw(f, CC_STATUS, 1, 0);
	CHECK_EQ(mr(f, CC_STATUS, 1), 0);
out:
	pfx_free(f);
}

TEST(vtblk_pci_read_only)
{
	struct pfx *f = pfx_new("ro", "true", "nodelete", "true", true);
	uint64_t feat;

	CHECK_EQ(f->rc, 0);
	if (f->rc == 0) {
		map_bar4(f);
		feat = vpci_dev_features(&f->p);
		CHECK((feat >> VIRTIO_BLK_F_RO) & 1);
		CHECK(!((feat >> VIRTIO_BLK_F_DISCARD) & 1));
		CHECK(!((feat >> VIRTIO_BLK_F_WRITE_ZEROES) & 1));
		CHECK(bring_up(f, feat & (1ULL << VIRTIO_F_VERSION_1 |
		    1ULL << VIRTIO_BLK_F_RO)) & VIRTIO_CONFIG_S_DRIVER_OK);
		memset(g(f, BUF + 0x1000, 512), 0x77, 512);
		request(f, VIRTIO_BLK_T_OUT, 0, 512, false);
		CHECK(wait_used(f, 1));
		CHECK_EQ(FX_G8(&f->p.ram, BUF + 0x100), VIRTIO_BLK_S_IOERR);
	}
	pfx_free(f);
}

/* Start-up errors: a bad value is a usage error, a missing file not. */
TEST(vtblk_pci_init_errors)
{
	struct pfx *f;
	int e = dup(2), n = open("/dev/null", O_WRONLY);

	dup2(n, 2);
	close(n);
	f = pfx_new("sectorsize", "4096/512", NULL, NULL, true);
	CHECK_EQ(f->rc, -EINVAL);
	pfx_free(f);
	f = pfx_new("nocache", "perhaps", NULL, NULL, true);
	CHECK_EQ(f->rc, -EINVAL);
	pfx_free(f);
	f = pfx_new("transport", "sideways", NULL, NULL, true);
	CHECK_EQ(f->rc, -EINVAL);
	pfx_free(f);
	f = pfx_new(NULL, NULL, NULL, NULL, false);
	CHECK_EQ(f->rc, -ENOENT);
	pfx_free(f);
	dup2(e, 2);
	close(e);
}
