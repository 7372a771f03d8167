/*
 * pidns_probe.c - who a process is, and what it computed, seen from
 * inside its namespace, step by step (e2e t_pidns.sh).
 *
 *   pidns_probe LOG STOPFILE [SELFIMG SELFSTEP]
 * Prints "READY pid ppid uid gid" first.  Step n = 1, 2, ... mutates a
 * 64 KiB heap buffer, chains a hash h(n) over it, and appends one line
 *   "n h(n) pid ppid uid gid self"
 * to LOG (O_APPEND, one write), where self is what /proc/self names (the
 * pid of the /proc this process sees); then it sleeps 2 ms.  With
 * SELFIMG it calls ckpt_save(SELFIMG) after step SELFSTEP and prints
 * "SELF SAVED pid uid" or "SELF RESTORED pid uid" (or "SELF FAILED:
 * why").  When STOPFILE exists it prints "DONE n h(n) pid" and exits 0.
 *
 * h(n) depends only on n, so a restarted copy that repeats steps logs the
 * same h for the same n: a line may go back to an earlier n, never skip
 * one.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

#define BUFSZ (64 << 10)

static uint64_t step(unsigned char *buf, uint64_t h, uint64_t n)
{
	size_t at = (size_t)(h % (BUFSZ - 64));

	for (int i = 0; i < 64; i++)
		buf[at + i] = (unsigned char)(buf[at + i] * 31 + n + i);
	for (int i = 0; i < 64; i++)
		h = (h ^ buf[at + i]) * 1099511628211ULL;
	return h ^ n;
}

static int proc_self(void)
{
	char link[64];
	ssize_t k = readlink("/proc/self", link, sizeof(link) - 1);

	if (k < 0)
		return -1;
	link[k] = '\0';
	return atoi(link);
}

int main(int argc, char **argv)
{
	unsigned char *buf = calloc(1, BUFSZ);
	uint64_t h = 1469598103934665603ULL, n = 0;
	long selfstep = argc > 4 ? atol(argv[4]) : -1;
	int fd;

	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: pidns_probe LOG STOPFILE [SELFIMG SELFSTEP]\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (!buf || fd < 0) {
		perror("pidns_probe");
		return 3;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("READY %d %d %d %d\n", (int)getpid(), (int)getppid(), (int)getuid(), (int)getgid());
	while (access(argv[2], F_OK) != 0) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		char line[160];
		int len;

		h = step(buf, h, ++n);
		len = snprintf(line, sizeof(line), "%lu %016lx %d %d %d %d %d\n", (unsigned long)n,
			       (unsigned long)h, (int)getpid(), (int)getppid(), (int)getuid(),
			       (int)getgid(), proc_self());
		if (write(fd, line, len) != len) {
			perror("pidns_probe: log");
			return 3;
		}
		if ((long)n == selfstep) {
			int r = ckpt_save(argv[3]);

			if (r == CKPT_SAVED || r == CKPT_RESTORED)
				printf("SELF %s %d %d\n", r == CKPT_SAVED ? "SAVED" : "RESTORED",
				       (int)getpid(), (int)getuid());
			else
				printf("SELF FAILED: %s\n", ckpt_last_error());
		}
		while (nanosleep(&ts, &ts) < 0)
			;
	}
	printf("DONE %lu %016lx %d\n", (unsigned long)n, (unsigned long)h, (int)getpid());
	return 0;
}
