/*
 * md5.h - MD5 (RFC 1321), for the identifiers bhyve derives from names:
 * virtio-blk's default serial "BHYVE-XXXX-XXXX-XXXX" is built from the
 * first six bytes of the MD5 of the backing path.  Not for security.
 */
#ifndef KHYVE_BACKEND_MD5_H
#define KHYVE_BACKEND_MD5_H

#include <stddef.h>
#include <stdint.h>

struct md5_ctx {
	uint32_t state[4];
	uint64_t bytes; /* message length so far */
	uint8_t buf[64];
};

void md5_init(struct md5_ctx *c);
void md5_update(struct md5_ctx *c, const void *data, size_t len);
void md5_final(struct md5_ctx *c, uint8_t digest[16]);
/* One call: digest of `len` bytes at `data`. */
void md5_digest(const void *data, size_t len, uint8_t digest[16]);

#endif
