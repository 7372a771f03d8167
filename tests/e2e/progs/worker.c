/*
 * worker.c - continuous work whose every step can be verified, for the
 * trigger and generation tests.
 *
 *   worker LOG STOPFILE [SELFIMG SELFSTEP]
 * Step n = 1, 2, ... mutates a 1 MiB heap buffer (64 bytes at a place
 * chosen by the hash), chains h(n) = mix(h(n-1), n, those bytes) (every
 * 256 steps the whole buffer too), and appends the line "n h(n)" to LOG
 * (opened O_APPEND) with one write(); then it sleeps 1 ms.  It prints
 * "READY pid" first, and when STOPFILE exists it prints
 * "DONE n h(n) pid" and exits 0.  With SELFIMG it calls
 * ckpt_save(SELFIMG) after step SELFSTEP and prints "SELF SAVED" or
 * "SELF RESTORED" (or "SELF FAILED: why").
 *
 *   worker --chain N
 * Prints the lines "n h(n)" for 1..N of an uninterrupted run, as fast as
 * it can (what every log line and DONE line must agree with).
 *
 *   worker --check LOG MAXREWINDS
 * Verifies LOG against an uninterrupted run: it starts at 1, every line
 * follows the one before (n+1) or goes back to an n already logged (a
 * restarted copy repeating work: at most MAXREWINDS times), and every
 * h(n) is the uninterrupted run's.  Prints "CHAIN ok LINES LAST REWINDS"
 * and exits 0, or "CHAIN BAD line L: why" and exits 1.
 *
 * A restarted copy repeats the steps done between the checkpoint and the
 * kill: the log then goes back to an earlier n, with the same h(n).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

#define BUFSZ (1 << 20)

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static uint64_t step(unsigned char *buf, uint64_t h, uint64_t n)
{
	size_t at = (size_t)(h % (BUFSZ - 64));

	for (int i = 0; i < 64; i++)
		buf[at + i] = (unsigned char)(buf[at + i] * 31 + n + i);
	h = fnv(h ^ (n * 0x9e3779b97f4a7c15ULL), buf + at, 64);
	if (n % 256 == 0)
		h = fnv(h, buf, BUFSZ);
	return h;
}

static unsigned char *newbuf(void)
{
	unsigned char *buf = malloc(BUFSZ);

	if (!buf)
		exit(3);
	for (size_t i = 0; i < BUFSZ; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	return buf;
}

static int check(const char *path, long maxrew)
{
	unsigned char *buf = newbuf();
	uint64_t *canon = NULL, h = 1469598103934665603ULL, max = 0, cap = 0, prev = 0;
	unsigned long n, v;
	long lineno = 0, rew = 0;
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("CHAIN BAD: cannot open %s\n", path);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (sscanf(line, "%lu %lx", &n, &v) != 2 || !strchr(line, '\n')) {
			printf("CHAIN BAD line %ld: garbled \"%s\"\n", lineno, line);
			return 1;
		}
		if (n == 0 || n > prev + 1) {
			printf("CHAIN BAD line %ld: step %lu after step %lu (lost work)\n", lineno, n,
			       (unsigned long)prev);
			return 1;
		}
		if (n <= prev && ++rew > maxrew) {
			printf("CHAIN BAD line %ld: step %lu after step %lu: %ld repeats, at most %ld restarts\n",
			       lineno, n, (unsigned long)prev, rew, maxrew);
			return 1;
		}
		while (max < n) {
			if (max == cap) {
				cap = cap ? 2 * cap : 4096;
				canon = realloc(canon, (cap + 1) * sizeof(*canon));
				if (!canon)
					return 3;
			}
			max++;
			canon[max] = h = step(buf, h, max);
		}
		if (canon[n] != v) {
			printf("CHAIN BAD line %ld: step %lu has %016lx, an uninterrupted run %016lx\n",
			       lineno, n, v, (unsigned long)canon[n]);
			return 1;
		}
		prev = n;
	}
	if (!lineno) {
		printf("CHAIN BAD: %s is empty\n", path);
		return 1;
	}
	printf("CHAIN ok %ld %lu %ld\n", lineno, (unsigned long)prev, rew);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char *buf = newbuf();
	uint64_t h = 1469598103934665603ULL, n = 0, selfstep = 0;
	char line[64];

	if (argc == 3 && !strcmp(argv[1], "--chain")) {
		uint64_t last = strtoull(argv[2], NULL, 10);

		for (n = 1; n <= last; n++) {
			h = step(buf, h, n);
			printf("%lu %016lx\n", (unsigned long)n, (unsigned long)h);
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "--check"))
		return check(argv[2], atol(argv[3]));
	if (argc != 3 && argc != 5)
		return 2;
	if (argc == 5)
		selfstep = strtoull(argv[4], NULL, 10);
	setvbuf(stdout, NULL, _IONBF, 0);
	int log = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (log < 0)
		return 3;
	printf("READY %d\n", (int)getpid());
	for (;;) {
		n++;
		h = step(buf, h, n);
		int len = snprintf(line, sizeof(line), "%lu %016lx\n", (unsigned long)n, (unsigned long)h);
		if (write(log, line, len) != len) {
			printf("log write failed: %s\n", strerror(errno));
			return 4;
		}
		if (n == selfstep) {
			int r = ckpt_save(argv[3]);

			if (r == CKPT_SAVED)
				printf("SELF SAVED\n");
			else if (r == CKPT_RESTORED)
				printf("SELF RESTORED\n");
			else
				printf("SELF FAILED: %s\n", ckpt_last_error());
		}
		if (!access(argv[2], F_OK))
			break;
		struct timespec t = { 0, 1000000 };
		nanosleep(&t, NULL);
	}
	printf("DONE %lu %016lx %d\n", (unsigned long)n, (unsigned long)h, (int)getpid());
	return 0;
}
