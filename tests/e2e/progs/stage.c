/*
 * stage.c - the stages of a shell pipeline whose bytes are counted
 * exactly across a checkpoint (tests/e2e/t_tree_pipeline.sh).
 *
 *   stage produce N GO   writes records 0..N-1 ("seq sum\n", each record's
 *                        sum a hash of its number) to stdout; writes a few
 *                        hundred at once, then one a millisecond until the
 *                        file GO exists, then the rest at full speed
 *   stage filter         copies stdin to stdout, each record's sum replaced
 *                        by hash(sum) (stdio buffers: bytes are held in the
 *                        filter too), counting records
 *   stage consume OUT    reads records, checks each is the next in order
 *                        and went through the filter exactly once; at EOF
 *                        writes "OK records checksum" (or "BAD ...") to OUT
 * Any loss, duplicate or reorder of a byte anywhere in the pipeline (in
 * a pipe, in a stdio buffer) breaks the order or a sum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t hash(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "produce")) {
		long n = atol(argv[2]);
		struct timespec ms = { 0, 1000000 };
		int fast = 0;

		for (long i = 0; i < n; i++) {
			printf("%ld %llu\n", i, (unsigned long long)hash((uint64_t)i));
			if (i < 300)
				continue;
			fflush(stdout);
			if (!fast && !(fast = access(argv[3], F_OK) == 0))
				nanosleep(&ms, NULL);
		}
		return fclose(stdout) != 0;
	}
	if (argc == 2 && !strcmp(argv[1], "filter")) {
		long seq;
		unsigned long long sum;

		while (scanf("%ld %llu", &seq, &sum) == 2)
			printf("%ld %llu\n", seq, (unsigned long long)hash(sum));
		return fclose(stdout) != 0;
	}
	if (argc == 3 && !strcmp(argv[1], "consume")) {
		long seq, want = 0;
		unsigned long long sum, check = 0;
		FILE *out;

		while (scanf("%ld %llu", &seq, &sum) == 2) {
			if (seq != want || sum != hash(hash((uint64_t)seq)))
				break;
			check = hash(check ^ sum);
			want++;
		}
		if (!(out = fopen(argv[2], "w")))
			return 1;
		if (!feof(stdin))
			fprintf(out, "BAD at record %ld: got %ld %llu\n", want, seq, sum);
		else
			fprintf(out, "OK %ld %llu\n", want, check);
		return fclose(out) != 0;
	}
	return 2;
}
