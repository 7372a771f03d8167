/*
 * threads.c - N threads computing while the process is checkpointed.
 *
 *   threads N IMAGE self    main thread calls ckpt_save(IMAGE) while all
 *                           N workers compute; the original then stops
 *   threads N IMAGE run     no self checkpoint: the test uses ckpt-save
 *
 * Each worker runs a deterministic integer + floating point recurrence,
 * keeps its own TLS value and records its tid; at the end it checks its
 * tid and TLS are unchanged.  main joins every worker (pthread_join needs
 * clear_child_tid to be right after a restart) and compares each result
 * with a sequential recomputation.  Prints "ALL OK" and exits 0 only if
 * everything matches.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ckpt.h"

#define MAXT 256
#define ITER 30000000ULL

static int n;
static int started;
static pid_t tids[MAXT];
static uint64_t results[MAXT];
static double fresults[MAXT];
static int bad[MAXT];
static __thread uint64_t tls_value;

static void compute(int i, uint64_t *acc, double *f)
{
	uint64_t a = i + 1;
	double x = 1.0 + i;

	for (uint64_t k = 0; k < ITER; k++) {
		a = a * 6364136223846793005ULL + k + i;
		if ((k & 1023) == 0)
			x = x * 1.0000001 + (double)(a >> 40) * 1e-9;
	}
	*acc = a;
	*f = x;
}

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;

	tls_value = 0x5eed0000ULL + i;
	tids[i] = syscall(SYS_gettid);
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	compute(i, &results[i], &fresults[i]);
	if (tls_value != 0x5eed0000ULL + (unsigned)i || tids[i] != syscall(SYS_gettid))
		bad[i] = 1;
	return (void *)(intptr_t)(i + 1);
}

int main(int argc, char **argv)
{
	pthread_t th[MAXT];
	int ok = 1;

	if (argc != 4 || (n = atoi(argv[1])) < 1 || n > MAXT)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < n)
		sched_yield();
	printf("STARTED pid %d\n", (int)getpid());
	if (!strcmp(argv[3], "self")) {
		int r = ckpt_save(argv[2]);

		if (r == CKPT_SAVED) {
			printf("SAVED\n");
			for (;;)
				pause();		/* the test kills us */
		}
		if (r != CKPT_RESTORED) {
			printf("ckpt_save failed: %s\n", ckpt_last_error());
			return 1;
		}
		printf("RESTORED\n");
	}
	for (int i = 0; i < n; i++) {
		void *ret;
		uint64_t a;
		double f;

		if (pthread_join(th[i], &ret) != 0 || ret != (void *)(intptr_t)(i + 1)) {
			printf("join of worker %d failed\n", i);
			ok = 0;
			continue;
		}
		compute(i, &a, &f);
		if (a != results[i] || f != fresults[i] || bad[i]) {
			printf("worker %d: result %s, tid/TLS %s\n", i,
			       a == results[i] && f == fresults[i] ? "ok" : "WRONG",
			       bad[i] ? "CHANGED" : "ok");
			ok = 0;
		}
	}
	printf(ok ? "ALL OK\n" : "FAILED\n");
	return ok ? 0 : 1;
}
