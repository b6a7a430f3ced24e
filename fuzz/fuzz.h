/*
 * fuzz.h - shared by the fuzz targets (fuzz/NAME_fuzz.c): a reader over the
 * fuzzer's input that never fails (an exhausted input reads as zeros), so
 * a target can take "the next field" without length checks, and helpers
 * that turn input bytes into mostly-valid values with rare hostile ones.
 *
 * Every target defines LLVMFuzzerTestOneInput(), builds its world (fake
 * guest RAM with guard pages from tests/unit/loader_fixture.h, a fake VM,
 * a device) from nothing on each call and tears it down before returning:
 * no state, thread or fd survives an input, so a run is deterministic and
 * a crash replays from its input alone.  A broken invariant calls
 * abort(), which libFuzzer reports like any crash.
 */
#ifndef KHYVE_FUZZ_FUZZ_H
#define KHYVE_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline void fz_init(struct fz *f, const uint8_t *data, size_t size)
{
	f->p = data;
	f->n = size;
}

static inline bool fz_more(const struct fz *f)
{
	return f->n > 0;
}

static inline uint8_t fz_u8(struct fz *f)
{
	uint8_t v;

	if (f->n == 0)
		return 0;
	v = *f->p++;
	f->n--;
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t lo = fz_u8(f);

	return (uint16_t)(lo | (uint16_t)fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t lo = fz_u16(f);

	return lo | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t lo = fz_u32(f);

	return lo | (uint64_t)fz_u32(f) << 32;
}

/* Copy up to `len` input bytes to dst, zero the rest; returns copied. */
static inline size_t fz_bytes(struct fz *f, void *dst, size_t len)
{
	size_t n = len < f->n ? len : f->n;

	memcpy(dst, f->p, n);
	memset((uint8_t *)dst + n, 0, len - n);
	f->p += n;
	f->n -= n;
	return n;
}

/* An access size: 1, 2, 4 (mostly) or 8, or (rarely) 3. */
static inline int fz_size(struct fz *f)
{
	static const int sizes[8] = { 1, 2, 4, 4, 1, 2, 8, 3 };

	return sizes[fz_u8(f) & 7];
}

/*
 * `usual` most of the time; one time in 16 a value from the input
 * (hostile: any 32 bits).
 */
static inline uint32_t fz_mostly(struct fz *f, uint32_t usual)
{
	return (fz_u8(f) & 0xf) == 0xf ? fz_u32(f) : usual;
}

#endif
