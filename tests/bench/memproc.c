/*
 * memproc.c - the checkpoint/restart benchmark's workload.
 *
 *   memproc MIB IMAGE
 * MEMPROC_FLAGS (environment): ckpt_options.flags for the save, a number
 * (CKPT_OPT_* of include/ckpt.h), so every mode is timed by one program.
 * Fills MIB MiB of heap, half with random bytes and half with text-like
 * data (words from a small vocabulary), checksums it, and saves itself
 * with ckpt_save(IMAGE), timing the call.  The restarted copy prints when
 * it is running again (CLOCK_REALTIME, to compare with the time the
 * restart began) and when it has read back and verified every byte.
 *
 * Output lines (key value): save_ns, image_bytes(by the runner),
 * running_at_ns, verified_at_ns, verify ok|BAD.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "ckpt.h"

static uint64_t now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t sum(const uint64_t *p, size_t n)
{
	uint64_t h = 0;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

int main(int argc, char **argv)
{
	static const char *words[] = { "checkpoint ", "restart ", "memory ", "page ",
				       "the ", "of ", "process ", "image ", "and ", "kernel\n" };
	size_t len, half;
	unsigned char *buf;
	uint64_t x = 88172645463325252ULL, h, t0, t1, running;
	int r;

	if (argc != 3)
		return 2;
	len = (size_t)atol(argv[1]) << 20;
	half = len / 2;
	buf = malloc(len);
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
	h = sum((uint64_t *)buf, len / 8);

	struct ckpt_options o = { 0 };
	const char *flags = getenv("MEMPROC_FLAGS");

	if (flags)
		o.flags = (unsigned)strtoul(flags, NULL, 0);
	t0 = now(CLOCK_MONOTONIC);
	r = ckpt_save_opts(argv[2], &o);
	t1 = now(CLOCK_MONOTONIC);
	if (r == CKPT_SAVED) {
		printf("save_ns %lu\n", (unsigned long)(t1 - t0));
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
