/*
 * incr.c - memory that changes between checkpoints, for incremental
 * chains (tests/e2e/t_incremental.sh).
 *
 *   incr self DIR N        links 1..N: change, then
 *                          ckpt_save_opts(DIR/img.K, CKPT_OPT_INCREMENTAL)
 *   incr ext DIR N         links 1..N: change, print READY, wait until
 *                          DIR/go.K exists (ckpt-save --incremental runs
 *                          meanwhile), go on
 *
 * Changes at link K (deterministic PRNG, state in memory): random pages
 * of a 32 MiB area rewritten (some with zeros), a random run of pages
 * zapped with MADV_DONTNEED, a page filled by read(2) from /dev/urandom
 * (a write by the kernel), heap and bss pages; at link 3 an area is
 * unmapped and mapped again at the same address with new data, at link 5
 * one is moved with mremap, at link 6 a new one appears, at link 11 every
 * fd above 2 is closed (libckpt's userfaultfd too) and /dev/null opened
 * as fd 3, link 13 is saved without CKPT_OPT_INCREMENTAL (a full image).
 *
 * Prints "SAVED K SUM" (self) or "READY K SUM" (ext) before each save,
 * SUM a hash of every area.  A copy restarted from link K prints
 * "RESTORED K SUM" (self; then it goes on: two more incremental saves,
 * DIR/post.1 and DIR/post.2, each with its SAVED line, and exits) or,
 * once DIR/go.K exists, "CHECK K SUM" (ext).  The test compares the SUMs.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

#define PG	4096
#define A_PAGES	(32 * 256)		/* 32 MiB */
#define S_PAGES	256			/* 1 MiB */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned char *area_a, *area_c, *area_d, *area_e, *heap;
static unsigned char bss[8 * PG];

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t v = next();

		memcpy(p + i, &v, 8);
	}
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static uint64_t sum(void)
{
	uint64_t h = 1469598103934665603ULL;

	h = fnv(h, area_a, (size_t)A_PAGES * PG);
	h = fnv(h, area_c, S_PAGES * PG);
	h = fnv(h, area_d, S_PAGES * PG);
	if (area_e)
		h = fnv(h, area_e, S_PAGES * PG);
	h = fnv(h, heap, S_PAGES * PG);
	h = fnv(h, bss, sizeof(bss));
	return h;
}

static void *map(size_t len, void *at)
{
	void *p = mmap(at, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED : 0), -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(3);
	}
	return p;
}

static void change(int k)
{
	/* random pages: data, and now and then zeros over data */
	for (int i = 0; i < 200; i++) {
		unsigned char *pg = area_a + (next() % A_PAGES) * PG;

		if (next() % 8 == 0)
			memset(pg, 0, PG);
		else
			fill(pg, PG);
	}
	/* a zapped run: reads as zero from now on */
	uint64_t z = next() % (A_PAGES - 64);
	madvise(area_a + z * PG, (1 + next() % 40) * PG, MADV_DONTNEED);
	/* a write by the kernel */
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, area_a + (next() % A_PAGES) * PG, PG) != PG) {
		perror("urandom");
		exit(3);
	}
	close(fd);
	fill(heap + (next() % S_PAGES) * PG, PG);
	fill(bss + (next() % 8) * PG, 64);
	fill(area_d + (next() % S_PAGES) * PG, PG);
	if (k == 3) {			/* unmapped and mapped again, same place */
		munmap(area_c, S_PAGES * PG);
		area_c = map(S_PAGES * PG, area_c);
		for (int i = 0; i < S_PAGES; i += 2)
			fill(area_c + i * PG, PG);
	}
	if (k == 5) {			/* moved */
		unsigned char *to = map(S_PAGES * PG, NULL);

		area_d = mremap(area_d, S_PAGES * PG, S_PAGES * PG, MREMAP_MAYMOVE | MREMAP_FIXED, to);
		if (area_d == MAP_FAILED) {
			perror("mremap");
			exit(3);
		}
	}
	if (k == 11) {
		/*
		 * Every fd above 2 closed (libckpt's tracking userfaultfd with
		 * them: the tracking is lost), and the number reused by a file
		 * of the application's, which the image must keep.
		 */
		syscall(SYS_close_range, 3, ~0u, 0);
		if (open("/dev/null", O_RDONLY) != 3) {
			perror("/dev/null as fd 3");
			exit(3);
		}
	}
	if (k == 6) {			/* new */
		area_e = map(S_PAGES * PG, NULL);
		fill(area_e, S_PAGES * PG / 2);
	}
}

static void path_of(char *buf, size_t len, const char *dir, const char *what, int k)
{
	snprintf(buf, len, "%s/%s.%d", dir, what, k);
}

static int save(const char *dir, const char *what, int k)
{
	/* link 13 is a plain (full) save while the tracking runs */
	struct ckpt_options o = { .flags = k == 13 && !strcmp(what, "img") ? 0 : CKPT_OPT_INCREMENTAL };
	char path[4096];
	int r;

	path_of(path, sizeof(path), dir, what, k);
	printf("SAVED %d %016llx\n", k, (unsigned long long)sum());
	fflush(stdout);
	r = ckpt_save_opts(path, &o);
	if (r < 0) {
		fprintf(stderr, "ckpt_save %s: %s\n", path, ckpt_last_error());
		exit(4);
	}
	return r;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int main(int argc, char **argv)
{
	int self, n;

	if (argc != 4 || (strcmp(argv[1], "self") && strcmp(argv[1], "ext")))
		return 2;
	self = !strcmp(argv[1], "self");
	n = atoi(argv[3]);
	area_a = map((size_t)A_PAGES * PG, NULL);
	for (int i = 0; i < A_PAGES; i += 2)
		fill(area_a + (size_t)i * PG, PG);
	area_c = map(S_PAGES * PG, NULL);
	area_d = map(S_PAGES * PG, NULL);
	fill(area_d, S_PAGES * PG);
	heap = malloc(S_PAGES * PG);
	fill(heap, S_PAGES * PG);

	for (int k = 1; k <= n; k++) {
		change(k);
		if (self) {
			if (save(argv[2], "img", k) == CKPT_RESTORED) {
				printf("RESTORED %d %016llx\n", k, (unsigned long long)sum());
				/* a restarted process goes on saving incrementally */
				change(100 + k);
				if (save(argv[2], "post", 1) == CKPT_RESTORED) {
					printf("RESTORED post.1 %016llx\n", (unsigned long long)sum());
					return 0;
				}
				change(200 + k);
				if (save(argv[2], "post", 2) == CKPT_RESTORED)
					printf("RESTORED post.2 %016llx\n", (unsigned long long)sum());
				return 0;
			}
		} else {
			char go[4096];
			struct timespec ms = { 0, 1000000 };

			path_of(go, sizeof(go), argv[2], "go", k);
			printf("READY %d %016llx\n", k, (unsigned long long)sum());
			fflush(stdout);
			while (!exists(go))
				nanosleep(&ms, NULL);
			printf("CHECK %d %016llx\n", k, (unsigned long long)sum());
			fflush(stdout);
		}
	}
	printf("DONE\n");
	return 0;
}
