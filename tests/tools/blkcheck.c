/*
 * blkcheck - the host side of the disk crash test (t-disk-crash.sh).
 *
 *   blkcheck [-s] [-g GEN] [-l LOG] IMAGE CONSOLE
 *
 * CONSOLE is what vdisk.elf printed on COM1 before khyve was killed:
 * "w A B" (writes A..B completed with status OK) and "f N" (a flush
 * issued after every write up to N completed was acknowledged).  Only
 * whole lines count, so a line cut by the kill claims nothing.
 * A block is acknowledged if a flush covers it, or, with -s (khyve ran
 * with sync/direct: O_SYNC), as soon as its write completed.
 *
 * Checks, for every acknowledged block:
 *  1. the image holds it intact (blkpat.h, generation GEN);
 *  2. with -l (the faultio.so log of that run), it would survive a power
 *     loss: its write returned on an O_SYNC descriptor, or an fdatasync
 *     that began after the write returned succeeded (khyve's page-cache
 *     data survives SIGKILL, so check 1 alone cannot see a missing sync).
 * A console line with "FAIL" (the guest saw an error) fails too.
 * Prints one summary line; exit 0 if all hold, 1 if not, 2 on usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkpat.h"

#define MAXBLK (1u << 20)

static unsigned char *acked;
static long *wlog;  /* per block: log line index of its last write, -1 */
static char *wsync; /* that write was on an O_SYNC descriptor */
static int errors;

static void bad(const char *fmt, unsigned long a, unsigned long b)
{
	if (errors++ < 8) {
		fputs("blkcheck: ", stdout);
		printf(fmt, a, b);
		putchar('\n');
	}
}

int main(int argc, char **argv)
{
	const char *logpath = NULL;
	uint32_t gen = 0, want[BLKPAT_WORDS], got[BLKPAT_WORDS];
	bool syncmode = false;
	unsigned long a, b, lastflush = 0, nacked = 0, nintact = 0,
	    ndurable = 0, nwritten = 0, maxseq = 0;
	bool anyflush = false;
	unsigned long nlines = 1;
	long idx = 0, last_ok_begin = -1, *begin_at = NULL;
	size_t nbegin = 0;
	char line[256];
	FILE *f, *img;
	int c;

	while ((c = getopt(argc, argv, "sg:l:")) != -1) {
		switch (c) {
		case 's': syncmode = true; break;
		case 'g': gen = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'l': logpath = optarg; break;
		default: return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: blkcheck [-s] [-g GEN] [-l LOG] IMAGE "
		    "CONSOLE\n");
		return 2;
	}
	acked = calloc(MAXBLK, 1);
	wlog = malloc(MAXBLK * sizeof(*wlog));
	wsync = calloc(MAXBLK, 1);
	if (acked == NULL || wlog == NULL || wsync == NULL)
		return 2;
	for (unsigned long i = 0; i < MAXBLK; i++)
		wlog[i] = -1;

	f = fopen(argv[optind + 1], "r");
	if (f == NULL) {
		perror(argv[optind + 1]);
		return 2;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);

		if (n == 0 || line[n - 1] != '\n')
			continue; /* cut by the kill */
		if (strstr(line, "FAIL") != NULL)
			bad("the guest reported an error (console line %lu)%.0lu",
			    nlines, 0);
		nlines++;
		if (sscanf(line, "w %lu %lu", &a, &b) == 2 && a <= b &&
		    b < MAXBLK) {
			nwritten += b - a + 1;
			maxseq = b > maxseq ? b : maxseq;
			if (syncmode)
				for (unsigned long s = a; s <= b; s++)
					acked[s] = 1;
		} else if (sscanf(line, "f %lu", &a) == 1 && a < MAXBLK) {
			anyflush = true;
			lastflush = a > lastflush ? a : lastflush;
		}
	}
	fclose(f);
	if (anyflush)
		for (unsigned long s = 0; s <= lastflush; s++)
			acked[s] = 1;

	if (logpath != NULL) {
		long long off, len;
		long id;
		int sy;

		f = fopen(logpath, "r");
		if (f == NULL) {
			perror(logpath);
			return 2;
		}
		/* begin_at[id]: line index of "B id". */
		begin_at = calloc(1u << 20, sizeof(*begin_at));
		if (begin_at == NULL)
			return 2;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "W %lld %lld %d", &off, &len, &sy) == 3 &&
			    off >= 0 && len > 0) {
				for (long long s = off / BLKPAT_SIZE;
				     s * BLKPAT_SIZE < off + len && s < MAXBLK;
				     s++) {
					wlog[s] = idx;
					wsync[s] = (char)sy;
				}
			} else if (sscanf(line, "B %ld", &id) == 1 && id >= 0 &&
			    id < (1 << 20)) {
				begin_at[id] = idx;
				nbegin++;
			} else if (sscanf(line, "S %ld", &id) == 1 && id >= 0 &&
			    id < (1 << 20)) {
				if (begin_at[id] > last_ok_begin)
					last_ok_begin = begin_at[id];
			}
			idx++;
		}
		fclose(f);
	}

	img = fopen(argv[optind], "rb");
	if (img == NULL) {
		perror(argv[optind]);
		return 2;
	}
	for (unsigned long s = 0; s < MAXBLK; s++) {
		if (!acked[s])
			continue;
		nacked++;
		blkpat_fill(want, s, gen);
		if (fseek(img, (long)(s * BLKPAT_SIZE), SEEK_SET) != 0 ||
		    fread(got, 1, BLKPAT_SIZE, img) != BLKPAT_SIZE)
			bad("block %lu acknowledged but beyond the image end%.0lu",
			    s, 0);
		else if (memcmp(want, got, BLKPAT_SIZE) != 0)
			bad("block %lu acknowledged but not intact (holds seq %lu)",
			    s, (unsigned long)got[1]);
		else
			nintact++;
		if (logpath == NULL)
			continue;
		if (wlog[s] < 0)
			bad("block %lu acknowledged but never written to the "
			    "file%.0lu", s, 0);
		else if (wsync[s] || wlog[s] < last_ok_begin)
			ndurable++;
		else
			bad("block %lu acknowledged, but no fdatasync begun after "
			    "its write (log line %lu) succeeded", s,
			    (unsigned long)wlog[s]);
	}
	fclose(img);
	printf("blkcheck: %s acked %lu (written %lu, last flush %s%lu) intact "
	    "%lu", syncmode ? "sync" : "flush", nacked, nwritten,
	    anyflush ? "" : "none ", anyflush ? lastflush : 0, nintact);
	if (logpath != NULL)
		printf(" durable %lu (fdatasyncs %zu)", ndurable, nbegin);
	printf(" %s\n", errors ? "FAIL" : "ok");
	return errors ? 1 : 0;
}
