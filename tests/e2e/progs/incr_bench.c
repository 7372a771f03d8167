/*
 * incr_bench.c - the "incremental after 1 % of pages changed" figure.
 *
 *   incr_bench MIB DIR [PERCENT]
 * Fills MIB MiB (half random bytes, half text-like words, like
 * tests/bench/memproc), saves DIR/full with CKPT_OPT_INCREMENTAL (the
 * first such save is full and starts the tracking), rewrites PERCENT %
 * (default 1) of the pages, chosen at random, with random bytes, and
 * saves DIR/incr (incremental, parent DIR/full).  Prints
 *   full_save_ns N / incr_save_ns N / sum HASH
 * and, in a copy restarted from DIR/incr,
 *   running_at_ns T (CLOCK_REALTIME) / verified_at_ns T / verify ok|BAD
 * where "verify" re-hashes all the memory and compares with the hash
 * taken before the save.
 *
 *   incr_bench MIB DIR PERCENT hold
 * The pre-dump workflow, saved from outside: fills, prints READY, waits
 * until DIR/go exists (ckpt-save --pre-dump runs meanwhile), changes
 * PERCENT % of the pages, prints CHANGED (ckpt-save --incremental --exit
 * now), then waits until DIR/verify exists and prints "verify ok|BAD"
 * (in the copy restarted from the final image).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include "ckpt.h"

#define PG 4096

static uint64_t now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t x = 88172645463325252ULL;

static uint64_t rnd(void)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

static uint64_t sum(const uint64_t *p, size_t n)
{
	uint64_t h = 0;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static int save(const char *dir, const char *name, uint64_t *ns)
{
	struct ckpt_options o = { .flags = CKPT_OPT_INCREMENTAL };
	char path[4096];
	uint64_t t0 = now(CLOCK_MONOTONIC);
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = ckpt_save_opts(path, &o);
	*ns = now(CLOCK_MONOTONIC) - t0;
	if (r < 0) {
		fprintf(stderr, "ckpt_save %s: %s\n", path, ckpt_last_error());
		exit(2);
	}
	return r;
}

static void await(const char *dir, const char *name)
{
	struct timespec ms = { 0, 1000000 };
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	while (stat(path, &st) < 0)
		nanosleep(&ms, NULL);
}

static void change(unsigned char *buf, size_t npages, size_t nchange)
{
	for (size_t k = 0; k < nchange; k++) {
		unsigned char *pg = buf + (rnd() % npages) * PG;

		for (size_t i = 0; i < PG; i += 8) {
			uint64_t v = rnd();

			memcpy(pg + i, &v, 8);
		}
	}
}

int main(int argc, char **argv)
{
	static const char *words[] = { "checkpoint ", "restart ", "memory ", "page ",
				       "the ", "of ", "process ", "image ", "and ", "kernel\n" };
	size_t len, half, npages, nchange;
	unsigned char *buf;
	uint64_t h, t_full, t_incr, running;
	double pct;

	if (argc < 3 || argc > 5)
		return 1;
	len = (size_t)atol(argv[1]) << 20;
	pct = argc == 4 ? atof(argv[3]) : 1.0;
	half = len / 2;
	npages = len / PG;
	nchange = (size_t)(npages * pct / 100.0);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	for (size_t i = 0; i + 8 <= half; i += 8) {
		uint64_t v = rnd();

		memcpy(buf + i, &v, 8);
	}
	for (size_t i = half; i < len;) {
		const char *w = words[rnd() % 10];
		size_t n = strlen(w);

		if (n > len - i)
			n = len - i;
		memcpy(buf + i, w, n);
		i += n;
	}
	if (argc == 5) {			/* hold: saved from outside */
		setvbuf(stdout, NULL, _IONBF, 0);
		printf("READY\n");
		await(argv[2], "go");
		change(buf, npages, nchange);
		h = sum((const uint64_t *)buf, len / 8);
		printf("CHANGED\n");
		await(argv[2], "verify");
		printf("verify %s\n", sum((const uint64_t *)buf, len / 8) == h ? "ok" : "BAD");
		return 0;
	}
	if (save(argv[2], "full", &t_full) == CKPT_RESTORED)
		return 3;			/* not the figure wanted */
	change(buf, npages, nchange);
	h = sum((const uint64_t *)buf, len / 8);
	if (save(argv[2], "incr", &t_incr) == CKPT_RESTORED) {
		running = now(CLOCK_REALTIME);
		printf("running_at_ns %llu\n", (unsigned long long)running);
		int ok = sum((const uint64_t *)buf, len / 8) == h;
		printf("verified_at_ns %llu\nverify %s\n", (unsigned long long)now(CLOCK_REALTIME),
		       ok ? "ok" : "BAD");
		return !ok;
	}
	printf("pages %zu changed %zu\nfull_save_ns %llu\nincr_save_ns %llu\n", npages, nchange,
	       (unsigned long long)t_full, (unsigned long long)t_incr);
	return 0;
}
