/*
 * test.h - a minimal unit-test framework.  Each TEST(name) registers itself
 * in a linker set; the runner (tests/unit/main.c) runs them all, or those
 * named on its command line, and prints "PASS name" / "FAIL name: why"
 * lines that tests/run counts.
 */
#ifndef KHYVE_TEST_H
#define KHYVE_TEST_H

#include <stdio.h>
#include <string.h>

#include "common.h"

struct unit_test {
	const char *name;
	void (*fn)(int *failed);
};

LINKER_SET_DECLARE(unit_test_set);

#define TEST(tname)                                                           \
	static void test_##tname(int *failed);                                \
	static const struct unit_test unit_##tname = {                        \
		.name = #tname, .fn = test_##tname };                         \
	LINKER_SET_ADD(unit_test_set, unit_##tname);                          \
	static void test_##tname(int *failed)

/* Record a failure but keep going, so one run shows every broken check. */
#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			printf("  %s:%d: check failed: %s\n", __FILE__,       \
			    __LINE__, #cond);                                 \
			*failed = 1;                                          \
		}                                                             \
	} while (0)

#define CHECK_EQ(a, b)                                                        \
	do {                                                                  \
		long long _a = (long long)(a), _b = (long long)(b);           \
		if (_a != _b) {                                               \
			printf("  %s:%d: %s == %lld, expected %s == %lld\n",  \
			    __FILE__, __LINE__, #a, _a, #b, _b);              \
			*failed = 1;                                          \
		}                                                             \
	} while (0)

/*
 * Skip the running test with a reason (e.g. it needs root): the runner
 * prints "SKIP unit/name: why" instead of PASS.  Only for tests that
 * cannot run here, never to hide a failure.
 */
extern const char *unit_skip_reason;
#define SKIP(why)                                                             \
	do {                                                                  \
		unit_skip_reason = (why);                                     \
		return;                                                       \
	} while (0)

#define CHECK_STR(a, b)                                                       \
	do {                                                                  \
		const char *_a = (a), *_b = (b);                              \
		if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0) {        \
			printf("  %s:%d: %s is \"%s\", expected \"%s\"\n",    \
			    __FILE__, __LINE__, #a, _a ? _a : "(null)",       \
			    _b ? _b : "(null)");                              \
			*failed = 1;                                          \
		}                                                             \
	} while (0)

#endif
