/*
 * counter.c - the demo: a program that knows nothing about libckpt.
 *
 * It counts, keeping a running total in memory, and prints one line a
 * tick.  Run it under ckpt-run, checkpoint it with ckpt-save, kill it, and
 * ckpt-restart brings it back: the count goes on from where it was, with
 * the same pid and the same total.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int ticks = argc > 1 ? atoi(argv[1]) : 10;
	unsigned long total = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i <= ticks; i++) {
		struct timespec ts = { 0, 300 * 1000 * 1000 };

		total += (unsigned long)i * i;
		printf("counter: tick %d of %d, total %lu (pid %d)\n", i, ticks, total,
		       (int)getpid());
		while (nanosleep(&ts, &ts) < 0)
			;		/* a checkpoint signal interrupts it: sleep the rest */
	}
	printf("counter: done, total %lu\n", total);
	return 0;
}
