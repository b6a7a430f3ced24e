/*
 * blkpat.h - the numbered blocks of the disk crash test, shared by the
 * guest (tests/guests/vdisk.c) and the host checker (tests/tools/blkcheck.c).
 *
 * Block `seq` (BLKPAT_SIZE bytes at offset seq * BLKPAT_SIZE) holds 32-bit
 * little-endian words: magic, seq, gen (the run's number, so a block left
 * by another run never passes), 1020 words of xorshift32 seeded from seq
 * and gen, and a checksum of all the words before it.
 */
#ifndef BLKPAT_H
#define BLKPAT_H

#include <stdint.h>

#define BLKPAT_SIZE 4096u
#define BLKPAT_WORDS (BLKPAT_SIZE / 4)
#define BLKPAT_MAGIC 0x4244484bu /* "KHDB" */

static inline void blkpat_fill(uint32_t *w, uint32_t seq, uint32_t gen)
{
	uint32_t x = seq * 2654435761u ^ gen ^ 0x9e3779b9u, c = 0;

	if (x == 0)
		x = 1;
	w[0] = BLKPAT_MAGIC;
	w[1] = seq;
	w[2] = gen;
	for (uint32_t i = 3; i < BLKPAT_WORDS - 1; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		w[i] = x;
	}
	for (uint32_t i = 0; i < BLKPAT_WORDS - 1; i++)
		c = c * 31u + w[i];
	w[BLKPAT_WORDS - 1] = c;
}

#endif
