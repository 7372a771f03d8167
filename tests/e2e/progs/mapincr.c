/*
 * mapincr.c - incremental images of a process restored from a mappable
 * image (its memory is a private mapping of that image).
 *
 *   mapincr MAPPABLE FULL INCR
 * Fills 32 MiB, saves MAPPABLE with CKPT_OPT_MAPPABLE and exits ("SAVED").
 * The copy restarted from it saves FULL with CKPT_OPT_INCREMENTAL (the
 * first of a chain: full), changes one byte in every 10th page, saves
 * INCR (incremental, parent FULL) and exits ("CHAIN SAVED").  The copy
 * restarted from INCR checks its memory against the checksum taken just
 * before that save: "CHAIN RESTORED ok".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "ckpt.h"

#define LEN	(32u << 20)

static uint64_t sum(const unsigned char *p, size_t n)
{
	uint64_t h = 0;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

int main(int argc, char **argv)
{
	struct ckpt_options map = { .flags = CKPT_OPT_MAPPABLE };
	struct ckpt_options inc = { .flags = CKPT_OPT_INCREMENTAL };
	static uint64_t want;
	unsigned char *a;
	int r;

	if (argc != 4)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	a = malloc(LEN);
	for (size_t i = 0; i < LEN; i++)
		a[i] = (unsigned char)((i * 7) ^ (i >> 12));
	r = ckpt_save_opts(argv[1], &map);
	if (r == CKPT_SAVED) {
		printf("SAVED\n");
		return 0;
	}
	if (r != CKPT_RESTORED)
		goto fail;
	if (ckpt_save_opts(argv[2], &inc) != CKPT_SAVED)
		goto fail;
	for (size_t i = 0; i < LEN; i += 10 * 4096)
		a[i] ^= 0x55;
	want = sum(a, LEN);
	r = ckpt_save_opts(argv[3], &inc);
	if (r == CKPT_SAVED) {
		printf("CHAIN SAVED\n");
		return 0;
	}
	if (r != CKPT_RESTORED)
		goto fail;
	printf("CHAIN RESTORED %s\n", sum(a, LEN) == want ? "ok" : "BAD");
	return 0;
fail:
	printf("failed: %s\n", ckpt_last_error());
	return 1;
}
