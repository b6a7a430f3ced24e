/* thread.c - see thread.h. */
#include <errno.h>

#include "thread.h"

_Static_assert(KHYVE_THREAD_STACK < 2 * 1024 * 1024,
    "a stack that can hold a 2 MiB huge page defeats the point");

int khyve_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int rc = pthread_attr_init(&attr);

	if (rc != 0)
		return -rc;
	rc = pthread_attr_setstacksize(&attr, KHYVE_THREAD_STACK);
	if (rc == 0)
		rc = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return -rc;
}
