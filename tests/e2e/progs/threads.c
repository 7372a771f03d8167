/*
 * threads.c - N threads computing while the process is checkpointed.
 *
 *   threads N IMAGE self    main thread calls ckpt_save(IMAGE) while all
 *                           N workers compute; the original then stops,
 *                           the restarted copy lets them run 50 ms more
 *   threads N IMAGE run     no self checkpoint: the test uses ckpt-save,
 *                           then SIGUSR2 tells main to stop the workers
 *
 * Each worker runs a deterministic integer + floating point recurrence
 * until told to stop, keeps its own TLS value and records its tid; at the
 * end it checks its tid and TLS are unchanged.  main joins every worker
 * (pthread_join needs clear_child_tid to be right after a restart) and
 * compares each result with a sequential recomputation of as many steps.
 * Prints "ALL OK" and exits 0 only if everything matches.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ckpt.h"

#define MAXT 256

static int n;
static int started;
static pid_t tids[MAXT];
static uint64_t results[MAXT], steps[MAXT];
static volatile int stop;
static double fresults[MAXT];
static int bad[MAXT];
static __thread uint64_t tls_value;

static void step(int i, uint64_t k, uint64_t *a, double *x)
{
	*a = *a * 6364136223846793005ULL + k + i;
	if ((k & 1023) == 0)
		*x = *x * 1.0000001 + (double)(*a >> 40) * 1e-9;
}

/* n steps from the start, or until stop when n is 0 (*done says how many). */
static void compute(int i, uint64_t count, uint64_t *acc, double *f, uint64_t *done)
{
	uint64_t a = i + 1, k;
	double x = 1.0 + i;

	for (k = 0; count ? k < count : !stop; k++)
		step(i, k, &a, &x);
	*acc = a;
	*f = x;
	if (done)
		*done = k;
}

static void on_usr2(int sig)
{
	stop = 1;
}

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;

	sigset_t usr2;

	/* SIGUSR2 is for main, whose pause() it must end. */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL);
	tls_value = 0x5eed0000ULL + i;
	tids[i] = syscall(SYS_gettid);
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	compute(i, 0, &results[i], &fresults[i], &steps[i]);
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
	signal(SIGUSR2, on_usr2);
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
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		printf("RESTORED at=%lu\n", (unsigned long)now.tv_sec * 1000000000 + now.tv_nsec);
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		while (nanosleep(&ts, &ts) < 0)
			;
		stop = 1;
	} else {
		while (!stop)
			pause();
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
		compute(i, steps[i], &a, &f, NULL);
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
