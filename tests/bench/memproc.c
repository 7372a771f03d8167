/*
 * memproc.c - the checkpoint/restart benchmark's workload.
 *
 *   memproc MIB IMAGE
 * Fills MIB MiB of heap, checksums it, and saves itself with
 * ckpt_save_opts(IMAGE), timing the call while a second thread beats
 * every 1 ms (its longest gap is how long the application stood still).
 * The restarted copy prints when it is running again (CLOCK_REALTIME, to
 * compare with the time the restart began) and when it has read back and
 * verified every byte.
 *
 * Environment:
 *   MEMPROC_FLAGS   ckpt_options.flags of the timed save (CKPT_OPT_*)
 *   MEMPROC_DATA    mixed (default: half random bytes, half text-like
 *                   words) or zero (every page written with zeros)
 *   MEMPROC_LIMITS  a directory: first measure, on the same bytes, the
 *                   limits a checkpoint is compared with: memcpy, write()
 *                   to the page cache (a file there, removed), fork()
 *   MEMPROC_DIRTY   PCT: save IMAGE.base first (the same flags: with
 *                   CKPT_OPT_INCREMENTAL a full image that starts the
 *                   dirty tracking), change one word in PCT % of the
 *                   pages, and time the save of IMAGE after that
 *
 * Output lines (key value): memcpy_ns, write_ns, fork_ns (limits);
 * save_ns (the call), done_ns (until IMAGE exists: later than save_ns
 * with CKPT_OPT_FORK), pause_ns (longest heartbeat gap around the save),
 * save_cpu_ns (CPU time of this process's threads during the call: the
 * whole save in place, not a forked copy's writing);
 * restored: running_at_ns, verified_at_ns, verify ok|BAD.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

#define MEMPROC_CHUNK	(64u << 20)	/* memcpy limit: into one buffer this size */

static volatile int beat_armed, beat_stop;
static volatile uint64_t beat_max;

static uint64_t now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* User and system CPU time of every thread of this process, in ns. */
static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((uint64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static uint64_t sum(const uint64_t *p, size_t n)
{
	uint64_t h = 0;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* The heartbeat: the longest gap between two beats while armed. */
static void *beat(void *arg)
{
	struct timespec ms = { 0, 1000000 };
	uint64_t last = now(CLOCK_MONOTONIC);

	while (!beat_stop) {
		nanosleep(&ms, NULL);
		uint64_t t = now(CLOCK_MONOTONIC);

		if (beat_armed && t - last > beat_max)
			beat_max = t - last;
		last = t;
	}
	return arg;
}

static void fill(unsigned char *buf, size_t len, int zero)
{
	static const char *words[] = { "checkpoint ", "restart ", "memory ", "page ",
				       "the ", "of ", "process ", "image ", "and ", "kernel\n" };
	uint64_t x = 88172645463325252ULL;
	size_t half = len / 2;

	if (zero) {
		memset(buf, 0, len);
		return;
	}
	for (size_t i = 0; i < half / 8; i++) {		/* xorshift: incompressible */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		((uint64_t *)buf)[i] = x;
	}
	for (size_t i = half; i < len;) {		/* text: compresses ~3-5x */
		const char *w = words[(i * 7 + (i >> 9)) % 10];
		size_t n = strlen(w);

		if (n > len - i)
			n = len - i;
		memcpy(buf + i, w, n);
		i += n;
	}
}

/* memcpy, page-cache write and fork of the same bytes, in ns. */
static void limits(const char *dir, const unsigned char *buf, size_t len)
{
	char path[4096];
	unsigned char *dst = malloc(MEMPROC_CHUNK);
	uint64_t t0;
	int fd;

	memset(dst, 1, MEMPROC_CHUNK);		/* its page faults are not memcpy's */
	t0 = now(CLOCK_MONOTONIC);
	for (size_t off = 0; off < len; off += MEMPROC_CHUNK)
		memcpy(dst, buf + off, len - off < MEMPROC_CHUNK ? len - off : MEMPROC_CHUNK);
	__asm__ volatile("" : : "r"(dst) : "memory");	/* the copies are used */
	printf("memcpy_ns %lu\n", (unsigned long)(now(CLOCK_MONOTONIC) - t0));
	free(dst);

	snprintf(path, sizeof(path), "%s/memproc-limit.%d", dir, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	t0 = now(CLOCK_MONOTONIC);
	for (size_t off = 0; fd >= 0 && off < len;) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n <= 0)
			break;
		off += n;
	}
	printf("write_ns %lu\n", (unsigned long)(now(CLOCK_MONOTONIC) - t0));
	if (fd >= 0)
		close(fd);
	unlink(path);

	t0 = now(CLOCK_MONOTONIC);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	printf("fork_ns %lu\n", (unsigned long)(now(CLOCK_MONOTONIC) - t0));
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	const char *data = getenv("MEMPROC_DATA"), *dir = getenv("MEMPROC_LIMITS");
	const char *flags = getenv("MEMPROC_FLAGS"), *dirty = getenv("MEMPROC_DIRTY");
	struct ckpt_options o = { 0 };
	struct timespec ms = { 0, 1000000 };
	struct stat st;
	char base[4096];
	size_t len;
	unsigned char *buf;
	uint64_t h, t0, t1, t2, c0, c1, running;
	pthread_t th;
	int r;

	if (argc != 3)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	len = (size_t)atol(argv[1]) << 20;
	buf = malloc(len);
	if (!buf)
		return 2;
	fill(buf, len, data && !strcmp(data, "zero"));
	if (dir)
		limits(dir, buf, len);
	if (flags)
		o.flags = (unsigned)strtoul(flags, NULL, 0);
	if (dirty) {
		/* With CKPT_OPT_INCREMENTAL the first one is full and starts the tracking. */
		struct ckpt_options first = { .flags = o.flags };
		size_t step = 100 / (atoi(dirty) > 0 ? atoi(dirty) : 1);

		snprintf(base, sizeof(base), "%s.base", argv[2]);
		if (ckpt_save_opts(base, &first) != CKPT_SAVED) {
			fprintf(stderr, "memproc: first save: %s\n", ckpt_last_error());
			return 1;
		}
		for (size_t p = 0; p < len / 4096; p += step)
			((uint64_t *)(buf + p * 4096))[p % 512] ^= 0x5a5a5a5a5a5a5a5aULL + p;
	}
	h = sum((uint64_t *)buf, len / 8);

	pthread_create(&th, NULL, beat, NULL);
	nanosleep(&ms, NULL);
	nanosleep(&ms, NULL);
	beat_armed = 1;
	c0 = cpu_ns();
	t0 = now(CLOCK_MONOTONIC);
	r = ckpt_save_opts(argv[2], &o);
	t1 = now(CLOCK_MONOTONIC);
	c1 = cpu_ns();
	if (r == CKPT_SAVED) {
		while (stat(argv[2], &st) < 0 && now(CLOCK_MONOTONIC) - t0 < 600000000000ULL)
			nanosleep(&ms, NULL);
		t2 = now(CLOCK_MONOTONIC);
		nanosleep(&ms, NULL);
		nanosleep(&ms, NULL);
		beat_armed = 0;
		printf("save_ns %lu\ndone_ns %lu\npause_ns %lu\nsave_cpu_ns %lu\n",
		       (unsigned long)(t1 - t0), (unsigned long)(t2 - t0), (unsigned long)beat_max,
		       (unsigned long)(c1 - c0));
		beat_stop = 1;
		pthread_join(th, NULL);
		return 0;
	}
	if (r != CKPT_RESTORED) {
		fprintf(stderr, "memproc: %s\n", ckpt_last_error());
		return 1;
	}
	running = now(CLOCK_REALTIME);
	int ok = sum((uint64_t *)buf, len / 8) == h;
	printf("running_at_ns %lu\nverified_at_ns %lu\nverify %s\n", (unsigned long)running,
	       (unsigned long)now(CLOCK_REALTIME), ok ? "ok" : "BAD");
	return ok ? 0 : 1;
}
