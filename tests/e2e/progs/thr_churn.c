/*
 * thr_churn.c - threads being created, detached and exiting all the time,
 * for checkpoints taken in the middle of it.
 *
 *   thr_churn STOPFILE
 * main creates a short-lived joinable thread and joins it (checking its
 * return value), about 1000 times a second; a spawner thread creates
 * short-lived detached threads at the same pace (at most 32 alive); a
 * worker computes a hash chain step by step.  main prints "STARTED pid"
 * and, every 64 rounds, "ITER n" and checks for STOPFILE.  Then: 10 more
 * of each kind, every detached thread must have finished (within 5 s),
 * the worker's chain must equal a recomputation.  Prints "RESULT joined
 * detached steps" and "ALL OK" (exit 0), or "BAD ..." and "FAILED".
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int stop_spawner, stop_worker;
static uint64_t det_started, det_done;	/* atomics */
static uint64_t steps, chain;		/* worker: written by it only */
static int bad;

static uint64_t mix(uint64_t h, uint64_t k)
{
	h ^= k * 0x9e3779b97f4a7c15ULL;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

static void nap(long ns)
{
	struct timespec t = { 0, ns };

	nanosleep(&t, NULL);
}

static void *short_lived(void *arg)
{
	uint64_t k = (uintptr_t)arg, h = k;

	for (int i = 0; i < 200; i++)
		h = mix(h, i);
	return (void *)(uintptr_t)h;
}

static uint64_t short_result(uint64_t k)
{
	return (uint64_t)(uintptr_t)short_lived((void *)(uintptr_t)k);
}

static void *detached(void *arg)
{
	volatile uint64_t h = (uint64_t)(uintptr_t)short_lived(arg);

	(void)h;
	__atomic_add_fetch(&det_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int spawn_detached(uint64_t k)
{
	pthread_attr_t a;
	pthread_t t;
	int e;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	__atomic_add_fetch(&det_started, 1, __ATOMIC_SEQ_CST);
	e = pthread_create(&t, &a, detached, (void *)(uintptr_t)k);
	pthread_attr_destroy(&a);
	if (e) {
		__atomic_sub_fetch(&det_started, 1, __ATOMIC_SEQ_CST);
		printf("BAD pthread_create (detached): %s\n", strerror(e));
		__atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
	}
	return e;
}

static void *spawner(void *arg)
{
	for (uint64_t k = 0; !__atomic_load_n(&stop_spawner, __ATOMIC_ACQUIRE); k++) {
		while (__atomic_load_n(&det_started, __ATOMIC_SEQ_CST) -
		       __atomic_load_n(&det_done, __ATOMIC_SEQ_CST) >= 32)
			nap(200000);
		spawn_detached(k);
		nap(1000000);
	}
	return NULL;
}

static void *worker(void *arg)
{
	uint64_t h = 1;

	while (!__atomic_load_n(&stop_worker, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < 1000; i++)
			h = mix(h, steps * 1000 + i);
		chain = h;
		__atomic_store_n(&steps, steps + 1, __ATOMIC_RELEASE);
		nap(100000);
	}
	return NULL;
}

static uint64_t joined;

static void join_one(uint64_t k)
{
	pthread_t t;
	void *ret;
	int e = pthread_create(&t, NULL, short_lived, (void *)(uintptr_t)k);

	if (e) {
		printf("BAD pthread_create: %s\n", strerror(e));
		bad++;
		return;
	}
	if ((e = pthread_join(t, &ret)) || (uint64_t)(uintptr_t)ret != short_result(k)) {
		printf("BAD join of thread %lu: %s, returned %#lx\n", (unsigned long)k,
		       strerror(e), (unsigned long)(uintptr_t)ret);
		bad++;
		return;
	}
	joined++;
}

int main(int argc, char **argv)
{
	pthread_t sp, wk;

	if (argc != 2)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_create(&wk, NULL, worker, NULL);
	pthread_create(&sp, NULL, spawner, NULL);
	printf("STARTED pid %d\n", (int)getpid());
	for (uint64_t k = 0;; k++) {
		join_one(k);
		if (k % 64 == 63) {
			printf("ITER %lu\n", (unsigned long)k + 1);
			if (!access(argv[1], F_OK))
				break;
		}
		nap(1000000);
	}
	__atomic_store_n(&stop_spawner, 1, __ATOMIC_RELEASE);
	pthread_join(sp, NULL);
	for (int i = 0; i < 10; i++) {
		join_one(1000000 + i);
		spawn_detached(i);
	}
	for (int i = 0; i < 5000 && __atomic_load_n(&det_done, __ATOMIC_SEQ_CST) !=
				    __atomic_load_n(&det_started, __ATOMIC_SEQ_CST); i++)
		nap(1000000);
	if (det_done != det_started) {
		printf("BAD detached threads: %lu started, %lu finished\n",
		       (unsigned long)det_started, (unsigned long)det_done);
		bad++;
	}
	__atomic_store_n(&stop_worker, 1, __ATOMIC_RELEASE);
	pthread_join(wk, NULL);
	uint64_t h = 1;
	for (uint64_t s = 0; s < steps; s++)
		for (int i = 0; i < 1000; i++)
			h = mix(h, s * 1000 + i);
	if (h != chain || !steps) {
		printf("BAD worker chain after %lu steps\n", (unsigned long)steps);
		bad++;
	}
	printf("RESULT %lu %lu %lu\n", (unsigned long)joined, (unsigned long)det_done,
	       (unsigned long)steps);
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}
