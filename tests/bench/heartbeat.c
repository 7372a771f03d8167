/*
 * heartbeat.c - how long a checkpoint stops the application.
 *
 *   heartbeat MIB SECONDS
 * Fills MIB MiB (incompressible), prints "READY", then for SECONDS wakes
 * every 0.2 ms and records the longest gap between two wake-ups; prints
 * "maxgap_ms N" at the end.  A checkpoint taken meanwhile shows as the
 * gap.  (A tight loop would measure the same; sleeping leaves the cores
 * to the checkpoint's writer, as a real service would.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int64_t now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	size_t n = (size_t)atol(argv[1]) << 20;
	uint64_t *b = malloc(n), x = 88172645463325252ULL;
	int64_t last, end, maxgap = 0;

	for (size_t i = 0; i < n / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = x;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("READY %d\n", (int)getpid());
	last = now();
	end = last + (int64_t)atoi(argv[2]) * 1000000000LL;
	while (last < end) {
		struct timespec ts = { 0, 200000 };
		int64_t t = now();

		if (t - last > maxgap)
			maxgap = t - last;
		last = t;
		nanosleep(&ts, NULL);
	}
	printf("maxgap_ms %.2f\n", maxgap / 1e6);
	return 0;
}
