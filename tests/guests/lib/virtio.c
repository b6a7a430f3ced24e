/*
 * virtio.c - the test guests' virtio PCI driver (see virtio.h).
 *
 * The device is checked, not trusted: a used entry naming a descriptor
 * that is not the head of an outstanding chain, a queue size of 0 or
 * above what was offered, a vector the device refuses (reads back
 * 0xffff), FEATURES_OK not sticking, a capability pointing outside its
 * BAR: each is reported with vio_fail().  Waits are bounded.
 */
#include "virtio.h"

/* Legacy register block (virtio 0.9.5, bhyve's virtio.h). */
#define L_HOST_FEATURES 0
#define L_GUEST_FEATURES 4
#define L_QUEUE_PFN 8
#define L_QUEUE_NUM 12
#define L_QUEUE_SEL 14
#define L_QUEUE_NOTIFY 16
#define L_STATUS 18
#define L_ISR 19
#define L_CONFIG_VECTOR 20
#define L_QUEUE_VECTOR 22
#define L_CONFIG 20 /* 24 while MSI-X is enabled */

/* Modern common configuration (virtio 1.2, 4.1.4.3). */
#define C_DFSELECT 0
#define C_DF 4
#define C_GFSELECT 8
#define C_GF 12
#define C_MSIX 16
#define C_NUMQ 18
#define C_STATUS 20
#define C_CFGGEN 21
#define C_QSEL 22
#define C_QSIZE 24
#define C_QMSIX 26
#define C_QENABLE 28
#define C_QNOFF 30
#define C_QDESC 32
#define C_QDRIVER 40
#define C_QDEVICE 48

/* Vendor capability cfg_type values. */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

#define NO_VECTOR 0xffff

int vio_errors;

void vio_fail(const char *fmt, ...)
{
	va_list ap;

	vio_errors++;
	printf("virtio FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

static uint8_t r8(uintptr_t a) { return *(volatile uint8_t *)a; }
static uint16_t r16(uintptr_t a) { return *(volatile uint16_t *)a; }
static uint32_t r32(uintptr_t a) { return *(volatile uint32_t *)a; }
static void w8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static void w16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static void w32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static void w64(uintptr_t a, uint64_t v)
{
	/* The spec lets a driver write 64-bit fields as two 32-bit halves. */
	w32(a, (uint32_t)v);
	w32(a + 4, (uint32_t)(v >> 32));
}

/*
 * Transitional (legacy) PCI device IDs are a table, not a formula
 * (virtio 1.2, 4.1.2.1): net 0x1000, block 0x1001, console 0x1003,
 * entropy 0x1005.  Modern IDs are 0x1040 + type.
 */
static uint16_t legacy_id(int type)
{
	switch (type) {
	case VIRTIO_ID_NET:
		return 0x1000;
	case VIRTIO_ID_BLOCK:
		return 0x1001;
	case VIRTIO_ID_CONSOLE:
		return 0x1003;
	case VIRTIO_ID_RNG:
		return 0x1005;
	default:
		return 0xffff;
	}
}

static int type_of(uint16_t device)
{
	if (device >= 0x1040)
		return device - 0x1040;
	for (int t = 1; t <= VIRTIO_ID_RNG; t++)
		if (legacy_id(t) == device)
			return t;
	return 0;
}

struct pci_dev *vio_find(struct pci_dev *devs, int n, int type, int nth)
{
	for (int i = 0; i < n; i++) {
		if (devs[i].vendor != VIRTIO_VENDOR)
			continue;
		if (devs[i].device != legacy_id(type) &&
		    devs[i].device != 0x1040 + type)
			continue;
		if (nth-- == 0)
			return &devs[i];
	}
	return NULL;
}

enum vio_mode vio_mode_arg(const char *key)
{
	char v[16];

	if (!cmd_get(key, v, sizeof(v)) || strcmp(v, "auto") == 0)
		return VIO_AUTO;
	if (strcmp(v, "legacy") == 0)
		return VIO_LEGACY;
	if (strcmp(v, "modern") == 0)
		return VIO_MODERN;
	vio_fail("%s=%s: expected legacy, modern or auto", key, v);
	return VIO_AUTO;
}

enum vio_irq vio_irq_arg(const char *key, struct pci_dev *d)
{
	char v[16];

	if (!cmd_get(key, v, sizeof(v)))
		return d != NULL && pci_find_cap(d, PCI_CAP_MSIX, 0) ?
		    VIO_IRQ_MSIX : VIO_IRQ_NONE;
	if (strcmp(v, "msix") == 0)
		return VIO_IRQ_MSIX;
	if (strcmp(v, "msi") == 0)
		return VIO_IRQ_MSI;
	if (strcmp(v, "none") == 0)
		return VIO_IRQ_NONE;
	vio_fail("%s=%s: expected msix, msi or none", key, v);
	return VIO_IRQ_NONE;
}

uint8_t vio_status(struct vdev *vd)
{
	return vd->modern ? r8(vd->common + C_STATUS) :
	    inb((uint16_t)(vd->io + L_STATUS));
}

void vio_set_status(struct vdev *vd, uint8_t s)
{
	if (vd->modern)
		w8(vd->common + C_STATUS, s);
	else
		outb((uint16_t)(vd->io + L_STATUS), s);
}

void vio_reset(struct vdev *vd)
{
	vio_set_status(vd, 0);
	for (int i = 0; vio_status(vd) != 0; i++) {
		if (i == 1000) {
			vio_fail("device status 0x%x after reset",
			    vio_status(vd));
			break;
		}
		delay_us(100);
	}
	for (int i = 0; i < VIO_MAX_QUEUES; i++)
		vd->vq[i].size = 0;
}

/* Find the vendor capabilities of the modern transport. */
static int find_modern(struct vdev *vd)
{
	struct pci_dev *d = vd->pci;
	bool seen[5] = { false };

	for (int off = pci_find_cap(d, PCI_CAP_VENDOR, 0); off != 0;
	     off = pci_find_cap(d, PCI_CAP_VENDOR, off)) {
		uint8_t type = pci_read8(d, off + 3), bar = pci_read8(d, off + 4);
		uint32_t o = pci_read32(d, off + 8), len = pci_read32(d, off + 12);
		uintptr_t a;

		if (type < CAP_COMMON || type > CAP_DEVICE || seen[type])
			continue; /* PCI cfg access cap, or not the first */
		if (bar > 5 || (d->bar[bar].type != PCI_BAR_MEM32 &&
				   d->bar[bar].type != PCI_BAR_MEM64)) {
			vio_fail("virtio cap type %u in bar %u, not a memory "
			    "BAR", type, bar);
			return -1;
		}
		if ((uint64_t)o + len > d->bar[bar].size ||
		    d->bar[bar].addr >> 32) {
			vio_fail("virtio cap type %u (0x%x+0x%x) outside bar "
			    "%u or above 4 GiB", type, o, len, bar);
			return -1;
		}
		seen[type] = true;
		a = (uintptr_t)d->bar[bar].addr + o;
		switch (type) {
		case CAP_COMMON:
			vd->common = a;
			if (len < 56)
				vio_fail("common cfg only %u bytes", len);
			break;
		case CAP_NOTIFY:
			vd->notify_base = a;
			vd->notify_mult = pci_read32(d, off + 16);
			break;
		case CAP_ISR:
			vd->isr = a;
			break;
		case CAP_DEVICE:
			vd->devcfg = a;
			vd->devcfg_len = len;
			break;
		}
	}
	if (!seen[CAP_COMMON] || !seen[CAP_NOTIFY] || !seen[CAP_ISR]) {
		vio_fail("modern transport: capabilities common %d notify %d "
		    "isr %d", seen[CAP_COMMON], seen[CAP_NOTIFY], seen[CAP_ISR]);
		return -1;
	}
	return 0;
}

static void setup_irqs(struct vdev *vd)
{
	uint32_t apic = apic_read_id();

	if (vd->irq == VIO_IRQ_MSIX) {
		if (pci_msix_init(vd->pci, &vd->msix) != 0) {
			vd->irq = VIO_IRQ_NONE;
			return;
		}
		for (int i = 0; i < vd->msix.size && i < 1 + VIO_MAX_QUEUES;
		     i++)
			pci_msix_set(&vd->msix, i, apic,
			    (uint8_t)(vd->vector_base + i), false);
		pci_msix_enable(vd->pci, &vd->msix, true);
	} else if (vd->irq == VIO_IRQ_MSI) {
		if (pci_msi_enable(vd->pci, apic, (uint8_t)vd->vector_base))
			vd->irq = VIO_IRQ_NONE;
	}
	if (vd->irq != VIO_IRQ_NONE)
		irq_enable();
}

/* The config vector register (MSI-X only). */
static void set_config_vector(struct vdev *vd)
{
	uint16_t got;

	if (vd->irq != VIO_IRQ_MSIX)
		return;
	if (vd->modern) {
		w16(vd->common + C_MSIX, 0);
		got = r16(vd->common + C_MSIX);
	} else {
		outw((uint16_t)(vd->io + L_CONFIG_VECTOR), 0);
		got = inw((uint16_t)(vd->io + L_CONFIG_VECTOR));
	}
	if (got != 0)
		vio_fail("config MSI-X vector reads 0x%x, wrote 0", got);
}

int vio_init(struct vdev *vd, struct pci_dev *d, enum vio_mode mode,
    enum vio_irq irq, int vector_base)
{
	memset(vd, 0, sizeof(*vd));
	vd->pci = d;
	vd->irq = irq;
	vd->vector_base = vector_base;
	vd->type = type_of(d->device);
	irq_init();
	if (mode == VIO_AUTO)
		mode = pci_find_cap(d, PCI_CAP_VENDOR, 0) ? VIO_MODERN :
		    VIO_LEGACY;
	if (mode == VIO_MODERN) {
		if (find_modern(vd) != 0)
			return -1;
		vd->modern = true;
	} else {
		if (d->device >= 0x1040 || d->bar[0].type != PCI_BAR_IO) {
			vio_fail("%04x:%04x has no legacy I/O BAR 0",
			    d->vendor, d->device);
			return -1;
		}
		vd->io = (uint16_t)d->bar[0].addr;
	}
	pci_command(d, (uint16_t)(PCI_CMD_MASTER |
	    (vd->modern ? PCI_CMD_MEM : PCI_CMD_IO)), 0);
	vio_reset(vd);
	setup_irqs(vd);
	vio_set_status(vd, VIRTIO_S_ACKNOWLEDGE);
	vio_set_status(vd, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	if (vd->modern) {
		w32(vd->common + C_DFSELECT, 0);
		vd->dev_features = r32(vd->common + C_DF);
		w32(vd->common + C_DFSELECT, 1);
		vd->dev_features |= (uint64_t)r32(vd->common + C_DF) << 32;
	} else {
		vd->dev_features = inl((uint16_t)(vd->io + L_HOST_FEATURES));
	}
	set_config_vector(vd);
	return 0;
}

int vio_negotiate(struct vdev *vd, uint64_t want)
{
	uint8_t s;

	if (vd->modern) {
		if (!(vd->dev_features >> VIRTIO_F_VERSION_1 & 1)) {
			vio_fail("modern device does not offer VERSION_1");
			return -1;
		}
		want |= 1ull << VIRTIO_F_VERSION_1;
	}
	vd->features = vd->dev_features & want;
	if (!vd->modern) {
		outl((uint16_t)(vd->io + L_GUEST_FEATURES),
		    (uint32_t)vd->features);
		return 0;
	}
	w32(vd->common + C_GFSELECT, 0);
	w32(vd->common + C_GF, (uint32_t)vd->features);
	w32(vd->common + C_GFSELECT, 1);
	w32(vd->common + C_GF, (uint32_t)(vd->features >> 32));
	s = vio_status(vd);
	vio_set_status(vd, s | VIRTIO_S_FEATURES_OK);
	s = vio_status(vd);
	if (!(s & VIRTIO_S_FEATURES_OK)) {
		vio_fail("FEATURES_OK not accepted (status 0x%x)", s);
		vio_set_status(vd, s | VIRTIO_S_FAILED);
		return -1;
	}
	return 0;
}

int vio_setup_vq(struct vdev *vd, int qi, uint16_t max)
{
	struct vq *q = &vd->vq[qi];
	uint16_t size, vec = NO_VECTOR, got;
	uint32_t avail_off, used_off;
	uint8_t *mem;

	if (qi < 0 || qi >= VIO_MAX_QUEUES)
		return -1;
	memset(q, 0, sizeof(*q));
	q->index = qi;
	q->vector = -1;
	if (vd->modern) {
		w16(vd->common + C_QSEL, (uint16_t)qi);
		size = r16(vd->common + C_QSIZE);
	} else {
		outw((uint16_t)(vd->io + L_QUEUE_SEL), (uint16_t)qi);
		size = inw((uint16_t)(vd->io + L_QUEUE_NUM));
	}
	if (size == 0) {
		vio_fail("queue %d: size 0", qi);
		return -1;
	}
	if (vd->modern) {
		/* Any size up to the offered one; keep a power of two. */
		while (size > max || size > VIO_MAX_QSIZE ||
		    (size & (size - 1)))
			size = (uint16_t)(1u << (31 - __builtin_clz(size - 1u)));
		w16(vd->common + C_QSIZE, size);
	} else if (size > VIO_MAX_QSIZE || (size & (size - 1))) {
		vio_fail("legacy queue %d: size %u (not a power of two or "
		    "above %d)", qi, size, VIO_MAX_QSIZE);
		return -1;
	}
	/* Legacy layout (also fine for modern): used ring 4096-aligned. */
	avail_off = 16u * size;
	used_off = (avail_off + 6 + 2u * size + 4095) & ~4095u;
	mem = palloc(used_off + 6 + 8u * size, 4096);
	q->size = size;
	q->desc = (volatile struct vring_desc *)mem;
	q->avail = (volatile struct vring_avail *)(mem + avail_off);
	q->used = (volatile struct vring_used *)(mem + used_off);
	for (uint16_t i = 0; i < size; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->num_free = size;
	if (vd->irq == VIO_IRQ_MSIX) {
		/* Entry 1 + qi, or all queues on entry 1 (or 0) when the
		 * table is smaller than that. */
		vec = (uint16_t)(vd->msix.size > 1 + qi ? 1 + qi :
		    vd->msix.size > 1 ? 1 : 0);
		q->vector = vd->vector_base + vec;
	} else if (vd->irq == VIO_IRQ_MSI) {
		q->vector = vd->vector_base;
	}
	if (vd->modern) {
		w64(vd->common + C_QDESC, (uintptr_t)q->desc);
		w64(vd->common + C_QDRIVER, (uintptr_t)q->avail);
		w64(vd->common + C_QDEVICE, (uintptr_t)q->used);
		if (vd->irq == VIO_IRQ_MSIX) {
			w16(vd->common + C_QMSIX, vec);
			got = r16(vd->common + C_QMSIX);
			if (got != vec)
				vio_fail("queue %d MSI-X vector reads 0x%x, "
				    "wrote 0x%x", qi, got, vec);
		}
		q->notify = vd->notify_base +
		    (uintptr_t)r16(vd->common + C_QNOFF) * vd->notify_mult;
		w16(vd->common + C_QENABLE, 1);
		if (r16(vd->common + C_QENABLE) != 1)
			vio_fail("queue %d: queue_enable does not read 1", qi);
	} else {
		outl((uint16_t)(vd->io + L_QUEUE_PFN), (uintptr_t)mem >> 12);
		if (inl((uint16_t)(vd->io + L_QUEUE_PFN)) != (uintptr_t)mem >> 12)
			vio_fail("queue %d: PFN does not read back", qi);
		if (vd->irq == VIO_IRQ_MSIX) {
			outw((uint16_t)(vd->io + L_QUEUE_VECTOR), vec);
			got = inw((uint16_t)(vd->io + L_QUEUE_VECTOR));
			if (got != vec)
				vio_fail("queue %d MSI-X vector reads 0x%x, "
				    "wrote 0x%x", qi, got, vec);
		}
	}
	return 0;
}

void vio_driver_ok(struct vdev *vd)
{
	vio_set_status(vd, vio_status(vd) | VIRTIO_S_DRIVER_OK);
}

static uint32_t cfg_off(struct vdev *vd, uint32_t off)
{
	return L_CONFIG + (vd->irq == VIO_IRQ_MSIX ? 4 : 0) + off;
}

static uint64_t cfg_raw(struct vdev *vd, uint32_t off, int size)
{
	if (vd->modern) {
		if (vd->devcfg == 0 || off + (uint32_t)size > vd->devcfg_len) {
			vio_fail("device config 0x%x+%d outside its %u bytes",
			    off, size, vd->devcfg_len);
			return 0;
		}
		switch (size) {
		case 1:
			return r8(vd->devcfg + off);
		case 2:
			return r16(vd->devcfg + off);
		case 4:
			return r32(vd->devcfg + off);
		default:
			return r32(vd->devcfg + off) |
			    (uint64_t)r32(vd->devcfg + off + 4) << 32;
		}
	}
	uint16_t p = (uint16_t)(vd->io + cfg_off(vd, off));

	switch (size) {
	case 1:
		return inb(p);
	case 2:
		return inw(p);
	case 4:
		return inl(p);
	default:
		return inl(p) | (uint64_t)inl((uint16_t)(p + 4)) << 32;
	}
}

uint64_t vio_cfg_read(struct vdev *vd, uint32_t off, int size)
{
	uint8_t gen;
	uint64_t v;

	if (!vd->modern)
		return cfg_raw(vd, off, size);
	/* Retry while the configuration generation changes under us. */
	for (int i = 0; i < 10; i++) {
		gen = r8(vd->common + C_CFGGEN);
		v = cfg_raw(vd, off, size);
		if (r8(vd->common + C_CFGGEN) == gen)
			return v;
	}
	vio_fail("config generation never settles");
	return v;
}

void vio_cfg_write(struct vdev *vd, uint32_t off, int size, uint32_t v)
{
	if (vd->modern) {
		if (vd->devcfg == 0 || off + (uint32_t)size > vd->devcfg_len) {
			vio_fail("device config write 0x%x+%d outside", off,
			    size);
			return;
		}
		if (size == 1)
			w8(vd->devcfg + off, (uint8_t)v);
		else if (size == 2)
			w16(vd->devcfg + off, (uint16_t)v);
		else
			w32(vd->devcfg + off, v);
		return;
	}
	uint16_t p = (uint16_t)(vd->io + cfg_off(vd, off));

	if (size == 1)
		outb(p, (uint8_t)v);
	else if (size == 2)
		outw(p, (uint16_t)v);
	else
		outl(p, v);
}

int vio_add(struct vdev *vd, int qi, const struct vbuf *b, int n)
{
	struct vq *q = &vd->vq[qi];
	uint16_t head, i, last = 0;

	if (q->size == 0 || n < 1 || n > q->num_free)
		return -1;
	head = i = q->free_head;
	for (int k = 0; k < n; k++) {
		last = i;
		q->desc[i].addr = (uintptr_t)b[k].addr;
		q->desc[i].len = b[k].len;
		q->desc[i].flags = (uint16_t)((b[k].write ? VRING_DESC_F_WRITE :
		    0) | (k + 1 < n ? VRING_DESC_F_NEXT : 0));
		/* Free descriptors are linked in order: next stays. */
		i = q->desc[i].next;
	}
	q->free_head = i;
	q->num_free = (uint16_t)(q->num_free - n);
	q->chain_len[head] = (uint16_t)n;
	(void)last;
	q->avail->ring[q->avail_idx % q->size] = head;
	barrier();
	q->avail_idx++;
	q->avail->idx = q->avail_idx;
	barrier();
	return head;
}

void vio_kick(struct vdev *vd, int qi)
{
	__asm__ volatile("mfence" ::: "memory");
	if (vd->modern)
		w16(vd->vq[qi].notify, (uint16_t)qi);
	else
		outw((uint16_t)(vd->io + L_QUEUE_NOTIFY), (uint16_t)qi);
}

void vio_publish(struct vdev *vd, int qi, uint16_t head)
{
	struct vq *q = &vd->vq[qi];

	q->avail->ring[q->avail_idx % q->size] = head;
	barrier();
	q->avail_idx++;
	q->avail->idx = q->avail_idx;
	vio_kick(vd, qi);
}

bool vio_poll(struct vdev *vd, int qi, uint32_t *id, uint32_t *len)
{
	struct vq *q = &vd->vq[qi];
	uint32_t i, l;
	uint16_t n, d;

	if (q->size == 0 || q->used->idx == q->last_used)
		return false;
	barrier();
	i = q->used->ring[q->last_used % q->size].id;
	l = q->used->ring[q->last_used % q->size].len;
	q->last_used++;
	if (id)
		*id = i;
	if (len)
		*len = l;
	if (i >= q->size || q->chain_len[i] == 0) {
		vio_fail("queue %d: used entry names descriptor %u, not an "
		    "outstanding head", qi, i);
		return true;
	}
	/* Give the chain back: its descriptors are linked by next. */
	n = q->chain_len[i];
	q->chain_len[i] = 0;
	d = (uint16_t)i;
	for (uint16_t k = 1; k < n; k++)
		d = q->desc[d].next;
	q->desc[d].next = q->free_head;
	q->free_head = (uint16_t)i;
	q->num_free = (uint16_t)(q->num_free + n);
	return true;
}

bool vio_wait(struct vdev *vd, int qi, uint32_t *id, uint32_t *len,
    uint32_t timeout_ms)
{
	for (uint32_t t = 0; t <= timeout_ms * 10; t++) {
		if (vio_poll(vd, qi, id, len))
			return true;
		delay_us(100);
	}
	return false;
}

uint32_t vio_irqs(struct vdev *vd, int qi)
{
	int v = vd->vq[qi].vector;

	return v < 0 ? 0 : irq_count[v];
}

uint32_t vio_config_irqs(struct vdev *vd)
{
	return vd->irq == VIO_IRQ_NONE ? 0 : irq_count[vd->vector_base];
}

int64_t vio_request(struct vdev *vd, int qi, const struct vbuf *b, int n,
    uint32_t timeout_ms)
{
	uint32_t before = vio_irqs(vd, qi), id, len;
	int head = vio_add(vd, qi, b, n);

	if (head < 0) {
		vio_fail("queue %d: no room for a %d-descriptor chain", qi, n);
		return -1;
	}
	vio_kick(vd, qi);
	if (!vio_wait(vd, qi, &id, &len, timeout_ms)) {
		vio_fail("queue %d: request not completed after %u ms "
		    "(status 0x%x)", qi, timeout_ms, vio_status(vd));
		return -1;
	}
	if (id != (uint32_t)head)
		vio_fail("queue %d: completed head %u, expected %d", qi, id,
		    head);
	if (vd->vq[qi].vector >= 0 &&
	    !irq_wait(vd->vq[qi].vector, before + 1, 2000))
		vio_fail("queue %d: no interrupt on vector 0x%x", qi,
		    vd->vq[qi].vector);
	return len;
}

void vio_print(struct vdev *vd, const char *prefix)
{
	static const char *const irqs[] = { "none", "msix", "msi" };

	printf("%s: %02x:%02x.%x %04x:%04x transport %s irq %s features "
	       "0x%llx negotiated 0x%llx\n",
	    prefix, vd->pci->bus, vd->pci->dev, vd->pci->fn, vd->pci->vendor,
	    vd->pci->device, vd->modern ? "modern" : "legacy", irqs[vd->irq],
	    (unsigned long long)vd->dev_features,
	    (unsigned long long)vd->features);
}
