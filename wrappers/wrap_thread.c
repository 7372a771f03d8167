/*
 * wrap_thread.c - pthread_create, so that a new thread starts with its
 * creator's view of the signals libckpt reserves.
 *
 * The kernel gives a new thread its creator's signal mask; the wrappers
 * keep, per thread, which reserved signals the application believes it
 * blocked (they are never blocked in the kernel).  Without this wrapper a
 * thread made while the application blocked everything would see the
 * reserved signals unblocked in its inherited mask.
 *
 * It also hands the new thread its creator's seccomp filter chain as
 * libckpt recorded it (libckpt/reg_attr.h): the kernel gives a thread its
 * creator's filters.
 *
 * Threads are not registered anywhere: the checkpoint finds them in
 * /proc/self/task (libckpt/ckpt_park.c), which also sees threads made
 * by raw clone() or before libckpt was loaded.
 *
 * Cost: one malloc and free per thread created.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include "libckpt/reg_attr.h"
#include "wrappers/wrap.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static create_fn real_pthread_create;

struct wrap_start {
	void *(*fn)(void *);
	void *arg;
	uint64_t view;
	uint64_t reg_view;		/* the creator's seccomp leaf (reg_attr.h) */
};

__attribute__((constructor)) static void wrap_thread_init(void)
{
	real_pthread_create = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
}

static void *wrap_thread_start(void *p)
{
	struct wrap_start s = *(struct wrap_start *)p;

	free(p);
	wrap_sig_inherit(s.view);
	reg_thread_start(s.reg_view);
	return s.fn(s.arg);
}

WRAP_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr,
			       void *(*fn)(void *), void *arg)
{
	create_fn real = __atomic_load_n(&real_pthread_create, __ATOMIC_RELAXED);
	struct wrap_start *s;
	int saved = errno, r;

	if (!real) {
		real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
		__atomic_store_n(&real_pthread_create, real, __ATOMIC_RELAXED);
	}
	s = malloc(sizeof(*s));
	if (!s) {
		errno = saved;
		return EAGAIN;
	}
	s->fn = fn;
	s->arg = arg;
	s->view = wrap_sig_view();
	s->reg_view = reg_thread_view();
	r = real(t, attr, wrap_thread_start, s);
	if (r)
		free(s);
	errno = saved;
	return r;
}
