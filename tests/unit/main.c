/* main.c - run the registered unit tests; see test.h. */
#include <stdio.h>
#include <string.h>

#include "test.h"

const char *unit_skip_reason;

int main(int argc, char **argv)
{
	const struct unit_test *t;
	int passed = 0, failed = 0;

	LINKER_SET_FOREACH(unit_test_set, t) {
		int f = 0, want = argc < 2;

		for (int i = 1; i < argc; i++)
			want |= strcmp(argv[i], t->name) == 0;
		if (!want)
			continue;
		fflush(stdout);
		unit_skip_reason = NULL;
		t->fn(&f);
		if (!f && unit_skip_reason != NULL) {
			printf("SKIP unit/%s: %s\n", t->name, unit_skip_reason);
			continue;
		}
		printf("%s unit/%s\n", f ? "FAIL" : "PASS", t->name);
		f ? failed++ : passed++;
	}
	fflush(stdout);
	return failed ? 1 : 0;
}
