/*
 * virtio_pci_priv.h - shared by the three files of the virtio PCI
 * transport: virtio_pci.c (set-up, threads, kicks, interrupts, the state
 * machine both register sets drive), virtio_pci_legacy.c (the I/O BAR 0
 * register block) and virtio_pci_modern.c (the vendor capabilities and
 * memory BAR 4).  Not for devices: they use virtio.h.
 *
 * Every function here runs with vd->lock held unless it says otherwise.
 */
#ifndef KHYVE_VIRTIO_VIRTIO_PCI_PRIV_H
#define KHYVE_VIRTIO_VIRTIO_PCI_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio.h"

/* BARs the transport uses. */
#define VTPCI_LEGACY_BAR 0
#define VTPCI_MSIX_BAR 1
#define VTPCI_MODERN_BAR 4 /* 64-bit: slots 4 and 5 */

/* Legacy register block in BAR 0 (bhyve's virtio.h layout). */
#define VTPCI_L_HOSTCAP 0   /* 4, RO: device features 0..31 */
#define VTPCI_L_GUESTCAP 4  /* 4: driver features 0..31 */
#define VTPCI_L_PFN 8       /* 4: queue address >> 12 */
#define VTPCI_L_QNUM 12     /* 2, RO: queue size */
#define VTPCI_L_QSEL 14     /* 2 */
#define VTPCI_L_QNOTIFY 16  /* 2 */
#define VTPCI_L_STATUS 18   /* 1 */
#define VTPCI_L_ISR 19      /* 1, read clears */
#define VTPCI_L_CFGVEC 20   /* 2, only while MSI-X is enabled */
#define VTPCI_L_QVEC 22     /* 2, only while MSI-X is enabled */
#define VTPCI_L_CFG0 20     /* device config without MSI-X */
#define VTPCI_L_CFG1 24     /* device config with MSI-X */
#define VTPCI_LEGACY_ALIGN 4096 /* legacy ring layout alignment and PFN unit */

/* Modern regions inside BAR 4, one page each. */
#define VTPCI_COMMON_OFF 0x0000
#define VTPCI_COMMON_LEN 0x38 /* struct virtio_pci_common_cfg (1.0 fields) */
#define VTPCI_ISR_OFF 0x1000
#define VTPCI_ISR_LEN 1
#define VTPCI_DEVCFG_OFF 0x2000
#define VTPCI_NOTIFY_OFF 0x3000
#define VTPCI_NOTIFY_MULT 4
#define VTPCI_MODERN_SIZE 0x4000

/* virtio_pci_cap.cfg_type (virtio 1.2 section 4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5
#define VIRTIO_PCI_CAP_LEN 16     /* struct virtio_pci_cap */
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20
#define VIRTIO_PCI_CFG_CAP_LEN 20 /* cap + pci_cfg_data[4] */
#define PCI_CAP_ID_VNDR 0x09

/* ISR bits. */
#define VTPCI_ISR_QUEUE 1
#define VTPCI_ISR_CONFIG 2

/* kick_where bits. */
#define VTPCI_KICK_LEGACY 1
#define VTPCI_KICK_MODERN 2

static inline bool vtpci_has_legacy(const struct virtio_dev *vd)
{
	return vd->transport != VIRTIO_MODERN;
}

static inline bool vtpci_has_modern(const struct virtio_dev *vd)
{
	return vd->transport != VIRTIO_LEGACY;
}

/* virtio_pci.c */
void vtpci_reset(struct virtio_dev *vd);
/* A status write; `modern_if`: through the common config (checks features). */
void vtpci_set_status(struct virtio_dev *vd, uint8_t val, bool modern_if);
/* The guest's feature choice is final (legacy GUESTCAP or FEATURES_OK). */
void vtpci_apply_features(struct virtio_dev *vd, uint64_t features);
/* Enable queue q with its addresses as set; false if refused. */
bool vtpci_queue_enable(struct virtio_dev *vd, int q);
void vtpci_queue_disable(struct virtio_dev *vd, int q);
/* The vector the guest wrote, or VIRTIO_MSI_NO_VECTOR if out of range. */
uint16_t vtpci_vector(const struct virtio_dev *vd, uint64_t v);
/* Kick queue q from a register write (any thread; no lock needed). */
void vtpci_kick(struct virtio_dev *vd, uint64_t q);
uint8_t vtpci_isr_read(struct virtio_dev *vd);
/* Device configuration, bounded by ops->cfgsize; out of range: 0/ignored. */
uint32_t vtpci_devcfg_read(struct virtio_dev *vd, uint64_t off, int size);
void vtpci_devcfg_write(struct virtio_dev *vd, uint64_t off, int size,
    uint64_t val);
/* (Un)bind the ioeventfds of queue q to the mapped doorbells. */
void vtpci_kick_bind(struct virtio_dev *vd, int q);
void vtpci_kick_unbind(struct virtio_dev *vd, int q, uint8_t which);

/* virtio_pci_legacy.c */
uint64_t vtpci_legacy_read(struct virtio_dev *vd, uint64_t off, int size);
void vtpci_legacy_write(struct virtio_dev *vd, uint64_t off, int size,
    uint64_t val);
uint64_t vtpci_legacy_barsize(const struct virtio_dev *vd);

/* virtio_pci_modern.c */
int vtpci_modern_caps(struct virtio_dev *vd);
uint64_t vtpci_modern_read(struct virtio_dev *vd, uint64_t off, int size);
void vtpci_modern_write(struct virtio_dev *vd, uint64_t off, int size,
    uint64_t val);
/* The PCI_CFG access capability's window (no lock held on entry). */
int vtpci_pcicfg_read(struct virtio_dev *vd, int offset, int bytes,
    uint32_t *val);
int vtpci_pcicfg_write(struct virtio_dev *vd, int offset, int bytes,
    uint32_t val);

/* The transitional PCI device ID for a virtio type, 0 if it has none. */
uint16_t virtio_pci_legacy_id(uint16_t type);

#endif
