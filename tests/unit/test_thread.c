/* khyve_thread_create: every khyve thread gets the small stack thread.h
 * promises (below 2 MiB, so no transparent huge page fits in it). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "thread.h"

struct seen {
	size_t stacksize;
	uintptr_t lo, hi, local;
};

static void *probe(void *arg)
{
	struct seen *s = arg;
	pthread_attr_t attr;
	void *addr;
	char here;

	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &s->stacksize);
		s->lo = (uintptr_t)addr;
		s->hi = s->lo + s->stacksize;
		pthread_attr_destroy(&attr);
	}
	s->local = (uintptr_t)&here;
	return s;
}

TEST(thread_small_stack)
{
	struct seen s;
	pthread_t t;
	void *ret = NULL;

	memset(&s, 0, sizeof(s));
	CHECK_EQ(khyve_thread_create(&t, probe, &s), 0);
	CHECK_EQ(pthread_join(t, &ret), 0);
	CHECK(ret == &s);
	CHECK_EQ(s.stacksize, KHYVE_THREAD_STACK);
	CHECK(s.local >= s.lo && s.local < s.hi);
}
