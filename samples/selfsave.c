/*
 * selfsave.c - a program that checkpoints itself with ckpt_save().
 *
 *   selfsave IMAGE
 * It does some expensive start-up work (a prime sieve), saves itself, and
 * then uses the result.  Run it once: it prints "saved".  Run
 * `ckpt-restart IMAGE`: the copy skips the start-up work and goes on from
 * the ckpt_save() call, which returns CKPT_RESTORED there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ckpt.h"

#define N 5000000

int main(int argc, char **argv)
{
	char *composite = calloc(N, 1);
	int count = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: selfsave IMAGE\n");
		return 1;
	}
	for (long i = 2; i < N; i++) {
		if (composite[i])
			continue;
		count++;
		for (long j = i * i; j < N; j += i)
			composite[j] = 1;
	}
	switch (ckpt_save(argv[1])) {
	case CKPT_SAVED:
		printf("selfsave: %d primes below %d; saved to %s\n", count, N, argv[1]);
		return 0;
	case CKPT_RESTORED:
		printf("selfsave: restored: still %d primes below %d, no sieve needed\n", count, N);
		return 0;
	default:
		fprintf(stderr, "selfsave: %s\n", ckpt_last_error());
		return 1;
	}
}
