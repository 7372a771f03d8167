/*
 * btthreads.c - N threads asleep three calls deep, for the cost of the
 * backtraces the checkpoint stores (tests/bench/run.sh, section
 * backtraces).  Prints "READY" once every thread is about to sleep.
 *   btthreads N
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile int placed;
static volatile unsigned long sink;

__attribute__((noinline)) static void depth3(void)
{
	struct timespec ts = { 1, 0 };

	__sync_fetch_and_add(&placed, 1);
	for (;;)
		nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void depth2(void) { depth3(); sink++; }
__attribute__((noinline)) static void *depth1(void *arg) { depth2(); sink++; return arg; }

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	pthread_attr_t a;
	pthread_t t;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	for (int i = 1; i < n; i++)
		if (pthread_create(&t, &a, depth1, NULL))
			return 1;
	while (placed < n - 1)
		;
	printf("READY\n");
	fflush(stdout);
	depth1(NULL);
	return 0;
}
