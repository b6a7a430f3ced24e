/* log.c - diagnostics to stderr, safe from any thread. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

int khyve_debug;

static void vlog(int err, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return;
	/* One fprintf per message so lines from different threads don't mix. */
	if (err)
		fprintf(stderr, "khyve: %s: %s\r\n", buf, strerror(err));
	else
		fprintf(stderr, "khyve: %s\r\n", buf);
}

void khyve_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void khyve_warn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(err, fmt, ap);
	va_end(ap);
}
