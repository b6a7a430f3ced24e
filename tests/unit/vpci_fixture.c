/* vpci_fixture.c - see vpci_fixture.h. */
#include "vpci_fixture.h"
#include "bus/pci_emul.h"
#include "config.h"
#include "pci_fixture.h"
#include "virtio/virtio.h"

int vpci_init(struct vpci *p, uint64_t ram)
{
	if (fx_init(&p->ram, ram, 0) != 0)
		return -1;
	pci_fake_vm(&p->vm);
	p->vm.mem = p->ram.m;
	p->bar4 = 0;
	config_init();
	return 0;
}

int vpci_start(struct vpci *p)
{
	return pci_emul_init(&p->vm);
}

void vpci_fini(struct vpci *p)
{
	free_vm(&p->vm);
	fx_fini(&p->ram);
	config_fini();
}

uint32_t vpci_cfg_rd(struct vpci *p, int off, int size)
{
	return cfg_rd(&p->vm, VPCI_SLOT, off, size);
}

void vpci_cfg_wr(struct vpci *p, int off, int size, uint32_t v)
{
	cfg_wr(&p->vm, VPCI_SLOT, off, size, v);
}

void vpci_map_bar4(struct vpci *p, uint16_t command)
{
	p->bar4 = (vpci_cfg_rd(p, PCIR_BAR(4), 4) & ~0xfULL) |
	    (uint64_t)vpci_cfg_rd(p, PCIR_BAR(5), 4) << 32;
	vpci_cfg_wr(p, PCIR_COMMAND, 2, command);
}

uint64_t vpci_rd(struct vpci *p, uint64_t off, int size)
{
	return mm_rd(&p->vm, p->bar4 + off, size);
}

void vpci_wr(struct vpci *p, uint64_t off, int size, uint64_t v)
{
	mm_wr(&p->vm, p->bar4 + off, size, v);
}

uint8_t *vpci_host(struct vpci *p, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(&p->vm.mem, gpa, len);
}

uint64_t vpci_dev_features(struct vpci *p)
{
	uint64_t lo;

	vpci_wr(p, CC_DFSEL, 4, 0);
	lo = vpci_rd(p, CC_DF, 4);
	vpci_wr(p, CC_DFSEL, 4, 1);
	return lo | vpci_rd(p, CC_DF, 4) << 32;
}

uint8_t vpci_negotiate(struct vpci *p, uint64_t want)
{
	vpci_wr(p, CC_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vpci_wr(p, CC_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	    VIRTIO_CONFIG_S_DRIVER);
	vpci_wr(p, CC_GFSEL, 4, 0);
	vpci_wr(p, CC_GF, 4, (uint32_t)want);
	vpci_wr(p, CC_GFSEL, 4, 1);
	vpci_wr(p, CC_GF, 4, want >> 32);
	vpci_wr(p, CC_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	    VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	return (uint8_t)vpci_rd(p, CC_STATUS, 1);
}

uint16_t vpci_queue(struct vpci *p, int q, uint16_t size, uint64_t desc,
    uint64_t avail, uint64_t used)
{
	uint16_t qsize;

	vpci_wr(p, CC_QSEL, 2, (uint64_t)q);
	if (size != 0)
		vpci_wr(p, CC_QSIZE, 2, size);
	qsize = (uint16_t)vpci_rd(p, CC_QSIZE, 2);
	vpci_wr(p, CC_QDESC, 8, desc);
	vpci_wr(p, CC_QAVAIL, 8, avail);
	vpci_wr(p, CC_QUSED, 8, used);
	vpci_wr(p, CC_QENABLE, 2, 1);
	return qsize;
}

uint8_t vpci_driver_ok(struct vpci *p)
{
	vpci_wr(p, CC_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	    VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
	    VIRTIO_CONFIG_S_DRIVER_OK);
	return (uint8_t)vpci_rd(p, CC_STATUS, 1);
}

void vpci_kick(struct vpci *p, int q)
{
	uint16_t noff;

	vpci_wr(p, CC_QSEL, 2, (uint64_t)q);
	noff = (uint16_t)vpci_rd(p, CC_QNOFF, 2);
	vpci_wr(p, NOTIFY_OFF + 4ULL * noff, 2, (uint64_t)q);
}
