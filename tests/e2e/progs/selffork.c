/*
 * selffork.c - ckpt_save() with CKPT_OPT_FORK: the call returns once the
 * state is captured and a forked copy writes the pages.
 *
 *   selffork MIB IMAGE
 * Fills MIB MiB with 1s and saves with CKPT_OPT_FORK.  The original then
 * overwrites every word with 2 at once, racing the copy that is still
 * writing, waits for IMAGE to appear (the copy renames it into place when
 * done) and prints "SAVED".  The restored process must see only 1s: the
 * memory of the instant of the call ("RESTORED ok").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include "ckpt.h"

int main(int argc, char **argv)
{
	struct ckpt_options o = { .flags = CKPT_OPT_FORK };
	struct timespec ms = { 0, 1000000 };
	struct stat st;
	size_t n;
	uint64_t *a;
	int r;

	if (argc != 3)
		return 2;
	n = ((size_t)atol(argv[1]) << 20) / 8;
	a = mmap(NULL, n * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return 2;
	for (size_t i = 0; i < n; i++)
		a[i] = 1;
	r = ckpt_save_opts(argv[2], &o);
	if (r == CKPT_SAVED) {
		for (size_t i = 0; i < n; i++)
			((volatile uint64_t *)a)[i] = 2;
		for (int i = 0; i < 20000 && stat(argv[2], &st) < 0; i++)
			nanosleep(&ms, NULL);
		printf(stat(argv[2], &st) == 0 ? "SAVED\n" : "NO IMAGE\n");
		return 0;
	}
	if (r != CKPT_RESTORED) {
		fprintf(stderr, "selffork: %s\n", ckpt_last_error());
		return 1;
	}
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += a[i] != 1;
	printf("RESTORED %s (%zu words differ)\n", bad ? "BAD" : "ok", bad);
	return bad != 0;
}
