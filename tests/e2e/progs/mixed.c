/*
 * mixed.c - a few hundred MiB of page data of every kind the parallel
 * compressor meets, saved and restored byte for byte.
 *
 *   mixed MIB IMAGE   saves itself with ckpt_save(IMAGE)
 *   mixed MIB -       waits for a transparent checkpoint (ckpt-save)
 *
 * The region is cut into 256 KiB blocks (one PAGES record each at most)
 * whose kind cycles through: random (incompressible: the fast path),
 * text (compresses), all zeros (skipped), half random / half text (a run
 * whose first fragment is incompressible and middle sample is not),
 * random with one text page at 64 KiB (the probes miss it: stored raw),
 * and a 4 KiB random page repeated (compresses only across pages, which
 * the first-fragment probe sees).  A digest of each MiB is kept in a
 * separate small table.
 *
 * Self mode prints "SAVED threads=N" (N: the threads /proc/self/task
 * lists right after the save, to prove the compression workers are gone)
 * and, in the restarted copy, "RESTORED ok" or "RESTORED BAD at MiB k".
 * Wait mode prints "READY", then waits for SIGUSR1 (sent to the restarted
 * copy) and prints "VERIFY ok" or "VERIFY BAD at MiB k".  Exit status 0
 * when all is equal.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "ckpt.h"

#define MIB	(1u << 20)
#define BLOCK	(256u << 10)
#define PG	4096

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

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

static void text_fill(unsigned char *p, size_t n, uint64_t *x)
{
	static const char *words[] = { "parallel ", "snappy ", "page ", "worker ",
				       "ring ", "slot ", "futex ", "crc\n" };
	size_t i = 0;

	while (i < n) {
		const char *w;
		size_t k;

		*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
		w = words[*x >> 61];
		k = strlen(w);
		if (k > n - i)
			k = n - i;
		memcpy(p + i, w, k);
		i += k;
	}
}

static void fill_block(unsigned char *b, unsigned kind, uint64_t *x)
{
	switch (kind % 6) {
	case 0:
		random_fill(b, BLOCK, x);
		break;
	case 1:
		text_fill(b, BLOCK, x);
		break;
	case 2:
		memset(b, 0, BLOCK);
		break;
	case 3:
		random_fill(b, BLOCK / 2, x);
		text_fill(b + BLOCK / 2, BLOCK / 2, x);
		break;
	case 4:
		random_fill(b, BLOCK, x);
		text_fill(b + BLOCK / 4, PG, x);
		break;
	case 5:
		random_fill(b, PG, x);
		for (size_t o = PG; o < BLOCK; o += PG)
			memcpy(b + o, b, PG);
		break;
	}
}

static int task_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* The first MiB whose digest differs, or -1. */
static long verify(const unsigned char *p, size_t mib, const uint64_t *sums)
{
	for (size_t i = 0; i < mib; i++)
		if (fnv(p + i * MIB, MIB) != sums[i])
			return (long)i;
	return -1;
}

int main(int argc, char **argv)
{
	size_t mib, len;
	unsigned char *p;
	uint64_t *sums, x = 0x9e3779b97f4a7c15ULL;
	long bad;
	int r;

	if (argc != 3)
		return 2;
	mib = strtoul(argv[1], NULL, 10);
	len = mib * MIB;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sums = calloc(mib, sizeof(*sums));
	if (p == MAP_FAILED || !sums)
		return 2;
	for (size_t b = 0; b < len / BLOCK; b++)
		fill_block(p + b * BLOCK, (unsigned)b, &x);
	for (size_t i = 0; i < mib; i++)
		sums[i] = fnv(p + i * MIB, MIB);

	if (strcmp(argv[2], "-") != 0) {
		r = ckpt_save(argv[2]);
		if (r == CKPT_SAVED) {
			printf("SAVED threads=%d\n", task_count());
			return 0;
		}
		if (r != CKPT_RESTORED) {
			printf("ckpt_save failed: %s\n", ckpt_last_error());
			return 1;
		}
		bad = verify(p, mib, sums);
		if (bad < 0)
			printf("RESTORED ok\n");
		else
			printf("RESTORED BAD at MiB %ld\n", bad);
		return bad < 0 ? 0 : 1;
	}

	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	signal(SIGUSR1, on_usr1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	printf("READY\n");
	fflush(stdout);
	while (!go)
		sigsuspend(&old);
	bad = verify(p, mib, sums);
	if (bad < 0)
		printf("VERIFY ok threads=%d\n", task_count());
	else
		printf("VERIFY BAD at MiB %ld\n", bad);
	return bad < 0 ? 0 : 1;
}
