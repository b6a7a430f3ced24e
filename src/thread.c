/*
 * thread.c - threads on stacks THP cannot back (see thread.h).
 */
#include "thread.h"

int khyve_thread_create(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int rc;

	rc = pthread_attr_init(&attr);
	if (rc != 0)
		return rc;
	rc = pthread_attr_setstacksize(&attr, KHYVE_THREAD_STACK);
	if (rc == 0)
		rc = pthread_create(tid, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}
