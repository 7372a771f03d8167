/*
 * btstuck.c - threads stuck in known functions, for ckpt-info's
 * backtraces (tests/e2e/t_info_bt.sh):
 *   main    wait_here_main -> nanosleep, forever
 *   reader  worker_blocked_in_read -> read on a pipe nobody writes
 *   spinner spin_loop, spinning on a volatile counter
 * Prints "READY pid" once every thread is in place (the spinner has
 * spun; the reader is about to read: the test checks it is in read(2)).
 * Built twice: with .eh_frame (btstuck) and without unwind tables but
 * with frame pointers (btstuck-fp), so both ways of unwinding are used.
 * Every function is noinline and calls from inside a loop (no tail call).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int pipefd[2];
static volatile unsigned long spins;

__attribute__((noinline)) void *worker_blocked_in_read(void *arg);
__attribute__((noinline)) void *spin_loop(void *arg);
__attribute__((noinline)) void wait_here_main(void);

__attribute__((noinline)) void *worker_blocked_in_read(void *arg)
{
	char c;

	for (;;)
		if (read(pipefd[0], &c, 1) == 1)
			spins += c;
	return NULL;
}

/* not a leaf (the yield): built with frame pointers, it has a frame */
__attribute__((noinline)) void *spin_loop(void *arg)
{
	for (;;)
		if (!(++spins & 0xfffff))
			sched_yield();
	return NULL;
}

__attribute__((noinline)) void wait_here_main(void)
{
	struct timespec ts = { 1, 0 };

	for (;;)
		nanosleep(&ts, NULL);
}

int main(void)
{
	pthread_t a, b;

	if (pipe(pipefd) < 0 || pthread_create(&a, NULL, worker_blocked_in_read, NULL) ||
	    pthread_create(&b, NULL, spin_loop, NULL))
		return 1;
	while (spins < 1000)
		;
	printf("READY %d\n", getpid());
	fflush(stdout);
	wait_here_main();
	return 0;
}
