/*
 * secsave.c - a process whose image takes as long to write as the test
 * wants, for the tests of image files (t_secfiles.sh, t_seckill.sh,
 * t_secinterval.sh, t_pidhold.sh).
 *
 *   secsave MIB [cmd]
 * Fills MIB MiB of heap with pseudo-random bytes (incompressible: the
 * image is as large as the memory), prints "READY pid", then with "cmd"
 * reads commands, one a line, from stdin (a FIFO, say: fds 0-2 are not
 * saved, any other pipe or FIFO would be refused by the checkpoint):
 *   save PATH   ckpt_save(PATH): prints "SELF SAVED", "SELF RESTORED" or
 *               "SELF FAILED: <errno name>: <ckpt_last_error()>"
 *   check       prints "SUM ok" when the memory still holds what it was
 *               filled with, "SUM BAD" otherwise
 *   nodump      prctl(PR_SET_DUMPABLE, 0), prints "NODUMP"
 *   resuid R E S  setresuid(R, E, S), prints "RESUID r e s" (what it has)
 *   child       forks a child that waits for signals (in the same process
 *               group and session), prints "CHILD pid"
 * At the end of stdin (or without "cmd") it waits for signals forever.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "ckpt.h"

static uint64_t fill(uint64_t *p, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (p)
			p[i] = x;
		sum += x * (i + 1);
	}
	return sum;
}

static uint64_t sum_of(const uint64_t *p, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += p[i] * (i + 1);
	return sum;
}

int main(int argc, char **argv)
{
	size_t n;
	uint64_t *mem, want;
	char line[4200];
	FILE *cmd = NULL;

	if (argc < 2) {
		fprintf(stderr, "usage: secsave MIB [cmd]\n");
		return 2;
	}
	n = (size_t)atol(argv[1]) << 17;	/* MiB in 8-byte words */
	mem = malloc(n ? n * 8 : 8);
	if (!mem)
		return 2;
	want = fill(mem, n);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("READY %d\n", (int)getpid());
	if (argc > 2 && !strcmp(argv[2], "cmd"))
		cmd = stdin;
	while (cmd && fgets(line, sizeof(line), cmd)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "save ", 5)) {
			int r = ckpt_save(line + 5);

			if (r == CKPT_SAVED)
				printf("SELF SAVED\n");
			else if (r == CKPT_RESTORED)
				printf("SELF RESTORED\n");
			else
				printf("SELF FAILED: %s: %s\n", strerrorname_np(errno),
				       ckpt_last_error());
		} else if (!strncmp(line, "resuid ", 7)) {
			unsigned r, e, su;

			if (sscanf(line + 7, "%u %u %u", &r, &e, &su) == 3)
				setresuid(r, e, su);
			getresuid(&r, &e, &su);
			printf("RESUID %u %u %u\n", r, e, su);
		} else if (!strcmp(line, "nodump")) {
			prctl(PR_SET_DUMPABLE, 0);
			printf("NODUMP\n");
		} else if (!strcmp(line, "child")) {
			pid_t c = fork();

			if (c == 0)
				for (;;)
					pause();
			printf("CHILD %d\n", (int)c);
		} else if (!strcmp(line, "check")) {
			printf("SUM %s\n", sum_of(mem, n) == want ? "ok" : "BAD");
		}
	}
	for (;;)
		pause();
}
