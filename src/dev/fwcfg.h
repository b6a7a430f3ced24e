/*
 * fwcfg.h - the two firmware configuration interfaces at ports
 * 0x510/0x511 (one at a time, `-l fwcfg,bhyve|qemu`, key lpc.fwcfg):
 *
 *  - bhyve's fwctl (fwctl.c; bhyve's usr.sbin/bhyve/fwctl.c): outw(0x510,
 *    0) then four inb(0x511) give the signature "BHYV"; then request
 *    messages are written as 32-bit words to 0x510 (size incl. the 12-byte
 *    header, op, transaction id, data) and the response read as 32-bit
 *    words from 0x511 (size incl. the 16-byte header, op, id, error,
 *    data).  Ops: GET_LEN (4) and GET (3) of a NUL-padded name; the one
 *    name is "hw.ncpu" (bhyve's CTL_NODE).  GET returns an 8-byte size
 *    and the value; GET_LEN the 8-byte size; unknown names ENOENT (2),
 *    names over 80 bytes E2BIG (7), other ops ENOENT.
 *
 *  - QEMU's fw_cfg (fwcfg_qemu.c; QEMU docs/specs/fw_cfg.rst): 16-bit
 *    selector at 0x510, 8-bit data at 0x511 (reads advance through the
 *    item, past its end read 0, writes are ignored), the DMA address
 *    register at 0x514 (big-endian; writing the low half at 0x518 runs
 *    the transfer; reading 0x514 gives "QEMU CFG").  Items are numbered
 *    (FWCFG_*) or named files listed in FILE_DIR (0x19).
 *
 * Both state machines take port accesses as (offset from 0x510, size,
 * direction, value) so the unit tests drive them without KVM.  Every
 * guest value is hostile: DMA descriptors are read and written only
 * through gmem_*(), a transfer must lie wholly in guest RAM, nothing the
 * guest does can overflow a buffer or stop khyve.
 */
#ifndef KHYVE_DEV_FWCFG_H
#define KHYVE_DEV_FWCFG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/mem.h"

#define FWCFG_PORT 0x510
#define FWCFG_QEMU_PORTS 12 /* 0x510 selector, 0x511 data, 0x514 DMA */
/* fwctl uses 0x510/0x511 but 32-bit accesses there (outl 0x510, inl
 * 0x511) reach up to 0x514: claim enough that the bus delivers them. */
#define FWCTL_PORTS 8

/* QEMU's item keys. */
#define FWCFG_SIGNATURE 0x00
#define FWCFG_ID 0x01
#define FWCFG_RAM_SIZE 0x03
#define FWCFG_NB_CPUS 0x05
#define FWCFG_KERNEL_SIZE 0x08
#define FWCFG_INITRD_SIZE 0x0b
#define FWCFG_MAX_CPUS 0x0f
#define FWCFG_KERNEL_DATA 0x11
#define FWCFG_INITRD_DATA 0x12
#define FWCFG_CMDLINE_SIZE 0x14
#define FWCFG_CMDLINE_DATA 0x15
#define FWCFG_FILE_DIR 0x19
#define FWCFG_FILE_FIRST 0x20
#define FWCFG_MAX_FILES 256
#define FWCFG_NAME_MAX 56 /* including the NUL */
#define FWCFG_ITEM_MAX (64u << 20) /* bound on one item (user files) */

/* ID bits and DMA control bits. */
#define FWCFG_ID_TRAD 0x1
#define FWCFG_ID_DMA 0x2
#define FWCFG_DMA_ERROR 0x01
#define FWCFG_DMA_READ 0x02
#define FWCFG_DMA_SKIP 0x04
#define FWCFG_DMA_SELECT 0x08
#define FWCFG_DMA_WRITE 0x10

struct fwcfg;

/* An empty fw_cfg with SIGNATURE, ID (with DMA) and FILE_DIR; DMA goes to
 * `mem` (NULL: no guest RAM, every DMA descriptor is unreachable). */
struct fwcfg *fwcfg_create(const struct guest_mem *mem);
void fwcfg_destroy(struct fwcfg *f);
/* Add a numbered item or a named file (the data is copied).  0, -EEXIST,
 * -EINVAL (bad key or name, too big), -ENOSPC, -ENOMEM. */
int fwcfg_add_item(struct fwcfg *f, uint16_t key, const void *data,
    uint32_t len);
int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data,
    uint32_t len);
/* A port access at FWCFG_PORT + offset (offset < FWCFG_QEMU_PORTS). */
void fwcfg_io(struct fwcfg *f, bool write, uint64_t offset, int size,
    uint64_t *val);

struct fwctl;

struct fwctl *fwctl_create(uint32_t ncpus);
void fwctl_destroy(struct fwctl *c);
/* A port access at FWCFG_PORT + offset (offset < FWCTL_PORTS). */
void fwctl_io(struct fwctl *c, bool write, uint64_t offset, int size,
    uint64_t *val);

#endif
