/*
 * treeproc.c - the process-tree benchmark's workload (make bench, "trees").
 *
 *   treeproc N TOTAL_MIB DIR IMAGE
 * The root forks N-1 children; each of the N processes fills TOTAL_MIB/N
 * MiB of its own memory (half random, half text-like: what memproc.c
 * calls "mixed") and runs a heartbeat thread that beats every 1 ms.  Once
 * all are ready the root saves the whole tree with ckpt_save_opts(IMAGE,
 * TREEPROC_FLAGS) and prints:
 *   save_ns   the call (with CKPT_OPT_FORK: until the state is captured)
 *   done_ns   until IMAGE exists (complete)
 *   pause_ns  the longest heartbeat gap of any process around the save
 *             (every process writes its own to DIR/gap.I)
 * The restarted root prints running_at_ns (CLOCK_REALTIME) as soon as it
 * runs: a tree's processes all wait at ckpt-restart's last barrier, so
 * the root running means every process is back.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

static volatile uint64_t beat_max;
static const char *dir;

static uint64_t now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *beat(void *arg)
{
	struct timespec ms = { 0, 1000000 };
	uint64_t last = now(CLOCK_MONOTONIC);

	for (;;) {
		nanosleep(&ms, NULL);
		uint64_t t = now(CLOCK_MONOTONIC);

		if (t - last > beat_max)
			beat_max = t - last;
		last = t;
	}
	return arg;
}

static void fill(unsigned char *buf, size_t len, uint64_t seed)
{
	static const char *words[] = { "checkpoint ", "restart ", "memory ", "page ",
				       "the ", "of ", "process ", "image ", "and ", "kernel\n" };
	uint64_t x = 88172645463325252ULL ^ seed;
	size_t half = len / 2;

	for (size_t i = 0; i < half / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		((uint64_t *)buf)[i] = x;
	}
	for (size_t i = half; i < len;) {
		const char *w = words[(i * 7 + (i >> 9)) % 10];
		size_t n = strlen(w);

		if (n > len - i)
			n = len - i;
		memcpy(buf + i, w, n);
		i += n;
	}
}

static int exists(const char *name)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void touch(const char *name, const char *text)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((f = fopen(p, "w"))) {
		fputs(text, f);
		fclose(f);
	}
}

static void ms(int n)
{
	struct timespec t = { 0, n * 1000000L };

	nanosleep(&t, NULL);
}

/* A process of the tree: its memory, its heartbeat; until the save, then its gap. */
static unsigned char *member(int i, size_t len)
{
	unsigned char *buf = malloc(len);
	pthread_t t;
	char name[32];

	if (!buf)
		exit(2);
	fill(buf, len, (uint64_t)i);
	pthread_create(&t, NULL, beat, NULL);
	ms(20);
	beat_max = 0;
	snprintf(name, sizeof(name), "ready.%d", i);
	touch(name, "");
	return buf;
}

int main(int argc, char **argv)
{
	struct ckpt_options o = { 0 };
	const char *flags = getenv("TREEPROC_FLAGS");
	uint64_t t0, t1, worst = 0;
	size_t len;
	char name[32], gap[32];
	int n, r;
	struct stat st;

	if (argc != 5)
		return 2;
	n = atoi(argv[1]);
	dir = argv[3];
	len = ((size_t)atol(argv[2]) << 20) / (size_t)(n > 0 ? n : 1);
	o.flags = flags ? (unsigned)strtoul(flags, NULL, 0) : 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < n; i++) {
		if (fork() == 0) {
			member(i, len);
			while (!exists("saved"))
				ms(1);
			snprintf(name, sizeof(name), "gap.%d", i);
			snprintf(gap, sizeof(gap), "%lu", (unsigned long)beat_max);
			touch(name, gap);
			for (;;)
				pause();	/* until the bench kills the tree */
		}
	}
	member(0, len);
	for (int i = 1; i < n; i++) {
		snprintf(name, sizeof(name), "ready.%d", i);
		while (!exists(name))
			ms(1);
	}
	ms(50);
	t0 = now(CLOCK_MONOTONIC);
	r = ckpt_save_opts(argv[4], &o);
	t1 = now(CLOCK_MONOTONIC);
	if (r == CKPT_RESTORED) {
		printf("running_at_ns %lu\n", (unsigned long)now(CLOCK_REALTIME));
		return 0;
	}
	if (r != CKPT_SAVED) {
		printf("error %s\n", ckpt_last_error());
		return 1;
	}
	while (stat(argv[4], &st) < 0)
		ms(1);
	printf("save_ns %lu\ndone_ns %lu\n", (unsigned long)(t1 - t0),
	       (unsigned long)(now(CLOCK_MONOTONIC) - t0));
	ms(20);
	worst = beat_max;
	touch("saved", "");
	for (int i = 1; i < n; i++) {
		FILE *f;
		unsigned long g = 0;

		snprintf(name, sizeof(name), "%s/gap.%d", dir, i);
		while (!(f = fopen(name, "r")))
			ms(1);
		while (fscanf(f, "%lu", &g) != 1) {
			fclose(f);
			ms(1);
			if (!(f = fopen(name, "r")))
				break;
		}
		if (f)
			fclose(f);
		if (g > worst)
			worst = g;
	}
	printf("pause_ns %lu\n", (unsigned long)worst);
	fflush(stdout);
	for (;;)
		pause();		/* until the bench kills the tree */
}
