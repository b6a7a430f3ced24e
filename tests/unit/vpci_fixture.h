/*
 * vpci_fixture.h - a virtio device as a guest driver meets it, for the
 * unit tests that run one end to end without KVM (test_virtio_blk_pci.c,
 * test_virtio_net_pci.c): guarded fake RAM (loader_fixture.h) as the
 * memory of a VM without KVM (pci_fixture.h), the real PCI core building
 * the device from the configuration tree, and the driver's side of the
 * modern transport: configuration cycles for VPCI_SLOT, the registers
 * in BAR 4, feature negotiation, queue set-up and doorbells.
 *
 * Use: vpci_init, set the configuration (pci.0.4.0.*), vpci_start; then
 * vpci_map_bar4 before any register access; vpci_fini in every case.
 */
#ifndef KHYVE_TEST_VPCI_FIXTURE_H
#define KHYVE_TEST_VPCI_FIXTURE_H

#include <stdint.h>

#include "loader_fixture.h"
#include "vmm/vm.h"

#define VPCI_SLOT 4

/* Modern common configuration (virtio 1.2 4.1.4.3) in BAR 4, and the
 * other windows khyve puts there. */
#define CC_DFSEL 0x00
#define CC_DF 0x04
#define CC_GFSEL 0x08
#define CC_GF 0x0c
#define CC_STATUS 0x14
#define CC_QSEL 0x16
#define CC_QSIZE 0x18
#define CC_QENABLE 0x1c
#define CC_QNOFF 0x1e
#define CC_QDESC 0x20
#define CC_QAVAIL 0x28
#define CC_QUSED 0x30
#define DEVCFG_OFF 0x2000
#define NOTIFY_OFF 0x3000

struct vpci {
	struct fx_mem ram;
	struct vm vm;
	uint64_t bar4; /* the register BAR, as the core placed it */
};

/* `ram` bytes of fake low RAM, the fake VM, an empty configuration.
 * 0 or -1 (nothing to undo then). */
int vpci_init(struct vpci *p, uint64_t ram);
/* pci_emul_init on the configuration set since vpci_init. */
int vpci_start(struct vpci *p);
/* Devices, buses, RAM and configuration, whatever vpci_start returned. */
void vpci_fini(struct vpci *p);

/* VPCI_SLOT's configuration space through 0xCF8/0xCFC. */
uint32_t vpci_cfg_rd(struct vpci *p, int off, int size);
void vpci_cfg_wr(struct vpci *p, int off, int size, uint32_t v);
/* Note BAR 4's address, then write `command` (decode enables). */
void vpci_map_bar4(struct vpci *p, uint16_t command);
/* BAR 4 at `off`. */
uint64_t vpci_rd(struct vpci *p, uint64_t off, int size);
void vpci_wr(struct vpci *p, uint64_t off, int size, uint64_t v);
/* Host pointer for guest RAM [gpa, gpa + len), NULL outside it. */
uint8_t *vpci_host(struct vpci *p, uint64_t gpa, uint64_t len);

/* All 64 device feature bits. */
uint64_t vpci_dev_features(struct vpci *p);
/* ACKNOWLEDGE, DRIVER, driver features `want`, FEATURES_OK; returns the
 * status read back (FEATURES_OK cleared if the device refused). */
uint8_t vpci_negotiate(struct vpci *p, uint64_t want);
/* Queue q's rings at desc/avail/used, size `size` (0: the device's),
 * enabled; returns the queue size read back. */
uint16_t vpci_queue(struct vpci *p, int q, uint16_t size, uint64_t desc,
    uint64_t avail, uint64_t used);
/* DRIVER_OK on top of the above; returns the status read back. */
uint8_t vpci_driver_ok(struct vpci *p);
/* Ring queue q's doorbell (selects q). */
void vpci_kick(struct vpci *p, int q);

#endif
