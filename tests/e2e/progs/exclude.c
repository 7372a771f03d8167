/*
 * exclude.c - ckpt_exclude()/ckpt_include() (e2e t_exclude).  A 12-page
 * mapping whose middle 4 pages hold a secret, and 2 pages of heap
 * (aligned_alloc) holding another; the rest holds a known pattern.  The
 * secret is made at run time (the bytes of MARK, each +1), so its plain
 * text exists nowhere but in those pages: an image that holds it shows
 * it (t_exclude greps the uncompressed image).
 *
 *   exclude self IMG    exclude both, ckpt_save(IMG): the original keeps
 *                       its secrets (SAVED ok); the restarted copy finds
 *                       zeros there and the pattern around (RESTORED ok)
 *   exclude incr DIR    DIR/1 full with the secrets saved; exclude them;
 *                       DIR/2 incremental: its restart finds zeros (an
 *                       older image holds the secret, unused); DIR/4
 *                       incremental on 2, the same; include
 *                       them again, write "again"; DIR/3 (full: an include
 *                       puts back pages no image holds): its restart finds
 *                       the secret and "again".  Prints "SAVED n" / "RESTORED n ok"
 *   exclude serve DIR   excludes, READY, waits for DIR/go, then prints
 *                       "CHECK zero|secret pattern-ok|pattern-bad"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

#define PG	4096
/* "SECRET-libckpt-exclude-" less 1 per byte: the secret exists only once made */
#define MARK	"RDBQDS,khabjos,dwbktcd,"

static unsigned char *map, *heap;
static int stage;			/* which ckpt_save() the process is in */

static void fill_secret(unsigned char *p, size_t n)
{
	static const volatile char mark[] = MARK;	/* volatile: never folded into a literal */

	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(mark[i % (sizeof(mark) - 1)] + 1);
}

static int is(const unsigned char *p, size_t n, int v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static int pattern_ok(void)
{
	return is(map, 4 * PG, 0xa5) && is(map + 8 * PG, 4 * PG, 0x5a);
}

static void setup(void)
{
	map = mmap(NULL, 12 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	heap = aligned_alloc(PG, 2 * PG);
	if (map == MAP_FAILED || !heap) {
		printf("no memory\n");
		exit(1);
	}
	memset(map, 0xa5, 4 * PG);
	fill_secret(map + 4 * PG, 4 * PG);
	memset(map + 8 * PG, 0x5a, 4 * PG);
	fill_secret(heap, 2 * PG);
}

/* After ckpt_include: what the process holds is saved again, secret and "again". */
static int again_ok(void)
{
	static unsigned char want[4 * PG];

	fill_secret(want, sizeof(want));
	memcpy(want, "again", 5);
	return !memcmp(map + 4 * PG, want, 4 * PG) && !memcmp(heap, want, 2 * PG);
}

static int excl(int on)
{
	int (*f)(void *, size_t) = on ? ckpt_exclude : ckpt_include;

	if (f(map + 4 * PG, 4 * PG) < 0 || f(heap, 2 * PG) < 0) {
		perror(on ? "ckpt_exclude" : "ckpt_include");
		return -1;
	}
	return 0;
}

static const char *secret_state(size_t mlen, size_t hlen)
{
	return is(map + 4 * PG, mlen, 0) && is(heap, hlen, 0) ? "zero" : "secret";
}

static int save(const char *path, unsigned flags)
{
	struct ckpt_options o = { .flags = flags };
	int r = ckpt_save_opts(path, &o);

	if (r < 0) {
		printf("ckpt_save %s: %s\n", path, ckpt_last_error());
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	char path[4096];

	if (argc != 3)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
	/* the API's refusals */
	if (ckpt_exclude(map + 1, PG) == 0 || ckpt_exclude(map, 100) == 0 || ckpt_exclude(map, 0) == 0) {
		printf("BAD: an unaligned range was taken\n");
		return 1;
	}
	if (!strcmp(argv[1], "self")) {
		if (excl(1) < 0)
			return 1;
		if (save(argv[2], 0) == CKPT_SAVED)
			printf("SAVED %s\n", !strcmp(secret_state(4 * PG, 2 * PG), "secret") &&
			       pattern_ok() ? "ok" : "bad (the original lost data)");
		else
			printf("RESTORED %s\n", !strcmp(secret_state(4 * PG, 2 * PG), "zero") &&
			       pattern_ok() ? "ok" : "bad");
		return 0;
	}
	if (!strcmp(argv[1], "incr")) {
		snprintf(path, sizeof(path), "%s/1", argv[2]);
		stage = 1;
		if (save(path, CKPT_OPT_INCREMENTAL) == CKPT_RESTORED)
			goto restored;
		printf("SAVED 1\n");
		if (excl(1) < 0)
			return 1;
		map[0] = 0xa5;		/* a write: the VMA has dirty pages */
		snprintf(path, sizeof(path), "%s/2", argv[2]);
		stage = 2;
		if (save(path, CKPT_OPT_INCREMENTAL) == CKPT_RESTORED)
			goto restored;
		printf("SAVED 2\n");
		map[PG] = 0xa5;		/* image 4: 1 -> 2 -> 4, the secret still excluded */
		snprintf(path, sizeof(path), "%s/4", argv[2]);
		stage = 4;
		if (save(path, CKPT_OPT_INCREMENTAL) == CKPT_RESTORED)
			goto restored;
		printf("SAVED 4\n");
		if (excl(0) < 0)
			return 1;
		memcpy(map + 4 * PG, "again", 5);
		memcpy(heap, "again", 5);
		snprintf(path, sizeof(path), "%s/3", argv[2]);
		stage = 3;
		if (save(path, CKPT_OPT_INCREMENTAL) == CKPT_RESTORED)
			goto restored;
		printf("SAVED 3\n");
		return 0;
restored:
		if (stage == 1)
			printf("RESTORED 1 %s\n", !strcmp(secret_state(4 * PG, 2 * PG), "secret") &&
			       pattern_ok() ? "ok" : "bad");
		else if (stage == 2 || stage == 4)
			printf("RESTORED %d %s\n", stage, !strcmp(secret_state(4 * PG, 2 * PG), "zero") &&
			       pattern_ok() ? "ok" : "bad");
		else
			printf("RESTORED 3 %s\n", again_ok() && pattern_ok() ? "ok" : "bad");
		return 0;
	}
	if (!strcmp(argv[1], "serve")) {
		struct timespec ms = { 0, 1000000 };
		struct stat st;

		if (excl(1) < 0)
			return 1;
		printf("READY\n");
		fflush(stdout);
		snprintf(path, sizeof(path), "%s/go", argv[2]);
		while (stat(path, &st) < 0)
			nanosleep(&ms, NULL);
		printf("CHECK %s pattern-%s\n", secret_state(4 * PG, 2 * PG), pattern_ok() ? "ok" : "bad");
		return 0;
	}
	return 2;
}
