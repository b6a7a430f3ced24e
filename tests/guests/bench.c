/*
 * bench.elf - the guest side of bench/run (not a test): the same work
 * under khyve, QEMU and the bench's floor loop.  Timing is in TSC cycles;
 * the bench converts with the host's TSC rate.  Modes ("mode=..."):
 *
 *  idle   bring up the first virtio-blk and virtio-net functions (modern
 *         transport, queues set up, DRIVER_OK), print "bench idle", then
 *         sleep with interrupts on (the bench reads the VMM's memory).
 *  exits  "n=N" round trips each, timed one by one with rdtsc, printed
 *         as "bench exit KIND median=C min=C p25=C p75=C p90=C": pio
 *         (a read of the UART's scratch register 0x3ff, a user-space
 *         device everywhere), mmio
 *         (a read of device_feature_select in a virtio-blk's modern
 *         common configuration; without one, of "mmio=ADDR"), kick (a
 *         write to virtio-blk queue 0's doorbell, an ioeventfd, with no
 *         buffer made available, so only the exit and the wake-up cost).
 *  blk    virtio-blk throughput: 4 KiB random reads and 128 KiB
 *         sequential reads then writes, each at queue depth 1 and 32
 *         ("n4k=N", "n128k=N" requests each), polling the used ring with
 *         MSI-X interrupts on, as "bench blk NAME qd=Q n=N bytes=B
 *         cycles=C irqs=I" (I: queue interrupts the guest took).
 * Ends with pc-testdev 0x10 (status 33), or 0x11 after an error.
 */
#include "virtio.h"

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define QD_MAX 32
#define NSAMPLES 512

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct pci_dev devs[PCI_MAX_DEVS];
static int ndevs;
static struct vdev blk, net;
static uint32_t samples[NSAMPLES];

static void sort(uint32_t *a, int n)
{
	for (int i = 1; i < n; i++) {
		uint32_t v = a[i];
		int j = i;

		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

static void report(const char *kind, int n)
{
	sort(samples, n);
	/* Quartiles and p90 too: the kick's spread is bimodal. */
	printf("bench exit %s median=%u min=%u p25=%u p75=%u p90=%u\n", kind,
	    samples[n / 2], samples[0], samples[n / 4], samples[n * 3 / 4],
	    samples[n * 9 / 10]);
}

/* The first virtio function of `type`, modern, one queue per entry of
 * nq set up; false if there is none or it failed (reported). */
static bool vdev_up(struct vdev *vd, int type, int nq, uint16_t qsize,
    int vector_base)
{
	struct pci_dev *d = vio_find(devs, ndevs, type, 0);

	if (d == NULL)
		return false;
	if (vio_init(vd, d, VIO_MODERN, vio_irq_arg("irq", d),
		vector_base) != 0 || vio_negotiate(vd, 0) != 0)
		return false;
	for (int q = 0; q < nq; q++)
		if (vio_setup_vq(vd, q, qsize) != 0)
			return false;
	vio_driver_ok(vd);
	return true;
}

static void mode_exits(bool have_blk)
{
	int n = (int)cmd_num("n", 256);
	uintptr_t mmio = (uintptr_t)cmd_num("mmio", 0xd0000000u);
	volatile uint16_t *doorbell = NULL;

	if (n > NSAMPLES)
		n = NSAMPLES;
	if (n < 1)
		n = 1;
	if (have_blk) {
		mmio = blk.common;
		doorbell = (volatile uint16_t *)blk.vq[0].notify;
	}
	for (int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		(void)inb(0x3ff);
		samples[i] = (uint32_t)(rdtsc() - t0);
	}
	report("pio", n);
	for (int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		(void)mmio_read32(mmio);
		samples[i] = (uint32_t)(rdtsc() - t0);
	}
	report("mmio", n);
	if (doorbell == NULL)
		return;
	for (int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		*doorbell = 0;
		samples[i] = (uint32_t)(rdtsc() - t0);
	}
	report("kick", n);
}

/* One queue-depth-limited run of n requests; false on error. */
static bool blk_run(const char *name, uint32_t type, uint32_t bs, int qd,
    int n, bool random, uint64_t cap)
{
	static struct blk_hdr *hdr;
	static uint8_t *status, *data;
	/* 32-bit arithmetic (no libgcc): disks here are far below 2 TiB. */
	uint32_t spb = bs / 512, next = 0;
	uint32_t nblocks = (cap > 0xffffffffu ? 0xffffffffu : (uint32_t)cap) /
	    spb;
	uint32_t rnd = 12345, id, len;
	int submitted = 0, done = 0, inflight = 0;
	uint64_t t0, t1, limit;
	uint32_t irqs0 = vio_irqs(&blk, 0);
	int slot_of[VIO_MAX_QSIZE];
	int free_slots[QD_MAX], nfree = 0;

	if (hdr == NULL) {
		hdr = palloc(QD_MAX * sizeof(*hdr), 16);
		status = palloc(QD_MAX, 16);
		data = palloc(QD_MAX * (128u << 10), 4096);
	}
	if (nblocks == 0 || qd > QD_MAX) {
		printf("bench blk %s: disk too small\n", name);
		return false;
	}
	for (int s = qd - 1; s >= 0; s--)
		free_slots[nfree++] = s;
	t0 = rdtsc();
	/* Generous bound: 10^12 cycles (minutes at any clock here). */
	limit = t0 + 1000000000000ull;
	while (done < n) {
		bool added = false;

		while (submitted < n && nfree > 0) {
			int s = free_slots[--nfree], head;
			uint32_t blkno;

			if (random) {
				rnd = rnd * 1103515245u + 12345u;
				blkno = rnd % nblocks;
			} else {
				blkno = next++ % nblocks;
			}
			hdr[s] = (struct blk_hdr){ type, 0, (uint64_t)blkno * spb };
			status[s] = 0xff;
			struct vbuf b[3] = {
				{ &hdr[s], sizeof(hdr[s]), false },
				{ data + (size_t)s * (128u << 10), bs,
				    type == BLK_T_IN },
				{ &status[s], 1, true },
			};
			head = vio_add(&blk, 0, b, 3);
			if (head < 0) {
				printf("bench blk %s: queue full\n", name);
				return false;
			}
			slot_of[head] = s;
			submitted++;
			inflight++;
			added = true;
		}
		if (added)
			vio_kick(&blk, 0);
		while (!vio_poll(&blk, 0, &id, &len)) {
			if (rdtsc() > limit) {
				printf("bench blk %s: timeout, %d of %d done\n",
				    name, done, n);
				return false;
			}
			cpu_relax();
		}
		if (id >= VIO_MAX_QSIZE || status[slot_of[id]] != 0) {
			printf("bench blk %s: request failed (status %u)\n",
			    name, id < VIO_MAX_QSIZE ? status[slot_of[id]] : 0);
			return false;
		}
		free_slots[nfree++] = slot_of[id];
		inflight--;
		done++;
	}
	t1 = rdtsc();
	printf("bench blk %s qd=%d n=%d bytes=%llu cycles=%llu irqs=%u\n", name,
	    qd, n, (unsigned long long)n * bs, (unsigned long long)(t1 - t0),
	    vio_irqs(&blk, 0) - irqs0);
	return true;
}

static bool mode_blk(void)
{
	int n4k = (int)cmd_num("n4k", 512), n128k = (int)cmd_num("n128k", 64);
	uint64_t cap = vio_cfg_read(&blk, 0, 8);
	bool ok = true;

	for (int qd = 1; qd <= 32 && ok; qd += 31)
		ok = blk_run("randread-4k", BLK_T_IN, 4096, qd, n4k, true, cap);
	for (int qd = 1; qd <= 32 && ok; qd += 31)
		ok = blk_run("seqread-128k", BLK_T_IN, 128u << 10, qd, n128k,
		    false, cap);
	for (int qd = 1; qd <= 32 && ok; qd += 31)
		ok = blk_run("seqwrite-128k", BLK_T_OUT, 128u << 10, qd, n128k,
		    false, cap);
	return ok;
}

void guest_main(void)
{
	char mode[16] = "exits";
	bool have_blk;

	(void)cmd_get("mode", mode, sizeof(mode));
	ndevs = pci_scan(devs, PCI_MAX_DEVS);
	have_blk = vdev_up(&blk, VIRTIO_ID_BLOCK, 1, 128, 0x40);
	if (strcmp(mode, "idle") == 0) {
		vdev_up(&net, VIRTIO_ID_NET, 2, 256, 0x50);
		printf("bench idle blk %d net %d errors %d\n", have_blk,
		    net.vq[0].size != 0, vio_errors + pci_errors);
		irq_enable();
		for (;;)
			__asm__ volatile("hlt" ::: "memory");
	}
	if (strcmp(mode, "exits") == 0) {
		mode_exits(have_blk);
	} else if (strcmp(mode, "blk") == 0) {
		if (!have_blk || !mode_blk())
			vio_errors++;
	} else {
		printf("bench: unknown mode=%s\n", mode);
		vio_errors++;
	}
	printf("bench done errors %d\n", vio_errors + pci_errors);
	finish(vio_errors + pci_errors ? GX_FAIL : GX_OK);
}
