/*
 * test_thread.c - khyve_thread_create(): the thread runs, and its stack
 * is a mapping THP cannot back with a 2 MiB page.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "thread.h"

struct stack_info {
	long size_kb, huge_kb;
};

/* The /proc/self/smaps entry of the mapping that holds a local. */
static void *probe(void *arg)
{
	struct stack_info *si = arg;
	volatile char here = 1;
	uintptr_t a = (uintptr_t)&here;
	char line[512];
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	si->size_kb = si->huge_kb = -1;
	if (f == NULL)
		return arg;
	while (fgets(line, sizeof(line), f) != NULL) {
		uintptr_t lo, hi;
		long kb;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2 &&
		    strchr(line, ':') != NULL && line[0] != ' ') {
			in = lo <= a && a < hi;
		} else if (in && sscanf(line, "Size: %ld kB", &kb) == 1) {
			si->size_kb = kb;
		} else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1) {
			si->huge_kb = kb;
		}
	}
	fclose(f);
	return arg;
}

TEST(thread_stack_below_2m)
{
	struct stack_info si;
	pthread_t t;
	void *ret = NULL;

	CHECK_EQ(khyve_thread_create(&t, probe, &si), 0);
	CHECK_EQ(pthread_join(t, &ret), 0);
	CHECK(ret == &si);
	/* The stack's mapping: glibc's size, guard page not counted. */
	CHECK(si.size_kb > 0);
	CHECK(si.size_kb < 2048);
	CHECK(si.size_kb >= (long)(KHYVE_THREAD_STACK >> 10));
	CHECK_EQ(si.huge_kb, 0);
}
