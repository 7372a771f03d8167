/*
 * sparse.c - the checkpoint and restart of a sparse reservation: what
 * ASan's shadow, Go's arenas and JVMs' heaps look like.
 *
 *   sparse TIB IMAGE
 * Maps TIB TiB of MAP_NORESERVE memory, writes 5 pages of it (the first,
 * the last and three between), times ckpt_save(IMAGE) and prints
 * "save_ns N".  The restarted copy prints "RESTORED at=N" (CLOCK_REALTIME
 * ns: the caller compares it with when it started ckpt-restart) and
 * checks the 5 pages ("verify ok|BAD").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include "ckpt.h"

static uint64_t now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	size_t len = (size_t)atol(argv[1]) << 40, off[5];
	char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t t0;
	int r, bad = 0;

	if (argc != 3 || a == MAP_FAILED) {
		perror("sparse: mmap");
		return 2;
	}
	for (int i = 0; i < 5; i++) {
		off[i] = i == 4 ? len - 4096 : (len / 4 * i) & ~(size_t)4095;
		a[off[i]] = (char)('A' + i);
	}
	t0 = now(CLOCK_MONOTONIC);
	r = ckpt_save(argv[2]);
	if (r == CKPT_SAVED) {
		printf("save_ns %llu\n", (unsigned long long)(now(CLOCK_MONOTONIC) - t0));
		return 0;
	}
	if (r != CKPT_RESTORED) {
		fprintf(stderr, "sparse: %s\n", ckpt_last_error());
		return 1;
	}
	printf("RESTORED at=%llu\n", (unsigned long long)now(CLOCK_REALTIME));
	for (int i = 0; i < 5; i++)
		bad |= a[off[i]] != 'A' + i;
	printf("verify %s\n", bad ? "BAD" : "ok");
	return bad;
}
