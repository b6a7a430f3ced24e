/*
 * qloader.h - QEMU's BIOS linker/loader script, the fw_cfg file
 * "etc/table-loader" (QEMU hw/acpi/bios-linker-loader.c; bhyve's
 * qemu_loader.c).  Firmware (SeaBIOS, OVMF) runs it to place fw_cfg files
 * in guest memory and link them:
 *
 *   ALLOCATE (1)      file[56], align (le32), zone (u8: 1 HIGH, 2 FSEG):
 *                     copy the whole file into guest memory, aligned.
 *   ADD_POINTER (2)   dest[56], src[56], offset (le32), size (u8: 1, 2, 4
 *                     or 8): the little-endian value of `size` bytes at
 *                     dest+offset is an offset into src; add src's guest
 *                     address to it.
 *   ADD_CHECKSUM (3)  file[56], offset (le32), start (le32), length (le32):
 *                     subtract the byte sum of [start, start+length) from
 *                     the byte at offset, so the range then sums to 0.
 *
 * Every command is 128 bytes: a le32 command word and 124 bytes of
 * arguments, zero-padded; names are NUL-terminated.  Files must be
 * allocated before they are named in a pointer or checksum command.
 *
 * The builder keeps a growing byte string.  Errors are sticky, as in
 * aml.h: after the first (-EINVAL for a bad name, size or range, -ENOMEM)
 * every call is a no-op and qloader_finish() reports it.
 */
#ifndef KHYVE_FIRMWARE_QLOADER_H
#define KHYVE_FIRMWARE_QLOADER_H

#include <stddef.h>
#include <stdint.h>

#define QLOADER_ENTRY_LEN 128
#define QLOADER_NAME_LEN 56 /* as fw_cfg file names, with the NUL */

#define QLOADER_ALLOCATE 1
#define QLOADER_ADD_POINTER 2
#define QLOADER_ADD_CHECKSUM 3

#define QLOADER_ZONE_HIGH 1
#define QLOADER_ZONE_FSEG 2

struct qloader {
	uint8_t *buf;
	size_t len, cap;
	int err;
};

void qloader_init(struct qloader *l);
void qloader_free(struct qloader *l);
/* align: a power of two; zone: QLOADER_ZONE_*. */
void qloader_allocate(struct qloader *l, const char *file, uint32_t align,
    uint8_t zone);
void qloader_add_pointer(struct qloader *l, const char *dest,
    const char *src, uint32_t offset, uint8_t size);
void qloader_add_checksum(struct qloader *l, const char *file,
    uint32_t offset, uint32_t start, uint32_t length);
/* 0 with *out, *len the script (owned by `l`), or the first error. */
int qloader_finish(struct qloader *l, const uint8_t **out, size_t *len);

/*
 * Run a script the way firmware does, for tests and tools: `files` are
 * the fw_cfg files by name, each with a host buffer standing for its
 * allocated copy and the guest address it was given (the caller does the
 * ALLOCATE placement beforehand; ALLOCATE only checks that the file is
 * known).  0, or -EINVAL for an unknown command or file, a range outside
 * its file, or a file used before its ALLOCATE.
 */
struct qloader_file {
	const char *name;
	uint8_t *data;
	size_t len;
	uint64_t addr;
	int allocated; /* set by qloader_run */
};
int qloader_run(const uint8_t *script, size_t len, struct qloader_file *files,
    int nfiles);

#endif
