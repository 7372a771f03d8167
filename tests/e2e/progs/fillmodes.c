/*
 * fillmodes.c - memory that ckpt-restart's ways of filling staging
 * (restart/restart_fill.c, CKPT_FILL) must all give back the same:
 *
 *   A  16 MiB, 2 MiB aligned, every page written: 8 MiB random, 8 MiB
 *      text (whole windows: huge pages with CKPT_FILL=thp)
 *   B  2 MiB, aligned, every third page never touched (those must come
 *      back missing: mincore), the rest random; one page written with
 *      zeros (saved as nothing, reads back zero)
 *   C  2 MiB, aligned, MADV_NOHUGEPAGE, all written (no window; the
 *      flag stays)
 *   D  4 MiB + 3 pages at 12 KiB past a 2 MiB boundary, all written
 *      (records cut at 64-page boundaries of address, windows from the
 *      first aligned 2 MiB on)
 *
 *   fillmodes IMAGE   saves itself with ckpt_save(IMAGE); prints SAVED,
 *                     and in the restarted copy "RESTORED ok huge=KB"
 *                     (AnonHugePages of A) or "RESTORED BAD: why".
 * Exit status 0 when all is as it was.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "ckpt.h"

#define MIB	(1ul << 20)
#define WIN	(2 * MIB)
#define PG	4096ul

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static void random_fill(unsigned char *p, size_t n, uint64_t *x)
{
	for (size_t i = 0; i < n / 8; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		memcpy(p + 8 * i, x, 8);
	}
}

static void text_fill(unsigned char *p, size_t n)
{
	static const char *w[] = { "restart ", "page ", "fill ", "huge ", "window\n" };

	for (size_t i = 0; i < n;) {
		const char *s = w[(i / 7 + i / 4096) % 5];
		size_t k = strlen(s) < n - i ? strlen(s) : n - i;

		memcpy(p + i, s, k);
		i += k;
	}
}

/* An anonymous mapping of len at an offset `skew` past a 2 MiB boundary. */
static unsigned char *map_at(size_t len, size_t skew)
{
	unsigned char *m = mmap(NULL, len + 2 * WIN, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *a;

	if (m == MAP_FAILED)
		exit(2);
	a = (unsigned char *)(((uintptr_t)m + WIN - 1) & ~(uintptr_t)(WIN - 1)) + skew;
	/* leave a guard gap on both sides so no neighbour merges with it */
	if (a - PG > m)
		munmap(m, a - PG - m);
	munmap(a + len + PG, m + len + 2 * WIN - (a + len + PG));
	munmap(a - PG, PG);
	munmap(a + len, PG);
	return a;
}

/* The VmFlags and AnonHugePages (kB) of the mapping at a, from smaps. */
static int smaps_of(const void *a, char *flags, size_t cap, long *huge)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;

	*huge = 0;
	flags[0] = '\0';
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		/* a mapping's line; no key line ("Name:   value") reads as hex-hex */
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {
			in = (uintptr_t)a >= s && (uintptr_t)a < e;
			continue;
		}
		if (in && !strncmp(line, "AnonHugePages:", 14))
			*huge = strtol(line + 14, NULL, 10);
		if (in && !strncmp(line, "VmFlags:", 8))
			snprintf(flags, cap, "%s", line + 8);
	}
	fclose(f);
	return 0;
}

static int bad(const char *why)
{
	printf("RESTORED BAD: %s\n", why);
	return 1;
}

int main(int argc, char **argv)
{
	unsigned char *a = map_at(16 * MIB, 0), *b = map_at(WIN, 0), *c = map_at(WIN, 0);
	unsigned char *d = map_at(4 * MIB + 3 * PG, 3 * PG);
	uint64_t x = 0x9e3779b97f4a7c15ULL, ha, hb, hc, hd;
	unsigned char vec[WIN / PG];
	char flags[256];
	long huge;
	int r;

	if (argc != 2)
		return 2;
	random_fill(a, 8 * MIB, &x);
	text_fill(a + 8 * MIB, 8 * MIB);
	for (size_t p = 0; p < WIN / PG; p++)
		if (p % 3)
			random_fill(b + p * PG, PG, &x);
	memset(b + 4 * PG, 0, PG);		/* written, zero: page 4 (4 % 3 != 0) */
	madvise(c, WIN, MADV_NOHUGEPAGE);
	text_fill(c, WIN);
	random_fill(d, 2 * MIB, &x);
	text_fill(d + 2 * MIB, 2 * MIB + 3 * PG);
	ha = fnv(a, 16 * MIB);
	hb = fnv(b, WIN);
	hc = fnv(c, WIN);
	hd = fnv(d, 4 * MIB + 3 * PG);

	r = ckpt_save(argv[1]);
	if (r == CKPT_SAVED) {
		printf("SAVED\n");
		return 0;
	}
	if (r != CKPT_RESTORED) {
		fprintf(stderr, "fillmodes: %s\n", ckpt_last_error());
		return 1;
	}
	/* B's holes first: reading the others does not fault B's in */
	if (mincore(b, WIN, vec) < 0)
		return bad("mincore");
	for (size_t p = 0; p < WIN / PG; p++)
		if (!(p % 3) && (vec[p] & 1))
			return bad("a page never touched came back resident");
	if (fnv(a, 16 * MIB) != ha)
		return bad("A differs");
	if (fnv(b, WIN) != hb)
		return bad("B differs");
	if (fnv(c, WIN) != hc)
		return bad("C differs");
	if (fnv(d, 4 * MIB + 3 * PG) != hd)
		return bad("D differs");
	if (smaps_of(c, flags, sizeof(flags), &huge) < 0 || !strstr(flags, " nh"))
		return bad("C lost MADV_NOHUGEPAGE");
	if (smaps_of(d, flags, sizeof(flags), &huge) < 0 || strstr(flags, " hg"))
		return bad("D has MADV_HUGEPAGE it never had");
	if (smaps_of(a, flags, sizeof(flags), &huge) < 0 || strstr(flags, " hg"))
		return bad("A has MADV_HUGEPAGE it never had");
	printf("RESTORED ok huge=%ld\n", huge);
	return 0;
}
