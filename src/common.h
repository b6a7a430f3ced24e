/*
 * common.h - small helpers shared by every khyve source file.
 *
 * Linker sets: a component declares itself with LINKER_SET_ADD(set, obj) and
 * the code that consumes the set walks it with LINKER_SET_FOREACH.  This is
 * bhyve's <sys/linker_set.h> idiom on GNU ld: every object file that defines
 * an entry places a pointer in section "set_<name>", and ld provides
 * __start_/__stop_ symbols around it.  No hand-kept list of devices exists.
 */
#ifndef KHYVE_COMMON_H
#define KHYVE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define UNUSED __attribute__((unused))

#define LINKER_SET_ADD(set, sym)                                              \
	static const void *const __set_##set##_##sym                          \
	    __attribute__((section("set_" #set), used, aligned(8))) = &(sym)

#define LINKER_SET_DECLARE(set)                                               \
	extern const void *const __start_set_##set[]                          \
	    __attribute__((weak));                                            \
	extern const void *const __stop_set_##set[] __attribute__((weak))

/* Iterate `var` (a pointer to the element type) over every entry of `set`. */
#define LINKER_SET_FOREACH(set, var)                                          \
	for (const void *const *__it_##var = __start_set_##set;               \
	     __it_##var < __stop_set_##set &&                                  \
	     ((var) = (__typeof__(var))*__it_##var, 1);                       \
	     __it_##var++)

/*
 * Diagnostics.  Messages go to stderr with a "khyve: " prefix; they never
 * exit.  Only main() decides to exit (see DEVELOPERS.md).
 */
void khyve_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void khyve_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int khyve_debug; /* -o debug=1: extra tracing */
#define khyve_dbg(...)                                                        \
	do {                                                                  \
		if (khyve_debug)                                               \
			khyve_warnx(__VA_ARGS__);                              \
	} while (0)

/* bhyve's exit statuses (bhyve(8) EXIT STATUS).  Scripts rely on these. */
enum khyve_exit {
	KHYVE_EXIT_RESET = 0,
	KHYVE_EXIT_POWEROFF = 1,
	KHYVE_EXIT_HALT = 2,
	KHYVE_EXIT_TRIPLEFAULT = 3,
	KHYVE_EXIT_ERROR = 4,
	KHYVE_EXIT_USAGE = 64, /* EX_USAGE: bad command line or config */
};

#endif
