/*
 * lcg.c - the batch job of tests/slurm/run.sh: a computation with state
 * that takes a while and has one right answer.
 *
 * It steps a 64-bit linear congruential generator x = A*x + C, STEPS
 * steps of ITERS iterations each, and prints one line a step (the step,
 * x, the wall clock in ms) and the final x.  A run that loses or repeats
 * part of its state ends with another x.  `lcg --expect STEPS ITERS`
 * prints the x the run must end with, computed in O(log n) by the
 * generator's closed form (x_n = A^n x_0 + C (A^n - 1)/(A - 1)), so the
 * test knows the answer without doing the work.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define A  6364136223846793005ULL
#define C  1442695040888963407ULL
#define X0 42ULL

/* x after n steps from x, by repeated squaring of the affine map. */
static uint64_t lcg_skip(uint64_t x, uint64_t n)
{
	uint64_t a = A, c = C, am = 1, cm = 0;

	while (n) {
		if (n & 1) {
			am *= a;
			cm = cm * a + c;
		}
		c *= a + 1;
		a *= a;
		n >>= 1;
	}
	return am * x + cm;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	int expect = argc > 1 && strcmp(argv[1], "--expect") == 0;
	long steps, iters;
	volatile uint64_t x = X0;	/* in memory: the state the image must keep */

	if (argc != 3 + expect) {
		fprintf(stderr, "usage: lcg [--expect] STEPS ITERS\n");
		return 1;
	}
	steps = atol(argv[1 + expect]);
	iters = atol(argv[2 + expect]);
	if (expect) {
		printf("result %016llx\n", (unsigned long long)lcg_skip(X0, (uint64_t)steps * iters));
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long s = 1; s <= steps; s++) {
		uint64_t v = x;

		for (long i = 0; i < iters; i++)
			v = v * A + C;
		x = v;
		printf("step %ld of %ld x=%016llx t=%lld\n", s, steps, (unsigned long long)v, now_ms());
	}
	printf("result %016llx\n", (unsigned long long)x);
	return 0;
}
